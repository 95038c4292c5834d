import { describe, expect, it } from 'vitest';
import type { PushEvent } from '../src/lib/bindings';
import type { FetchLike, HostCredentials } from '../src/lib/client/rest';
import { ALL_PUSH_EVENTS } from '../src/lib/pushEvents';
import {
  browserPush,
  describePushError,
  fromBase64Url,
  pushApi,
  PushSetup,
  pushUnavailable,
  shouldResend,
  type BrowserSubscription,
  type PushBrowser,
  type PushRegistration,
} from '../src/lib/push';

const CREDS: HostCredentials = { origin: 'https://desk.example.ts.net:8000', key: 'device-key', deviceId: 'd1' };
// An uncompressed P-256 point's length (65 bytes), base64url without padding.
const HOST_KEY_BYTES = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : (i * 7) % 256));
const HOST_KEY = btoa(String.fromCharCode(...HOST_KEY_BYTES)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** The host's push routes, played by the test: what it was asked, and what it keeps. */
function fakeHost(options: { refusePut?: string; failDelete?: boolean } = {}) {
  const calls: { method: string; path: string; auth: string; body: unknown }[] = [];
  let kept: { endpoint: string; events: PushEvent[]; created_at: string } | null = null;
  const fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ method, path, auth: (init.headers as Record<string, string>).Authorization ?? '', body });
    if (path === '/push/key') return json(200, { public_key: HOST_KEY });
    if (path !== '/push/subscription') return json(404, { code: 'not_found', message: 'no route' });
    if (method === 'GET') return kept ? json(200, kept) : json(404, { code: 'not_found', message: 'this device has no push subscription' });
    if (method === 'PUT') {
      if (options.refusePut) return json(400, { code: 'bad_request', message: options.refusePut });
      const req = body as { endpoint: string; events?: PushEvent[] };
      kept = { endpoint: req.endpoint, events: req.events ?? [...ALL_PUSH_EVENTS], created_at: '2025-01-01T00:00:00Z' };
      return json(200, kept);
    }
    if (options.failDelete) return json(500, { code: 'internal', message: 'disk full' });
    const deleted = kept !== null;
    kept = null;
    return json(200, { deleted });
  };
  return {
    fetch,
    calls,
    kept: () => kept,
    keep: (k: typeof kept) => (kept = k),
  };
}

/** A browser subscription the fake push manager made for `key`. */
function fakeSubscription(endpoint: string, key: Uint8Array) {
  const sub = {
    endpoint,
    unsubscribed: false,
    options: { applicationServerKey: key.slice().buffer as ArrayBuffer },
    toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'BP256dh-key', auth: 'auth-secret' } }),
    unsubscribe: async () => {
      sub.unsubscribed = true;
      manager.current = manager.current === sub ? null : manager.current;
      return true;
    },
  };
  return sub;
}
type FakeSub = ReturnType<typeof fakeSubscription>;

const manager = { current: null as FakeSub | null };

/** The browser: its permission, its push manager (subscribing or failing), no real push service. */
function fakeBrowser(options: { permission?: NotificationPermission; answer?: NotificationPermission; subscribeError?: Error; registration?: boolean } = {}) {
  const log: string[] = [];
  const subscribed: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }[] = [];
  let permission = options.permission ?? 'default';
  let n = 0;
  manager.current = null;
  const registration: PushRegistration = {
    pushManager: {
      getSubscription: async () => manager.current,
      subscribe: async (o) => {
        subscribed.push(o);
        if (options.subscribeError) throw options.subscribeError;
        manager.current = fakeSubscription(`https://push.example/send/${++n}`, o.applicationServerKey);
        return manager.current;
      },
    },
  };
  const browser: PushBrowser = {
    secure: true,
    desktopApp: false,
    phoneApp: false,
    serviceWorker: true,
    webPush: true,
    iosTab: false,
    permission: () => permission,
    requestPermission: async () => {
      log.push('asked');
      permission = options.answer ?? 'granted';
      return permission;
    },
    registration: async () => (options.registration === false ? null : registration),
  };
  return { browser, log, subscribed, current: () => manager.current as (BrowserSubscription & FakeSub) | null };
}

