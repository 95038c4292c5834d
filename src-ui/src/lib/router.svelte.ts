import { parseRoute, type Route } from './routes';

export { sessionHref, type Route, type SessionTab } from './routes';

/** Our own history entries carry their depth, so Back knows whether there is an in-app page to go to. */
interface EntryState {
  idx: number;
}

function entryIndex(): number | null {
  const st = history.state as Partial<EntryState> | null;
  return typeof st?.idx === 'number' ? st.idx : null;
}

/** The current route as state; the parsing lives in routes.ts (plain, testable). */
class Router {
  route = $state<Route>(parseRoute(typeof location === 'undefined' ? '' : location.hash));
  #idx = 0;

  constructor() {
    if (typeof window === 'undefined') return;
    const first = entryIndex();
    if (first === null) history.replaceState({ idx: 0 } satisfies EntryState, '');
    this.#idx = first ?? 0;
    window.addEventListener('hashchange', () => {
      // A link or go() made a new entry (no state yet): one deeper than where we were.
      if (entryIndex() === null) history.replaceState({ idx: this.#idx + 1 } satisfies EntryState, '');
      this.#idx = entryIndex() ?? 0;
      this.route = parseRoute(location.hash);
    });
  }

  go(hash: string): void {
    location.hash = hash;
  }

  /** Changes the route without a history entry (tabs, dropping a key from the address bar). */
  replace(hash: string): void {
    history.replaceState({ idx: this.#idx } satisfies EntryState, '', hash.startsWith('#') ? hash : `#${hash}`);
    this.route = parseRoute(location.hash);
  }

  /** Back within the app; from a page opened directly, up to `fallback` instead of leaving. */
  back(fallback = '#/'): void {
    if (this.#idx > 0) history.back();
    else this.replace(fallback);
  }
}

export const router = new Router();
