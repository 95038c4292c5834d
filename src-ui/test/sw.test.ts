import { describe, expect, it } from 'vitest';
import raw from '../sw/sw.js?raw';

/**
 * The service worker (sw/sw.js, a classic script the build copies as it is) run as a function of
 * a fake worker scope (`self`, `caches`, `fetch`): its pure decisions called directly, and its push
 * and notificationclick handlers driven as the browser would.
 */

const SCOPE = 'https://desk.example.ts.net:8000/app/';
const source = raw
  .replace("const VERSION = '__SHELL_VERSION__';", "const VERSION = 'test';")
  .replace('const FILES = __SHELL_FILES__;', 'const FILES = ["index.html", "icons/icon-192.png"];');

interface FakeWindow {
  /** The address as the worker sees it: Chrome's stays as the page was loaded. */
  url: string;
  /** What the page answers when asked which session it shows ('silent': it does not answer). */
  says: string | null | 'silent';
  asked: number;
  /** What the worker told it, other than asking which session it shows. */
  posted: unknown[];
  postMessage(message: unknown, transfer?: MessagePort[]): void;
  focused: boolean;
  visibilityState: 'visible' | 'hidden';
  /** null: not controlled by this worker, so navigate() refuses. */
  navigated: string[] | null;
  focusRefused?: boolean;
  focus(): Promise<FakeWindow>;
  navigate(url: string): Promise<FakeWindow>;
}

