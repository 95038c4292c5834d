/* ArcBench app-shell service worker. The build (build/pwa.ts, after the bundle is written) fills
 * in VERSION and FILES below. It caches the app's own files under /app/ and nothing else: API answers go
 * straight to the network, always — a stale diff or session list must never look current.
 * It also shows the host's Web Push notifications (src/lib/push.ts subscribes): not while a
 * focused window shows that session, and a tap opens the session in an app window.
 * A classic script, copied as it is (no bundler, no imports): its decisions are the plain
 * functions below, which test/sw.test.ts runs with fakes. */
/// <reference lib="webworker" />
const VERSION = '__SHELL_VERSION__';
/** @type {string[]} */
const FILES = __SHELL_FILES__;
const CACHE = `arcbench-shell-${VERSION}`;
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const SCOPE = new URL(sw.registration.scope).pathname; // "/app/"

sw.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES.map((f) => SCOPE + f))));
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith('arcbench-shell-') && n !== CACHE).map((n) => caches.delete(n)));
      // Control the page that installed us, so it works offline from its first visit.
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') void sw.skipWaiting();
});

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  // Only our own shell; the API (every path outside /app/) is never touched.
  if (url.origin !== sw.location.origin || !url.pathname.startsWith(SCOPE)) return;
  if (req.mode === 'navigate') {
    // Any /app/ address is the single-page app: the cached index.html, then the network.
    event.respondWith(
      caches.match(SCOPE + 'index.html', { cacheName: CACHE, ignoreVary: true }).then((hit) => hit || fetch(req)),
    );
    return;
  }
  // ignoreVary: the host's CORS layer answers `Vary: Origin`, and module scripts are requested
  // with an Origin header that the install-time fetch did not send.
  event.respondWith(caches.match(req, { cacheName: CACHE, ignoreSearch: true, ignoreVary: true }).then((hit) => hit || fetch(req)));
});

/** The icon notifications show, when the build has it. */
const ICON = FILES.includes('icons/icon-192.png') ? SCOPE + 'icons/icon-192.png' : undefined;

/**
 * What the host pushed (`{title, body, url, tag, session_id}`, see arcbench-push's Notification),
 * made safe to show whatever arrived: text that is not that JSON becomes the body.
 * @param {{ json(): unknown, text(): string } | null} data
 */
function readPush(data) {
  /** @type {Record<string, unknown>} */
  let p = {};
  try {
    const v = data ? data.json() : null;
    if (v && typeof v === 'object') p = /** @type {Record<string, unknown>} */ (v);
  } catch {
    p = { body: safeText(data) };
  }
  const str = (/** @type {unknown} */ v) => (typeof v === 'string' && v ? v : null);
  return {
    title: str(p.title) ?? 'ArcBench',
    body: str(p.body) ?? '',
    url: str(p.url),
    tag: str(p.tag),
    session_id: str(p.session_id),
  };
}

/** @param {{ text(): string } | null} data */
function safeText(data) {
  try {
    return data ? data.text() : '';
  } catch {
    return '';
  }
}

/**
 * The session an app window shows, from its address (`…/app/#/s/<id>`, `#/s/<id>/changes`), or null.
 * @param {string} url
 */
function sessionOf(url) {
  let hash;
  try {
    hash = new URL(url).hash;
  } catch {
    return null;
  }
  const m = /^#\/s\/([^/?]+)/.exec(hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/**
 * Whether to show a push: not when the user is looking at its session already (a focused,
 * visible window on it). Anything without a session always shows. A window's `session` is what
 * it said it shows (`askSession`); without it, its address says.
 * @param {{ session_id: string | null }} note
 * @param {readonly { url: string, focused?: boolean, visibilityState?: string, session?: string | null }[]} windows
 */
function shouldShow(note, windows) {
  if (!note.session_id) return true;
  return !windows.some(
    (w) => looking(w) && (w.session !== undefined ? w.session : sessionOf(w.url)) === note.session_id,
  );
}

/** @param {{ focused?: boolean, visibilityState?: string }} w */
function looking(w) {
  return w.focused === true && w.visibilityState !== 'hidden';
}

/**
 * Which session a window shows, as the page says (src/lib/pwa.ts answers from its route): Chrome
 * keeps a window's address as the page was loaded, so its hash may be long stale. A page that
 * does not answer in time (an older version, busy) is judged by its address.
 * @param {{ url: string, postMessage(message: unknown, transfer: Transferable[]): void }} win
 * @returns {Promise<string | null>}
 */
function askSession(win, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const done = (/** @type {string | null} */ session) => {
      clearTimeout(timer);
      channel.port1.close();
      resolve(session);
    };
    const timer = setTimeout(() => done(sessionOf(win.url)), timeoutMs);
    channel.port1.onmessage = (e) => done(e.data && typeof e.data.session_id === 'string' ? e.data.session_id : null);
    try {
      win.postMessage({ type: 'which-session' }, [channel.port2]);
    } catch {
      done(sessionOf(win.url));
    }
  });
}

