/* ArcBench app-shell service worker. The build (build/pwa.ts, after the bundle is written) fills
 * in VERSION and FILES below. It caches the app's own files under /app/ and nothing else: API answers go
 * straight to the network, always — a stale diff or session list must never look current. */
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
