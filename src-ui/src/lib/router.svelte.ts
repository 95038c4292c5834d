import { parseRoute, type Route } from './routes';

export { sessionHref, type Route, type SessionTab } from './routes';

/** The current route as state; the parsing lives in routes.ts (plain, testable). */
class Router {
  route = $state<Route>(parseRoute(typeof location === 'undefined' ? '' : location.hash));

  constructor() {
    if (typeof window === 'undefined') return;
    window.addEventListener('hashchange', () => {
      this.route = parseRoute(location.hash);
    });
  }

  /** In-app steps we could go back through; a page opened from a link starts with none. */
  #depth = 0;

  go(hash: string): void {
    this.#depth++;
    location.hash = hash;
  }

  /** Changes the route without a history entry (tabs, dropping a key from the address bar). */
  replace(hash: string): void {
    history.replaceState(history.state, '', hash.startsWith('#') ? hash : `#${hash}`);
    this.route = parseRoute(location.hash);
  }

  /** Back within the app; from a page opened directly, up to `fallback` instead of leaving. */
  back(fallback = '#/'): void {
    if (this.#depth > 0) {
      this.#depth--;
      history.back();
    } else {
      this.replace(fallback);
    }
  }
}

export const router = new Router();