/**
 * Where a tap goes, absolute: the push's url when it is one of the app's own pages (under the
 * scope, same origin), else its session's page, else the app's start.
 * @param {{ url?: string | null, session_id?: string | null }} note
 * @param {string} scope the registration's scope, e.g. https://desk.ts.net:8000/app/
 */
function targetUrl(note, scope) {
  const base = new URL(scope);
  if (note.url) {
    try {
      const u = new URL(note.url, base);
      if (u.origin === base.origin && u.pathname.startsWith(base.pathname)) return u.href;
    } catch {
      // not a URL: fall through
    }
  }
  if (note.session_id) return `${base.href}#/s/${encodeURIComponent(note.session_id)}`;
  return base.href;
}

/**
 * The window to open a page in: one of the app's (under the scope), the focused one first.
 * @template {{ url: string, focused?: boolean }} W
 * @param {readonly W[]} windows
 * @param {string} scope
 * @returns {W | null}
 */
function pickWindow(windows, scope) {
  const base = new URL(scope);
  const ours = windows.filter((w) => {
    try {
      const u = new URL(w.url);
      return u.origin === base.origin && u.pathname.startsWith(base.pathname);
    } catch {
      return false;
    }
  });
  return ours.find((w) => w.focused) ?? ours[0] ?? null;
}

/**
 * Shows `url` (an app page): in an open app window, brought forward, else in a new one.
 * @param {string} url
 */
async function openApp(url) {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const win = pickWindow(windows, sw.registration.scope);
  if (win) {
    // focus() needs the tap's activation; navigate() needs the window to be ours (controlled).
    const front = await win.focus().catch(() => win);
    try {
      // Always: its `url` may be stale (see askSession), so it cannot tell where the page is.
      await front.navigate(url);
      return;
    } catch {
      // an uncontrolled window (opened before this worker): a new one instead
    }
  }
  await sw.clients.openWindow(url);
}

sw.addEventListener('push', (event) => {
  const note = readPush(event.data);
  event.waitUntil(
    (async () => {
      if (note.session_id) {
        const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
        const seen = await Promise.all(
          windows.filter(looking).map(async (w) => ({ url: w.url, focused: w.focused, visibilityState: w.visibilityState, session: await askSession(w) })),
        );
        if (!shouldShow(note, seen)) return;
      }
      await sw.registration.showNotification(note.title, {
        body: note.body,
        icon: ICON,
        // One per session and kind: a newer one replaces the older, and says so again.
        ...(note.tag ? { tag: note.tag, renotify: true } : {}),
        data: { url: targetUrl(note, sw.registration.scope), session_id: note.session_id },
      });
    })(),
  );
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(openApp(targetUrl(data, sw.registration.scope)));
});

/**
 * How to subscribe again after the browser dropped or rotated the subscription: the old one's
 * server key (the host's VAPID key), or null when a new subscription came with the event (the
 * browser made it) or there is no key to subscribe with.
 * @param {{ oldSubscription?: { options?: { applicationServerKey?: ArrayBuffer | null } } | null, newSubscription?: unknown }} event
 * @returns {{ userVisibleOnly: true, applicationServerKey: ArrayBuffer } | null}
 */
function resubscribeOptions(event) {
  if (event.newSubscription) return null;
  const key = event.oldSubscription?.options?.applicationServerKey;
  return key ? { userVisibleOnly: true, applicationServerKey: key } : null;
}

/**
 * Tells the app's open windows that the subscription changed: the host still has the old one,
 * and only a page (which has the device's key) can give it the new one (src/lib/push.ts).
 * With no window open, the next page to start checks it anyway.
 */
async function announceSubscriptionChange() {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const w of windows) {
    try {
      w.postMessage({ type: 'push-subscription-changed' });
    } catch {
      // a window going away: the others still hear it
    }
  }
}

// The browser renewed or dropped the subscription (an expiry, a push-service rotation). Without
// this, the host goes on pushing to a dead endpoint and nothing arrives, silently.
sw.addEventListener('pushsubscriptionchange', (event) => {
  const e = /** @type {ExtendableEvent & { oldSubscription?: PushSubscription | null, newSubscription?: PushSubscription | null }} */ (event);
  e.waitUntil(
    (async () => {
      const options = resubscribeOptions(e);
      // Refused (permission withdrawn, no push service now): the page finds no subscription to
      // send, and the host drops its dead one when the push service says it is gone.
      if (options) await sw.registration.pushManager.subscribe(options).catch(() => null);
      await announceSubscriptionChange();
    })(),
  );
});
