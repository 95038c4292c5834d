// End-to-end: Web Push on a paired phone (390×844, Chromium), against the real host, real Aider
// and the Messages API stand-in, with the production build served by the host at /app/ (so the
// service worker registers).
//
// Headless Chromium has no push service it could reach here (and none at all in Playwright's
// incognito-like contexts), so:
// - Settings' Notifications section is checked where it cannot be on (the master key, plain http
//   on a name) and, in a real context, that the browser's refusal to subscribe is shown readably;
// - on the phone, `PushManager` is replaced (an init script of this test, nothing in the app) by
//   one whose subscriptions point at the stand-in push service (tests/fake-push, run as a
//   process: it checks the VAPID signature and decrypts the payload as the browser would). Turning notifications on,
//   choosing events and turning them off then go through the real page and the real host;
// - a real turn finishes on the host, whose push reaches the stand-in; its decrypted payload is
//   handed to the page's service worker with the DevTools protocol
//   (`ServiceWorker.deliverPushMessage`), and the notification is read back with
//   `registration.getNotifications()`. Chromium exposes no click on a notification over CDP: the
//   deep link is checked on the notification, and the worker's own `openApp` (what its
//   notificationclick handler runs) is called in the worker to see the page land on the session.
// Screenshots go to target/e2e-artifacts/push-*.png.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, KEY, buildAll, cleanup, fixtureRepo, launchBrowser, log, phoneContext, shot, startFakeClaude, startFakePush, startHost, tempDir } from './harness.mjs';

const edit = (path, search, replace) => `Done.\n\n${path}\n\`\`\`\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;

/**
 * The page's `PushManager`, standing in for Chromium's (whose push service is out of reach): it
 * "subscribes" to the test's push service and keeps the subscription across reloads, as the
 * browser would. What the page asked for is kept in `window.__push`.
 */
function fakePushManager(sub) {
  const STORE = 'e2e.push-subscription';
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  window.__push = { subscribe: [], unsubscribed: 0 };
  const make = (serverKey) => ({
    endpoint: sub.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: bytes(serverKey).buffer },
    getKey: (name) => bytes(sub.keys[name]).buffer,
    toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: { ...sub.keys } }),
    unsubscribe: async () => {
      localStorage.removeItem(STORE);
      window.__push.unsubscribed++;
      return true;
    },
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = b64url(options.applicationServerKey);
    window.__push.subscribe.push({ userVisibleOnly: options.userVisibleOnly, applicationServerKey: key });
    localStorage.setItem(STORE, key);
    return make(key);
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem(STORE);
    return key ? make(key) : null;
  };
}

/** On a pairing link: name this device, pair; lands on the sessions. Answers its credentials. */
async function pair(page, link, name) {
  await page.goto(link);
  await page.locator('#device-name').waitFor();
  await page.fill('#device-name', name);
  await page.getByRole('button', { name: 'Pair this device' }).click();
  await page.getByRole('heading', { name: 'Sessions' }).waitFor();
  return page.evaluate(() => JSON.parse(localStorage.getItem('arcbench.host') ?? 'null'));
}

/** The host's push subscription routes, as a device (its own key). */
async function asDevice(base, key, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Settings, opened afresh (so its sections read the host's state again). */
async function openSettings(page, base) {
  const url = `${base}/app/#/settings`;
  if (page.url() === url) await page.reload();
  else await page.goto(url);
  await page.getByRole('heading', { name: 'Notifications' }).waitFor();
  await page.locator('[data-testid=push-settings]:not([data-state=loading])').waitFor();
}

/** The page's notifications, as the service worker showed them. */
function notifications(page) {
  return page.evaluate(async () =>
    (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon, data: n.data })),
  );
}

const state = {};

function scenario(name, body) {
  return async () => {
    try {
      await body();
    } catch (e) {
      for (const [label, page] of Object.entries(state.pages ?? {})) await shot(page, `push-FAILED-${name}-${label}`).catch(() => undefined);
      throw e;
    }
  };
}