function setup(host: ReturnType<typeof fakeHost>, b: ReturnType<typeof fakeBrowser>) {
  return new PushSetup(b.browser, pushApi(CREDS, { fetch: host.fetch }));
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return describePushError(e);
  }
  throw new Error('it did not fail');
}

describe('pushUnavailable', () => {
  const ok = fakeBrowser().browser;
  const reason = (b: Partial<PushBrowser>, creds: HostCredentials | null = CREDS) => pushUnavailable({ ...ok, ...b }, creds);

  it('is available on a secure page of a paired device with Web Push', () => {
    expect(reason({})).toBeNull();
  });

  it('says why not, and what to do', () => {
    expect(reason({ desktopApp: true })).toMatchObject({ reason: 'desktop-app', text: expect.stringMatching(/desktop app/) });
    expect(reason({ desktopApp: true, phoneApp: true })).toMatchObject({ reason: 'phone-app', text: expect.stringMatching(/Notifications on this device/) });
    expect(reason({}, null)).toMatchObject({ reason: 'not-paired', text: expect.stringMatching(/^Sign in with a paired device/) });
    expect(reason({}, { ...CREDS, deviceId: null })).toMatchObject({ reason: 'no-device', text: expect.stringMatching(/^Sign in with a paired device.*pasted by hand/) });
    // An insecure page lacks the rest too: the cause is named, not the symptoms.
    expect(reason({ secure: false, serviceWorker: false, webPush: false })).toMatchObject({ reason: 'insecure', text: expect.stringMatching(/^Needs HTTPS: .*tailnet name/) });
    expect(reason({ iosTab: true, webPush: false })).toMatchObject({ reason: 'ios-tab', text: expect.stringMatching(/Add to Home Screen/) });
    expect(reason({ serviceWorker: false })).toMatchObject({ reason: 'no-service-worker' });
    expect(reason({ webPush: false })).toMatchObject({ reason: 'no-push', text: expect.stringMatching(/has no Web Push/) });
  });

  it('finds no Web Push in a plain Node process (no secure page, no service worker)', () => {
    const b = browserPush();
    expect(pushUnavailable(b, CREDS)?.reason).toBe('insecure');
    expect(b.permission()).toBe('denied');
  });
});