function win(url: string, opts: Partial<Pick<FakeWindow, 'focused' | 'visibilityState' | 'focusRefused' | 'says'>> & { controlled?: boolean } = {}): FakeWindow {
  const w: FakeWindow = {
    url,
    says: opts.says !== undefined ? opts.says : (/#\/s\/([^/]+)/.exec(url)?.[1] ?? null),
    asked: 0,
    posted: [],
    postMessage(message, transfer) {
      const port = transfer?.[0];
      if ((message as { type?: string }).type !== 'which-session') {
        w.posted.push(message);
        return;
      }
      w.asked++;
      if (w.says !== 'silent') port?.postMessage({ session_id: w.says });
    },
    focused: opts.focused ?? false,
    visibilityState: opts.visibilityState ?? 'visible',
    navigated: opts.controlled === false ? null : [],
    focusRefused: opts.focusRefused,
    async focus() {
      if (w.focusRefused) throw new Error('InvalidAccessError: not allowed to focus');
      w.focused = true;
      return w;
    },
    async navigate(to: string) {
      if (!w.navigated) throw new TypeError('This service worker is not the client’s active service worker.');
      w.navigated.push(to);
      w.url = to;
      return w;
    },
  };
  return w;
}

interface Shown {
  title: string;
  options: { body?: string; tag?: string; icon?: string; renotify?: boolean; data?: { url: string; session_id: string | null } };
}

interface SwScope {
  readPush(data: unknown): { title: string; body: string; url: string | null; tag: string | null; session_id: string | null };
  sessionOf(url: string): string | null;
  shouldShow(note: { session_id: string | null }, windows: (Partial<FakeWindow> & { session?: string | null })[]): boolean;
  targetUrl(note: { url?: string | null; session_id?: string | null }, scope: string): string;
  pickWindow<W>(windows: W[], scope: string): W | null;
  askSession(win: FakeWindow, timeoutMs?: number): Promise<string | null>;
  resubscribeOptions(event: { oldSubscription?: { options?: { applicationServerKey?: ArrayBuffer | null } } | null; newSubscription?: unknown }): {
    userVisibleOnly: true;
    applicationServerKey: ArrayBuffer;
  } | null;
}

function loadWorker(windows: FakeWindow[] = []) {
  const listeners: Record<string, (event: unknown) => void> = {};
  const shown: Shown[] = [];
  const opened: string[] = [];
  const subscribed: { userVisibleOnly: boolean; applicationServerKey: ArrayBuffer }[] = [];
  const pushService = { refuse: false };
  const self = {
    registration: {
      scope: SCOPE,
      showNotification: async (title: string, options: Shown['options']) => void shown.push({ title, options }),
      pushManager: {
        subscribe: async (o: { userVisibleOnly: boolean; applicationServerKey: ArrayBuffer }) => {
          subscribed.push(o);
          if (pushService.refuse) throw new DOMException('permission denied', 'NotAllowedError');
          return { endpoint: `https://push.example/send/${subscribed.length}` };
        },
      },
    },
    location: new URL(`${SCOPE}sw.js`),
    clients: {
      matchAll: async (q: { type: string; includeUncontrolled: boolean }) => {
        expect(q).toEqual({ type: 'window', includeUncontrolled: true });
        return windows;
      },
      openWindow: async (url: string) => void opened.push(url),
      claim: async () => undefined,
    },
    addEventListener: (type: string, f: (event: unknown) => void) => (listeners[type] = f),
    skipWaiting: async () => undefined,
  };
  // The script's own top-level functions, as a worker's global scope would hold them.
  const run = new Function('self', 'caches', 'fetch', `${source}\nreturn { readPush, sessionOf, shouldShow, targetUrl, pickWindow, askSession, resubscribeOptions };`) as (
    self: unknown,
    caches: unknown,
    fetch: unknown,
  ) => SwScope;
  const sw = run(self, {}, () => Promise.reject(new Error('no network')));

  /** Dispatches an extendable event and waits for what it asked to wait for. */
  async function dispatch(type: string, fields: Record<string, unknown>) {
    const waits: Promise<unknown>[] = [];
    const f = listeners[type];
    if (!f) throw new Error(`no ${type} listener`);
    f({ ...fields, waitUntil: (p: Promise<unknown>) => waits.push(p) });
    await Promise.all(waits);
  }
  const data = (v: unknown) => ({
    json: () => (typeof v === 'string' ? JSON.parse(v) : v),
    text: () => (typeof v === 'string' ? v : JSON.stringify(v)),
  });
  return {
    sw,
    listeners,
    shown,
    opened,
    subscribed,
    pushService,
    subscriptionChange: (fields: { oldSubscription?: unknown; newSubscription?: unknown }) => dispatch('pushsubscriptionchange', fields),
    push: (payload: unknown) => dispatch('push', { data: payload === null ? null : data(payload) }),
    click: (notification: { data: unknown }) => {
      const n = { ...notification, closed: false, close: () => (n.closed = true) };
      return dispatch('notificationclick', { notification: n }).then(() => n);
    },
  };
}

const note = (session: string | null, extra: Record<string, unknown> = {}) => ({
  title: 'Turn finished',
  body: 'Rename things: 2 hunks await review',
  url: session ? `/app/#/s/${session}` : '/app/',
  tag: `${session ?? 'host'}:turn`,
  session_id: session,
  ...extra,
});

describe('service worker: decisions', () => {
  const { sw } = loadWorker();

  it('keeps its shell caching', () => {
    const { listeners } = loadWorker();
    expect(Object.keys(listeners).sort()).toEqual(['activate', 'fetch', 'install', 'message', 'notificationclick', 'push', 'pushsubscriptionchange']);
  });

  it('reads the session an app window shows from its hash', () => {
    expect(sw.sessionOf(`${SCOPE}#/s/abc123`)).toBe('abc123');
    expect(sw.sessionOf(`${SCOPE}#/s/abc123/changes`)).toBe('abc123');
    expect(sw.sessionOf(`${SCOPE}#/s/a%20b`)).toBe('a b');
    expect(sw.sessionOf(`${SCOPE}#/`)).toBeNull();
    expect(sw.sessionOf(`${SCOPE}#/settings`)).toBeNull();
    expect(sw.sessionOf(`${SCOPE}`)).toBeNull();
    expect(sw.sessionOf('not a url')).toBeNull();
  });

  it('is quiet only when a focused, visible window shows that session', () => {
    const on = (id: string, o: Parameters<typeof win>[1] = {}) => win(`${SCOPE}#/s/${id}`, o);
    expect(sw.shouldShow({ session_id: 's1' }, [])).toBe(true);
    expect(sw.shouldShow({ session_id: 's1' }, [on('s1', { focused: true })])).toBe(false);
    expect(sw.shouldShow({ session_id: 's1' }, [win(`${SCOPE}#/s/s1/changes`, { focused: true })])).toBe(false);
    // Open but not looked at: another app is in front, or the tab is hidden.
    expect(sw.shouldShow({ session_id: 's1' }, [on('s1')])).toBe(true);
    expect(sw.shouldShow({ session_id: 's1' }, [on('s1', { focused: true, visibilityState: 'hidden' })])).toBe(true);
    // Looking at another session, or the list.
    expect(sw.shouldShow({ session_id: 's1' }, [on('s2', { focused: true }), on('s1')])).toBe(true);
    expect(sw.shouldShow({ session_id: 's1' }, [win(`${SCOPE}#/`, { focused: true })])).toBe(true);
    // Nothing to be looking at (a daily budget warning).
    expect(sw.shouldShow({ session_id: null }, [on('s1', { focused: true })])).toBe(true);
    // What the page said it shows counts over its (possibly stale) address.
    expect(sw.shouldShow({ session_id: 's1' }, [{ ...on('s2', { focused: true }), session: 's1' }])).toBe(false);
    expect(sw.shouldShow({ session_id: 's1' }, [{ ...on('s1', { focused: true }), session: null }])).toBe(true);
  });

  it('asks a window which session it shows; judges a silent one by its address', async () => {
    expect(await sw.askSession(win(`${SCOPE}#/pair?code=X`, { says: 's9' }))).toBe('s9');
    expect(await sw.askSession(win(`${SCOPE}#/s/s1`, { says: null }))).toBeNull();
    expect(await sw.askSession(win(`${SCOPE}#/s/s1`, { says: 'silent' }), 20)).toBe('s1');
  });

  it('opens only the app’s own pages, absolute', () => {
    expect(sw.targetUrl({ url: '/app/#/s/abc', session_id: 'abc' }, SCOPE)).toBe(`${SCOPE}#/s/abc`);
    expect(sw.targetUrl({ url: `${SCOPE}#/s/abc` }, SCOPE)).toBe(`${SCOPE}#/s/abc`);
    expect(sw.targetUrl({ url: '/app/' }, SCOPE)).toBe(SCOPE);
    // Elsewhere (another origin, outside /app/): the session's page, or the app's start.
    expect(sw.targetUrl({ url: 'https://evil.example/app/#/s/x', session_id: 'x y' }, SCOPE)).toBe(`${SCOPE}#/s/x%20y`);
    expect(sw.targetUrl({ url: '/sessions/x' }, SCOPE)).toBe(SCOPE);
    expect(sw.targetUrl({}, SCOPE)).toBe(SCOPE);
  });

  it('reads whatever arrives into something showable', () => {
    expect(sw.readPush({ json: () => note('s1'), text: () => '' })).toEqual({ ...note('s1') });
    expect(sw.readPush(null)).toEqual({ title: 'ArcBench', body: '', url: null, tag: null, session_id: null });
    const text = { json: () => JSON.parse('plain words'), text: () => 'plain words' };
    expect(sw.readPush(text)).toMatchObject({ title: 'ArcBench', body: 'plain words' });
    expect(sw.readPush({ json: () => ({ title: 3, session_id: '' }), text: () => '' })).toMatchObject({ title: 'ArcBench', session_id: null });
  });

  it('picks an app window, the focused one first', () => {
    const other = win('https://elsewhere.example/app/#/s/x', { focused: true });
    const a = win(`${SCOPE}#/`);
    const b = win(`${SCOPE}#/settings`, { focused: true });
    expect(sw.pickWindow([other, a, b], SCOPE)).toBe(b);
    expect(sw.pickWindow([other, a], SCOPE)).toBe(a);
    expect(sw.pickWindow([other], SCOPE)).toBeNull();
  });
});

describe('service worker: push', () => {
  it('shows the notification with its tag, icon and link', async () => {
    const w = loadWorker([win(`${SCOPE}#/s/other`, { focused: true })]);
    await w.push(note('s1'));
    expect(w.shown).toEqual([
      {
        title: 'Turn finished',
        options: {
          body: 'Rename things: 2 hunks await review',
          icon: `${new URL(SCOPE).pathname}icons/icon-192.png`,
          tag: 's1:turn',
          renotify: true,
          data: { url: `${SCOPE}#/s/s1`, session_id: 's1' },
        },
      },
    ]);
  });

  it('stays quiet for the session the page says it shows, whatever its stale address says', async () => {
    const looking = win(`${SCOPE}#/pair?code=X`, { focused: true, says: 's1' });
    const w = loadWorker([looking, win(`${SCOPE}#/s/s2`, { visibilityState: 'hidden' })]);
    await w.push(note('s1'));
    expect(w.shown).toEqual([]);
    await w.push(note('s2'));
    expect(w.shown.map((s) => s.options.data?.session_id)).toEqual(['s2']);
    // Only the window the user looks at is asked; nothing is asked for a push without a session.
    await w.push(note(null));
    expect(looking.asked).toBe(2);
  });

  it('stays quiet for the session the user is looking at, not for another', async () => {
    const w = loadWorker([win(`${SCOPE}#/s/s1`, { focused: true })]);
    await w.push(note('s1'));
    expect(w.shown).toEqual([]);
    await w.push(note('s2'));
    expect(w.shown.map((s) => s.options.data?.session_id)).toEqual(['s2']);
  });

  it('shows a push without a session, or one it cannot read', async () => {
    const w = loadWorker([win(`${SCOPE}#/s/s1`, { focused: true })]);
    await w.push(note(null, { title: 'Budget warning', tag: 'host:budget' }));
    await w.push('not json');
    expect(w.shown.map((s) => [s.title, s.options.body, s.options.data?.url])).toEqual([
      ['Budget warning', 'Rename things: 2 hunks await review', SCOPE],
      ['ArcBench', 'not json', SCOPE],
    ]);
    expect(w.shown[1]?.options.tag).toBeUndefined();
  });
});

describe('service worker: a tap', () => {
  it('closes the notification and brings an app window to the session', async () => {
    const list = win(`${SCOPE}#/`);
    const w = loadWorker([win('https://elsewhere.example/'), list]);
    const n = await w.click({ data: { url: `${SCOPE}#/s/s1`, session_id: 's1' } });
    expect(n.closed).toBe(true);
    expect(list.focused).toBe(true);
    expect(list.navigated).toEqual([`${SCOPE}#/s/s1`]);
    expect(w.opened).toEqual([]);
  });

  it('navigates even when the window may not be focused', async () => {
    const list = win(`${SCOPE}#/`, { focusRefused: true });
    const w = loadWorker([list]);
    await w.click({ data: { url: `${SCOPE}#/s/s1` } });
    expect(list.navigated).toEqual([`${SCOPE}#/s/s1`]);
  });

  it('opens a window when no app window is open, or the open one is not this worker’s', async () => {
    const none = loadWorker([win('https://elsewhere.example/')]);
    await none.click({ data: { url: '/app/#/s/s1' } });
    expect(none.opened).toEqual([`${SCOPE}#/s/s1`]);

    const stranger = win(`${SCOPE}#/`, { controlled: false });
    const w = loadWorker([stranger]);
    await w.click({ data: { url: `${SCOPE}#/s/s1` } });
    expect(w.opened).toEqual([`${SCOPE}#/s/s1`]);
  });

  it('opens the app’s start for a notification without a link', async () => {
    const w = loadWorker([]);
    await w.click({ data: null });
    expect(w.opened).toEqual([SCOPE]);
  });
});

describe('service worker: a rotated subscription', () => {
  const KEY = Uint8Array.from([4, 1, 2, 3]).buffer;
  const old = { endpoint: 'https://push.example/send/old', options: { applicationServerKey: KEY } };

  it('subscribes again with the old key only when the browser gave no new subscription', () => {
    const { sw } = loadWorker();
    expect(sw.resubscribeOptions({ oldSubscription: old })).toEqual({ userVisibleOnly: true, applicationServerKey: KEY });
    expect(sw.resubscribeOptions({ oldSubscription: old, newSubscription: { endpoint: 'https://push.example/send/new' } })).toBeNull();
    // Firefox may give neither, or an old one without its key: nothing to subscribe with.
    expect(sw.resubscribeOptions({})).toBeNull();
    expect(sw.resubscribeOptions({ oldSubscription: null })).toBeNull();
    expect(sw.resubscribeOptions({ oldSubscription: { options: { applicationServerKey: null } } })).toBeNull();
  });

  it('resubscribes, then tells every app window so a page sends the host the new one', async () => {
    const a = win(`${SCOPE}#/`);
    const b = win(`${SCOPE}#/s/s1`, { controlled: false });
    const w = loadWorker([a, b]);
    await w.subscriptionChange({ oldSubscription: old, newSubscription: null });
    expect(w.subscribed).toEqual([{ userVisibleOnly: true, applicationServerKey: KEY }]);
    expect(a.posted).toEqual([{ type: 'push-subscription-changed' }]);
    expect(b.posted).toEqual([{ type: 'push-subscription-changed' }]);
  });

  it('only tells the windows when the browser made the new one itself', async () => {
    const a = win(`${SCOPE}#/`);
    const w = loadWorker([a]);
    await w.subscriptionChange({ oldSubscription: old, newSubscription: { endpoint: 'https://push.example/send/new' } });
    expect(w.subscribed).toEqual([]);
    expect(a.posted).toEqual([{ type: 'push-subscription-changed' }]);
  });

  it('a refused resubscription still tells the windows (the page then finds none to send)', async () => {
    const a = win(`${SCOPE}#/`);
    const w = loadWorker([a]);
    w.pushService.refuse = true;
    await w.subscriptionChange({ oldSubscription: old });
    expect(w.subscribed).toHaveLength(1);
    expect(a.posted).toEqual([{ type: 'push-subscription-changed' }]);
  });
});