describe('web push on a paired phone', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    buildAll();
    state.claude = await startFakeClaude();
    state.repo = fixtureRepo();
    // arcbench-desk.test: a name for the host that is not loopback, so a page on it over plain
    // http is not a secure context (Chromium maps it to 127.0.0.1).
    state.host = await startHost({ repo: state.repo, data: tempDir('data'), claudeUrl: state.claude.url, args: ['--allow-host', 'arcbench-desk.test'] });
    state.push = await startFakePush();
    log(`host at ${state.host.base}; push service at ${state.push.base}; screenshots in ${ARTIFACTS}`);
    state.browser = await launchBrowser();
    state.errors = [];
    state.pages = {};
  });

  after(async () => {
    await state.push?.close();
    await cleanup();
  });

  it('says why not where notifications cannot be: the master key, plain http', { timeout: 120_000 }, scenario('unavailable', async () => {
    const { host, browser } = state;
    // The master key pasted by hand: it belongs to no device, and the host says so too.
    const context = await phoneContext(browser);
    const page = await context.newPage();
    state.pages.master = page;
    page.on('pageerror', (e) => state.errors.push(e.message));
    await page.goto(`${host.base}/app/`);
    await page.fill('#pair-input', KEY);
    await page.getByRole('button', { name: 'Pair', exact: true }).click();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await openSettings(page, host.base);
    const why = page.locator('[data-testid=push-unavailable]');
    assert.equal(await why.getAttribute('data-reason'), 'no-device');
    assert.match(await why.innerText(), /^Sign in with a paired device/);
    assert.equal(await page.locator('[data-testid=push-switch]').count(), 0, 'no switch where it cannot work');
    await why.scrollIntoViewIfNeeded();
    await shot(page, 'push-01-master-key');
    const refused = await asDevice(host.base, KEY, 'GET', '/push/subscription');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 'bad_request');
    await context.close();

    // Plain http on a name (not loopback): no secure context, so no service worker, no push.
    const lan = await launchBrowser(['--host-resolver-rules=MAP arcbench-desk.test 127.0.0.1']);
    const lanContext = await phoneContext(lan);
    const lanPage = await lanContext.newPage();
    state.pages.lan = lanPage;
    const lanBase = `http://arcbench-desk.test:${host.port}`;
    const code = await host.pairingCode();
    await pair(lanPage, `${lanBase}/app/#/pair?code=${encodeURIComponent(code.code)}`, 'E2E laptop over http');
    assert.equal(await lanPage.evaluate(() => isSecureContext), false);
    await openSettings(lanPage, lanBase);
    const lanWhy = lanPage.locator('[data-testid=push-unavailable]');
    assert.equal(await lanWhy.getAttribute('data-reason'), 'insecure');
    assert.match(await lanWhy.innerText(), /^Needs HTTPS: .*tailnet name/);
    await lanWhy.scrollIntoViewIfNeeded();
    await shot(lanPage, 'push-02-insecure');
    await lanContext.close();
  }));

  it('in a real Chromium context: the section reflects the host, and the browser’s refusal is readable', { timeout: 120_000 }, scenario('real', async () => {
    const { host, browser } = state;
    const context = await phoneContext(browser);
    await context.grantPermissions(['notifications'], { origin: host.base });
    const page = await context.newPage();
    state.pages.real = page;
    page.on('pageerror', (e) => state.errors.push(e.message));
    const creds = await pair(page, (await host.pairingCode()).link, 'E2E real phone');
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await openSettings(page, host.base);
    const section = page.locator('[data-testid=push-settings]');
    assert.equal(await section.getAttribute('data-state'), 'off');
    assert.equal(await page.locator('[data-testid=push-switch]').isChecked(), false);
    // Chromium refuses push subscriptions in incognito-like contexts (Playwright's): said so.
    await page.locator('[data-testid=push-switch]').tap();
    const error = page.locator('[data-testid=push-error]');
    await error.waitFor({ timeout: 60_000 });
    const text = await error.innerText();
    log(`a real subscribe in this context: ${text}`);
    assert.match(text, /push subscription|push service/);
    assert.doesNotMatch(text, /\[object|undefined/);
    assert.equal(await section.getAttribute('data-state'), 'off');
    assert.equal(await page.locator('[data-testid=push-switch]').isChecked(), false);
    assert.equal((await asDevice(host.base, creds.key, 'GET', '/push/subscription')).status, 404, 'nothing was kept on the host');
    await error.scrollIntoViewIfNeeded();
    await shot(page, 'push-03-refused-by-browser');

    // What the host keeps shows when the section opens (set here with the device's key).
    const sub = await state.push.subscribe();
    const put = await asDevice(host.base, creds.key, 'PUT', '/push/subscription', { endpoint: sub.endpoint, keys: sub.keys, events: ['needs_you'] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await openSettings(page, host.base);
    assert.equal(await section.getAttribute('data-state'), 'on');
    assert.equal(await page.locator('[data-testid=push-switch]').isChecked(), true);
    assert.deepEqual(
      await Promise.all(['turn_finished', 'needs_you', 'budget'].map((e) => page.locator(`[data-testid=push-event-${e}]`).isChecked())),
      [false, true, false],
    );
    // This browser has no such subscription: it says that nothing arrives.
    await page.locator('[data-testid=push-stale]').waitFor();
    await asDevice(host.base, creds.key, 'DELETE', '/push/subscription');
    await context.close();
  }));

  it('turns on, chooses events and turns off through the page and the real host', { timeout: 120_000 }, scenario('settings', async () => {
    const { host, browser } = state;
    state.sub = await state.push.subscribe();
    const context = await phoneContext(browser);
    await context.grantPermissions(['notifications'], { origin: host.base });
    await context.addInitScript(fakePushManager, state.sub);
    const page = await context.newPage();
    state.context = context;
    state.page = page;
    state.pages.phone = page;
    page.on('pageerror', (e) => state.errors.push(e.message));
    state.creds = await pair(page, (await host.pairingCode()).link, 'E2E phone');
    assert.ok(state.creds?.deviceId, 'paired as a device');
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await openSettings(page, host.base);
    const section = page.locator('[data-testid=push-settings]');
    const toggle = page.locator('[data-testid=push-switch]');
    const event = (e) => page.locator(`[data-testid=push-event-${e}]`);
    const hostSide = () => asDevice(host.base, state.creds.key, 'GET', '/push/subscription');
    assert.equal(await section.getAttribute('data-state'), 'off');
    await shot(page, 'push-04-off');

    // On: subscribed with the host's own VAPID key, and the host keeps exactly that subscription.
    await toggle.tap();
    await page.locator('[data-testid=push-settings][data-state=on]').waitFor();
    assert.equal(await toggle.isChecked(), true);
    const { public_key: vapid } = (await asDevice(host.base, state.creds.key, 'GET', '/push/key')).body;
    assert.deepEqual(await page.evaluate(() => window.__push.subscribe), [{ userVisibleOnly: true, applicationServerKey: vapid }]);
    let kept = await hostSide();
    assert.equal(kept.status, 200);
    assert.equal(kept.body.endpoint, state.sub.endpoint);
    assert.deepEqual(kept.body.events, ['turn_finished', 'needs_you', 'budget']);
    await section.scrollIntoViewIfNeeded();
    await shot(page, 'push-05-on');

    // Fewer events: sent at once; what the host keeps shows after a reload.
    await event('budget').tap();
    for (let i = 0; i < 50 && (kept = await hostSide()).body.events.includes('budget'); i++) await page.waitForTimeout(100);
    assert.deepEqual(kept.body.events, ['turn_finished', 'needs_you']);
    assert.equal(kept.body.endpoint, state.sub.endpoint, 'the same subscription');
    await page.locator('[data-testid=push-settings] fieldset:not([disabled])').waitFor();
    await page.reload();
    await page.locator('[data-testid=push-settings][data-state=on]').waitFor();
    assert.equal(await event('budget').isChecked(), false);
    assert.equal(await event('turn_finished').isChecked(), true);
    assert.equal(await page.locator('[data-testid=push-stale]').count(), 0, 'the browser has the host’s subscription');

    // Off: the host forgets it, the browser drops it.
    await toggle.tap();
    await page.locator('[data-testid=push-settings][data-state=off]').waitFor();
    assert.equal((await hostSide()).status, 404);
    assert.equal(await page.evaluate(() => window.__push.unsubscribed), 1);

    // On again, for what follows: every event.
    await event('budget').tap();
    await toggle.tap();
    await page.locator('[data-testid=push-settings][data-state=on]').waitFor();
    assert.deepEqual((await hostSide()).body.events, ['turn_finished', 'needs_you', 'budget']);
    assert.equal(await page.locator('[data-testid=push-error]').count(), 0);
  }));

  it('a finished turn reaches the phone: a notification with its deep link, quiet on that session, a tap opens it', { timeout: 240_000 }, scenario('deliver', async () => {
    const { host, claude, page, context, push } = state;
    assert.ok(page, 'the settings scenario left a subscribed phone');
    const origin = host.base;
    const session = await host.api('POST', '/sessions', { title: 'Pushed turn' });
    const other = await host.api('POST', '/sessions', { title: 'Another session' });

    // A real turn leaving two hunks: the host pushes to the stand-in service, which checks the
    // VAPID signature and decrypts the payload as the browser would.
    await claude.push(
      { kind: 'text', text: 'I need src/lib.rs.' },
      { kind: 'text', text: edit('src/lib.rs', 'fn line 5\n', 'fn five()\n') + edit('src/lib.rs', 'fn line 30\n', 'fn thirty()\n') },
    );
    await host.api('POST', `/sessions/${session.id}/prompts`, { text: 'Rename two functions', client_id: `e2e-push-${Date.now()}` });
    const got = await push.wait(1, 180_000);
    assert.deepEqual(push.refused, [], 'every push passed the service’s checks');
    assert.equal(got.length, 1, 'one push: the finished turn');
    const [turn] = got;
    assert.equal(turn.subscription, state.sub.id);
    assert.equal(turn.vapidKey, (await asDevice(origin, state.creds.key, 'GET', '/push/key')).body.public_key);
    assert.equal(turn.payload.title, 'Turn finished');
    assert.match(turn.payload.body, /^Pushed turn: 2 hunks await review$/);
    assert.equal(turn.payload.url, `/app/#/s/${session.id}`);
    assert.equal(turn.payload.session_id, session.id);
    assert.equal(turn.payload.tag, `${session.id}:turn`);

    // The page's service worker gets exactly what the browser would have decrypted.
    const cdp = await context.newCDPSession(page);
    const registrations = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    for (let i = 0; i < 50 && !registrations.some((r) => r.scopeURL === `${origin}/app/` && !r.isDeleted); i++) await page.waitForTimeout(100);
    const registrationId = registrations.find((r) => r.scopeURL === `${origin}/app/` && !r.isDeleted)?.registrationId;
    assert.ok(registrationId !== undefined, 'the app’s service worker registration');
    cdp.on('ServiceWorker.workerErrorReported', (e) => state.errors.push(`service worker: ${e.errorMessage.errorMessage}`));
    const deliver = (data) => cdp.send('ServiceWorker.deliverPushMessage', { origin: `${origin}/`, registrationId, data });
    const clear = () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).forEach((n) => n.close()));
    const waitFor = async (pred, what) => {
      for (let i = 0; i < 100; i++) {
        const list = await notifications(page);
        if (pred(list)) return list;
        await page.waitForTimeout(100);
      }
      assert.fail(`no ${what}: ${JSON.stringify(await notifications(page))}`);
    };

    // On the session list: it shows, with the link to the session.
    await page.goto(`${origin}/app/#/`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await clear();
    await deliver(turn.plaintext);
    const [shown] = await waitFor((l) => l.length === 1, 'notification for the finished turn');
    assert.deepEqual(shown, {
      title: 'Turn finished',
      body: 'Pushed turn: 2 hunks await review',
      tag: `${session.id}:turn`,
      icon: `${origin}/app/icons/icon-192.png`,
      data: { url: `${origin}/app/#/s/${session.id}`, session_id: session.id },
    });

    // A tap: the worker's notificationclick handler runs `openApp` on the notification's link;
    // Chromium has no click over CDP, so it is called in the worker, with the page on the list.
    const worker = context.serviceWorkers().find((w) => w.url() === `${origin}/app/sw.js`);
    assert.ok(worker, 'the page’s service worker');
    await worker.evaluate(async () => {
      const [n] = await self.registration.getNotifications();
      n.close();
      // sw.js's own top-level functions (a classic worker script's globals).
      await self.openApp(self.targetUrl(n.data, self.registration.scope));
    });
    await page.waitForURL(`${origin}/app/#/s/${session.id}`);
    await page.locator('[data-testid=prompt-input]').waitFor();
    await page.locator('[data-testid=prompt-card][data-state=done]').waitFor();
    assert.equal(context.pages().length, 1, 'the open window was used, not a new one');
    assert.deepEqual(await notifications(page), [], 'closed');
    await shot(page, 'push-06-opened-from-notification');

    // Looking at that session (focused, visible): the same push stays quiet; one for another
    // session still shows.
    assert.equal(await page.evaluate(() => document.hasFocus() && document.visibilityState), 'visible');
    await deliver(turn.plaintext);
    const elsewhere = { title: 'The agent needs you', body: 'Another session: the turn did not finish', url: `/app/#/s/${other.id}`, tag: `${other.id}:needs`, session_id: other.id };
    await deliver(JSON.stringify(elsewhere));
    await waitFor((l) => l.some((n) => n.tag === elsewhere.tag), 'notification for the other session');
    await page.waitForTimeout(1500); // time for a late notification for the open session to show
    assert.deepEqual((await notifications(page)).map((n) => n.tag), [elsewhere.tag], 'nothing for the session on screen');

    // The list again: the open session's next push shows.
    await clear();
    await page.goto(`${origin}/app/#/`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await deliver(turn.plaintext);
    await waitFor((l) => l.some((n) => n.tag === `${session.id}:turn`), 'notification once the session is left');
    await clear();
    assert.deepEqual(state.errors, [], 'no uncaught errors in the pages');
  }));
});