describe('PushSetup', () => {
  it('loads the host’s state: off when it has none', async () => {
    const host = fakeHost();
    expect(await setup(host, fakeBrowser()).load()).toEqual({ on: false, events: ALL_PUSH_EVENTS, stale: false });
    expect(host.calls.map((c) => [c.method, c.path, c.auth])).toEqual([['GET', '/push/subscription', 'Bearer device-key']]);
  });

  it('turns on: permission, a subscription for the host’s key, then the host gets exactly it', async () => {
    const host = fakeHost();
    const b = fakeBrowser();
    const state = await setup(host, b).enable(['budget', 'turn_finished']);
    expect(b.log).toEqual(['asked']);
    expect(b.subscribed).toHaveLength(1);
    expect(b.subscribed[0]?.userVisibleOnly).toBe(true);
    expect([...(b.subscribed[0]?.applicationServerKey ?? [])]).toEqual([...HOST_KEY_BYTES]);
    const put = host.calls.find((c) => c.method === 'PUT');
    expect(put?.auth).toBe('Bearer device-key');
    expect(put?.body).toEqual({
      endpoint: 'https://push.example/send/1',
      keys: { p256dh: 'BP256dh-key', auth: 'auth-secret' },
      events: ['turn_finished', 'budget'],
    });
    expect(state).toEqual({ on: true, events: ['turn_finished', 'budget'], stale: false });
    // And the host's state, read again, matches this browser's subscription.
    expect(await setup(host, b).load()).toEqual(state);
  });

  it('does not ask again once allowed, and reuses the subscription made for the same key', async () => {
    const host = fakeHost();
    const b = fakeBrowser({ permission: 'granted' });
    await setup(host, b).enable(ALL_PUSH_EVENTS);
    await setup(host, b).enable(ALL_PUSH_EVENTS);
    expect(b.log).toEqual([]);
    expect(b.subscribed).toHaveLength(1);
  });

  it('replaces a subscription made for another key (the host’s key was made anew)', async () => {
    const host = fakeHost();
    const b = fakeBrowser({ permission: 'granted' });
    manager.current = fakeSubscription('https://push.example/send/old', new Uint8Array(65).fill(9));
    const old = manager.current;
    await setup(host, b).enable(ALL_PUSH_EVENTS);
    expect(old.unsubscribed).toBe(true);
    expect(host.kept()?.endpoint).toBe('https://push.example/send/1');
  });

  it('changes the events with the same subscription', async () => {
    const host = fakeHost();
    const b = fakeBrowser();
    const s = setup(host, b);
    await s.enable(ALL_PUSH_EVENTS);
    expect(await s.setEvents(['needs_you'])).toEqual({ on: true, events: ['needs_you'], stale: false });
    expect(host.calls.filter((c) => c.method === 'PUT').map((c) => (c.body as { endpoint: string; events: string[] }).events)).toEqual([ALL_PUSH_EVENTS, ['needs_you']]);
    expect(b.subscribed).toHaveLength(1);
  });

  it('sends a renewed subscription when the browser lost the one the host keeps', async () => {
    const host = fakeHost();
    const b = fakeBrowser({ permission: 'granted' });
    host.keep({ endpoint: 'https://push.example/send/lost', events: ['budget'], created_at: 'then' });
    const s = setup(host, b);
    expect(await s.load()).toEqual({ on: true, events: ['budget'], stale: true });
    expect(await s.setEvents(['budget'])).toEqual({ on: true, events: ['budget'], stale: false });
    expect(host.kept()?.endpoint).toBe('https://push.example/send/1');
  });

  it('turns off: the host forgets it, the browser drops it', async () => {
    const host = fakeHost();
    const b = fakeBrowser();
    const s = setup(host, b);
    await s.enable(['budget']);
    const sub = b.current();
    expect(await s.disable(['budget'])).toEqual({ on: false, events: ['budget'], stale: false });
    expect(sub?.unsubscribed).toBe(true);
    expect(host.kept()).toBeNull();
    expect(host.calls.at(-1)?.method).toBe('DELETE');
  });

  it('drops the browser’s subscription even when the host fails to forget it, and says so', async () => {
    const host = fakeHost({ failDelete: true });
    const b = fakeBrowser();
    const s = setup(host, b);
    await s.enable(ALL_PUSH_EVENTS);
    const sub = b.current();
    expect(await failure(s.disable(ALL_PUSH_EVENTS))).toMatch(/internal error.*disk full/);
    expect(sub?.unsubscribed).toBe(true);
  });

  it('says so when notifications are blocked or the question was dismissed; nothing is sent', async () => {
    const host = fakeHost();
    const denied = fakeBrowser({ answer: 'denied' });
    expect(await failure(setup(host, denied).enable(ALL_PUSH_EVENTS))).toMatch(/^Notifications are blocked for this site\. Allow them/);
    const dismissed = fakeBrowser({ answer: 'default' });
    expect(await failure(setup(host, dismissed).enable(ALL_PUSH_EVENTS))).toMatch(/not allowed \(the question was dismissed\)/);
    expect(denied.subscribed.length + dismissed.subscribed.length).toBe(0);
    expect(host.calls).toEqual([]);
  });

  it('shows the host’s refusal with its message, and keeps no orphan subscription', async () => {
    const host = fakeHost({ refusePut: 'endpoint must be https' });
    const b = fakeBrowser();
    expect(await failure(setup(host, b).enable(ALL_PUSH_EVENTS))).toBe('The host refused: endpoint must be https');
    expect(b.subscribed).toHaveLength(1);
    expect(b.current()).toBeNull();
  });

  it('says when the browser’s push service cannot be reached', async () => {
    const err = Object.assign(new Error('Registration failed - push service not available'), { name: 'AbortError' });
    const b = fakeBrowser({ subscribeError: err });
    expect(await failure(setup(fakeHost(), b).enable(ALL_PUSH_EVENTS))).toBe(
      'The browser could not subscribe with its push service (Registration failed - push service not available). Is this device online?',
    );
    const incognito = fakeBrowser({ subscribeError: Object.assign(new Error('Registration failed - permission denied'), { name: 'AbortError' }) });
    expect(await failure(setup(fakeHost(), incognito).enable(ALL_PUSH_EVENTS))).toBe(
      'This browser refused a push subscription (Registration failed - permission denied): private, incognito and guest windows get no notifications.',
    );
    const blocked = fakeBrowser({ subscribeError: Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' }) });
    expect(await failure(setup(fakeHost(), blocked).enable(ALL_PUSH_EVENTS))).toMatch(/^Notifications are blocked/);
  });

  it('says when the app’s service worker is not running', async () => {
    const b = fakeBrowser({ registration: false });
    expect(await failure(setup(fakeHost(), b).enable(ALL_PUSH_EVENTS))).toMatch(/service worker is not running/);
  });

  it('says when the host cannot be reached', async () => {
    const api = pushApi(CREDS, {
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    expect(await failure(new PushSetup(fakeBrowser().browser, api).load())).toBe('Cannot reach the host: network error');
  });
});

describe('shouldResend', () => {
  it('only when the host keeps a subscription and the browser now has another', () => {
    expect(shouldResend('https://push.example/send/old', 'https://push.example/send/new')).toBe(true);
    expect(shouldResend('https://push.example/send/same', 'https://push.example/send/same')).toBe(false);
    // Push is off for this device: nothing is sent unasked.
    expect(shouldResend(null, 'https://push.example/send/new')).toBe(false);
    // The browser has none any more: the host drops its copy when the push service says 404/410.
    expect(shouldResend('https://push.example/send/old', null)).toBe(false);
    expect(shouldResend(null, null)).toBe(false);
  });
});

describe('PushSetup.resync', () => {
  it('sends the browser’s rotated subscription with the events the host had', async () => {
    const host = fakeHost();
    const b = fakeBrowser({ permission: 'granted' });
    host.keep({ endpoint: 'https://push.example/send/rotated-away', events: ['needs_you', 'budget'], created_at: 'then' });
    manager.current = fakeSubscription('https://push.example/send/new', HOST_KEY_BYTES);
    expect(await setup(host, b).resync()).toBe(true);
    expect(host.calls.map((c) => c.method)).toEqual(['GET', 'PUT']);
    expect(host.calls[1]?.body).toEqual({
      endpoint: 'https://push.example/send/new',
      keys: { p256dh: 'BP256dh-key', auth: 'auth-secret' },
      events: ['needs_you', 'budget'],
    });
    expect(host.kept()?.endpoint).toBe('https://push.example/send/new');
    // Nothing subscribed anew, nothing asked: only what the browser already had is sent.
    expect(b.subscribed).toEqual([]);
    expect(b.log).toEqual([]);
  });

  it('leaves the host alone when it has the current one, or push is off', async () => {
    const host = fakeHost();
    const b = fakeBrowser({ permission: 'granted' });
    manager.current = fakeSubscription('https://push.example/send/same', HOST_KEY_BYTES);
    expect(await setup(host, b).resync()).toBe(false);
    host.keep({ endpoint: 'https://push.example/send/same', events: ['budget'], created_at: 'then' });
    expect(await setup(host, b).resync()).toBe(false);
    expect(host.calls.map((c) => c.method)).toEqual(['GET', 'GET']);
  });

  it('asks the host nothing when the browser has no subscription (the host drops a dead one itself)', async () => {
    const host = fakeHost();
    host.keep({ endpoint: 'https://push.example/send/gone', events: ['budget'], created_at: 'then' });
    expect(await setup(host, fakeBrowser({ permission: 'granted' })).resync()).toBe(false);
    expect(await setup(host, fakeBrowser({ registration: false })).resync()).toBe(false);
    expect(host.calls).toEqual([]);
    expect(host.kept()?.endpoint).toBe('https://push.example/send/gone');
  });
});

describe('fromBase64Url', () => {
  it('decodes with or without padding', () => {
    expect([...fromBase64Url('-_8')]).toEqual([0xfb, 0xff]);
    expect([...fromBase64Url('-_8=')]).toEqual([0xfb, 0xff]);
    expect([...fromBase64Url(HOST_KEY)]).toEqual([...HOST_KEY_BYTES]);
  });
});
