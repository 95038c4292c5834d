// The phone app's desktop preview in a real window (Xvfb, tauri-driver + WebKitWebDriver, the
// same library the iOS/Android app runs): paired with two running hosts by link, a prompt sent
// and a hunk approved on one, a prompt written while the other host is down kept in the app's
// own outbox across a restart of the app, and sent once that host is back. A turn that finishes
// in a session not on screen is announced (tests/fake-notifications on the private bus), also
// when its host is not the one shown, and a click on it opens that session on its host.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll, cleanup, fixtureRepo, log, startFakeClaude, startHost, tempDir } from './harness.mjs';
import { displayShot, NOTIFICATIONS, notificationServer, Procs, requireFiles, sleep, startBus, startDisplay, startDriver, TARGET, waitFor } from './tauri.mjs';

const APP = join(TARGET, 'debug', 'arcbench-remote');
const procs = new Procs();
const edit = (path, search, replace) => `Done.\n\n${path}\n\`\`\`\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;
const state = {};
const shotOf = (name) => displayShot(state.display, `mobile-${name}`);

/** The app's files: `$XDG_DATA_HOME/<identifier>/`. */
const appData = () => join(state.env.XDG_DATA_HOME, 'dev.arcbench.remote');

/** On the pair screen: paste a pairing link, name this device, pair. */
async function pairByLink(wd, link, name) {
  await wd.type('#pair-input', link);
  await wd.click('form:has(#pair-input) button[type=submit]');
  await wd.type('#device-name', name);
  await wd.click('[data-testid=pair-confirm]');
  await wd.find('[data-testid=new-session]', 30_000);
}

async function openSession(wd, id) {
  await wd.execute(`location.hash = '#/s/${id}'`);
  await wd.find('[data-testid=prompt-input]');
}

describe('the phone app (desktop preview) in a real window', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    buildAll();
    requireFiles([APP, NOTIFICATIONS]);
    state.claude = await startFakeClaude();
    state.hosts = [];
    for (const name of ['desk', 'laptop']) {
      const repo = fixtureRepo();
      const data = tempDir(`mobile-${name}`);
      const host = await startHost({ repo, data, claudeUrl: state.claude.url });
      const session = await host.api('POST', '/sessions', { title: `On the ${name}` });
      state.hosts.push({ name, repo, data, host, session });
    }
    state.display = await startDisplay(procs, 4);
    const address = await startBus(procs);
    state.notifications = notificationServer(procs, address);
    await state.notifications.ready;
    const home = tempDir('mobile-home');
    state.env = {
      ...process.env,
      DISPLAY: state.display,
      DBUS_SESSION_BUS_ADDRESS: address,
      NO_AT_BRIDGE: '1',
      // No keychain on this bus: device keys go to the app's private storage (as on Android).
      ARCBENCH_KEYCHAIN: 'none',
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CONFIG_HOME: join(home, 'config'),
      WEBKIT_DISABLE_COMPOSITING_MODE: '1',
    };
    state.wd = await startDriver(procs, state.env);
    await state.wd.start(APP);
    log(`hosts at ${state.hosts.map((h) => h.host.base).join(', ')}; app data in ${appData()}`);
  });

  after(async () => {
    state.notifications?.stop();
    await state.wd?.quit();
    await sleep(500);
    procs.stopAll();
    await cleanup();
  });

  it('pairs with two hosts by link, sends a prompt and approves a hunk on one', { timeout: 5 * 60_000 }, async () => {
    const { wd } = state;
    const [desk, laptop] = state.hosts;
    try {
      await wd.find('#pair-input', 60_000);
      assert.equal(await wd.execute('return window.__ARCBENCH_SHELL__'), 'remote');
      // Not an ArcBench link: a clear message, nothing kept.
      await wd.type('#pair-input', 'https://example.com/some/page');
      await wd.click('form:has(#pair-input) button[type=submit]');
      await wd.waitText('[data-testid=pair-error]', /./);
      // A code alone names no host here (the page comes from the app): the link is needed.
      await wd.type('#pair-input', (await desk.host.pairingCode()).code);
      await wd.click('form:has(#pair-input) button[type=submit]');
      await wd.waitText('[data-testid=pair-error]', /paste the whole pairing link/);
      assert.equal(existsSync(join(appData(), 'hosts.json')), false);

      await pairByLink(wd, (await desk.host.pairingCode()).link, 'E2E phone app');
      shotOf('01-first-host');
      // A second host: paired from Settings, the first one stays.
      await wd.execute("location.hash = '#/settings'");
      await wd.click('[data-testid=remote-hosts] [data-testid=remote-pair-another]');
      await pairByLink(wd, (await laptop.host.pairingCode()).link, 'E2E phone app');
      await wd.execute("location.hash = '#/settings'");
      await wd.find('[data-testid=remote-hosts] [data-testid=remote-host][data-state=reachable]');
      const rows = await wd.findAll('[data-testid=remote-hosts] [data-testid=remote-host]');
      assert.equal(rows.length, 2, 'both hosts are listed');
      shotOf('02-two-hosts');
      // Preferences go to the app's own store file (tauri-plugin-store), not only the webview's.
      await wd.click('label:has(input[name=theme][value=dark])');
      await waitFor('the theme in the app’s store', async () => JSON.parse(readFileSync(join(appData(), 'ui.json'), 'utf8')).theme === 'dark');
      // Each host knows this device by its own key (the app kept one per host).
      for (const h of [desk, laptop]) {
        const devices = await h.host.api('GET', '/devices');
        assert.ok(devices.devices.some((d) => d.name === 'E2E phone app'), `${h.name} lists the app`);
      }
      const hosts = JSON.parse(readFileSync(join(appData(), 'hosts.json'), 'utf8'));
      assert.deepEqual(hosts.hosts.map((h) => h.origin).sort(), [desk.host.base, laptop.host.base].sort());
      assert.ok(hosts.hosts.every((h) => h.key_place === 'app_storage'));
      const keys = readFileSync(join(appData(), 'keys.json'), 'utf8');
      assert.equal(keys.includes('e2e-key'), false, 'the master key never reaches the app');

      // The laptop is shown (paired last): a prompt, its turn, a hunk approved.
      await openSession(wd, laptop.session.id);
      await state.claude.push(
        { kind: 'text', text: 'I need src/lib.rs.' },
        { kind: 'text', text: edit('src/lib.rs', 'fn line 5\n', 'fn five()\n') },
      );
      await wd.type('[data-testid=prompt-input]', 'In src/lib.rs: rename line 5');
      await wd.click('[data-testid=send-prompt]');
      await wd.find('[data-testid=prompt-card][data-state=done]', 120_000);
      await wd.click('[data-testid=tab-changes]');
      await wd.click('[data-testid=hunk] [data-testid=approve-hunk]', 30_000);
      await wd.find('[data-testid=hunk][data-state=approved]');
      shotOf('03-approved');
      const diff = await laptop.host.api('GET', `/sessions/${laptop.session.id}/diff`);
      assert.ok(diff.files.some((f) => f.hunks.some((h) => h.state === 'approved')), 'the host has the approval');
    } catch (e) {
      shotOf('FAILED-pair');
      throw e;
    }
  });

  it('a prompt for a host that is down waits in the app’s outbox, survives a restart, then goes once', { timeout: 5 * 60_000 }, async () => {
    const { wd } = state;
    const [desk] = state.hosts;
    try {
      // Back to the desk, its session open; then the desk goes away (kill -9) and a prompt is
      // written anyway.
      await wd.execute("location.hash = '#/settings'");
      await wd.click(`[data-testid=remote-hosts] [data-testid=remote-host][data-host-origin="${desk.host.base}"] [data-testid=remote-host-switch]`);
      await wd.find('[data-testid=new-session]');
      await openSession(wd, desk.session.id);
      await desk.host.kill9();
      await wd.type('[data-testid=prompt-input]', 'Queued while the desk was away');
      await wd.click('[data-testid=send-prompt]');
      await wd.find('[data-testid=queued-prompt]');
      const hostId = JSON.parse(readFileSync(join(appData(), 'hosts.json'), 'utf8')).hosts.find((h) => h.origin === desk.host.base).id;
      await waitFor('the prompt in the app’s outbox file', async () => readFileSync(join(appData(), 'outbox', `${hostId}.json`), 'utf8').includes('Queued while the desk was away'));
      shotOf('04-queued');

      // The app quits and starts again: the prompt is still there, still queued.
      await wd.quit();
      await sleep(1500);
      await wd.start(APP);
      await openSession(wd, desk.session.id);
      await wd.find('[data-testid=queued-prompt]', 60_000);
      shotOf('05-queued-after-restart');

      // The desk is back on the same address: the prompt goes, exactly once.
      await state.claude.push({ kind: 'text', text: 'Noted.' });
      desk.host = await startHost({ repo: desk.repo, data: desk.data, claudeUrl: state.claude.url, port: desk.host.port });
      await wd.find('[data-testid=prompt-card]', 90_000);
      await waitFor('the outbox emptied', async () => !readFileSync(join(appData(), 'outbox', `${hostId}.json`), 'utf8').includes('Queued while'), 60_000);
      const detail = await desk.host.api('GET', `/sessions/${desk.session.id}`);
      const sent = detail.prompts.filter((p) => p.text === 'Queued while the desk was away');
      assert.equal(sent.length, 1, 'sent exactly once');
      assert.equal(readdirSync(join(appData(), 'outbox')).length >= 1, true);
      shotOf('06-sent');
    } catch (e) {
      shotOf('FAILED-outbox');
      throw e;
    }
  });

  it('a finished turn in a session not on screen is announced, and a click opens it on its host', { timeout: 4 * 60_000 }, async () => {
    const { wd } = state;
    const [desk, laptop] = state.hosts;
    try {
      // The desk is shown, its session list on screen (not the session): a turn there, started
      // from elsewhere (the host's own key), leaves a hunk.
      await wd.execute("location.hash = '#/'");
      await wd.find('[data-testid=new-session]');
      await state.claude.push(
        { kind: 'text', text: 'I need src/lib.rs.' },
        { kind: 'text', text: edit('src/lib.rs', 'fn line 30\n', 'fn thirty()\n') },
      );
      const before = state.notifications.shown.length;
      await desk.host.api('POST', `/sessions/${desk.session.id}/prompts`, { text: 'In src/lib.rs: rename line 30', client_id: 'mobile-notice-1' });
      const notice = await waitFor(
        'the turn’s notification',
        async () => state.notifications.shown.slice(before).find((n) => /^On the desk: \d+ hunks? awaits? review$/.test(n.body)),
        120_000,
      );
      assert.equal(notice.actions[0], 'default', 'a click on it is an action');

      // The user moves to the laptop. The desk, no longer on screen, is still followed for its
      // notices: a second turn there is announced too, and a click on it brings the desk back
      // with that session open.
      await wd.execute("location.hash = '#/settings'");
      await wd.click(`[data-testid=remote-hosts] [data-testid=remote-host][data-host-origin="${laptop.host.base}"] [data-testid=remote-host-switch]`);
      await wd.find('[data-testid=new-session]');
      await sleep(1500); // the desk's watch opens its socket
      await state.claude.push({ kind: 'text', text: edit('src/lib.rs', 'fn line 40\n', 'fn forty()\n') });
      const then = state.notifications.shown.length;
      await desk.host.api('POST', `/sessions/${desk.session.id}/prompts`, { text: 'In src/lib.rs: rename line 40', client_id: 'mobile-notice-2' });
      const elsewhere = await waitFor(
        'the notification from the host not on screen',
        async () => state.notifications.shown.slice(then).find((n) => /^On the desk: \d+ hunks? awaits? review$/.test(n.body)),
        120_000,
      );
      await state.notifications.click(elsewhere.id);
      await waitFor('the session opened from the notification', async () => (await wd.execute('return location.hash')) === `#/s/${desk.session.id}`, 30_000);
      await wd.find('[data-testid=prompt-input]');
      const hosts = JSON.parse(readFileSync(join(appData(), 'hosts.json'), 'utf8'));
      assert.equal(hosts.hosts.find((h) => h.id === hosts.selected).origin, desk.host.base, 'the desk is shown again');
      shotOf('07-opened-from-notification');
    } catch (e) {
      shotOf('FAILED-notification');
      throw e;
    }
  });
});
