/**
 * The service worker (public/sw.js, finished at build time): registered in production only, never
 * inside the Tauri apps (their assets are local already). A new version waits until the user
 * reloads — swapping the app shell under a running page could break its next lazy import.
 */
let waiting: ServiceWorker | null = null;

export function registerServiceWorker(onUpdate: () => void): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator) || '__TAURI_INTERNALS__' in globalThis) return;
  const url = `${import.meta.env.BASE_URL}sw.js`;
  navigator.serviceWorker
    .register(url, { scope: import.meta.env.BASE_URL })
    .then((reg) => {
      const found = (w: ServiceWorker | null) => {
        // A waiting worker with a controller present is an update (the first install has none).
        if (w && navigator.serviceWorker.controller) {
          waiting = w;
          onUpdate();
        }
      };
      found(reg.waiting);
      reg.addEventListener('updatefound', () => {
        const w = reg.installing;
        w?.addEventListener('statechange', () => {
          if (w.state === 'installed') found(w);
        });
      });
    })
    .catch(() => {
      // No service worker (plain http on a LAN address): the app works, just not offline.
    });
}

export function activateUpdate(): void {
  if (!waiting) return location.reload();
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
  waiting.postMessage({ type: 'skip-waiting' });
}

/**
 * Answers the service worker's "which session do you show?" (sw.js asks before showing a
 * notification, and stays quiet for the session the user is looking at): the route says, since a
 * window's address as the worker sees it can be stale.
 */
export function answerServiceWorker(session: () => string | null): void {
  if (!('serviceWorker' in navigator) || '__TAURI_INTERNALS__' in globalThis) return;
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent<unknown>) => {
    const data = e.data as { type?: unknown } | null;
    if (data?.type === 'which-session') e.ports[0]?.postMessage({ session_id: session() });
  });
  navigator.serviceWorker.startMessages();
}
