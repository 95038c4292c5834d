import { getContext, setContext } from 'svelte';
import type { AppStore } from './store/app.svelte';

const KEY = Symbol('arcbench-app');

/** The context map to mount the app with: `mount(App, { context: appContext(store) })`. */
export function appContext(app: AppStore): Map<symbol, AppStore> {
  return new Map([[KEY, app]]);
}

export function provideApp(app: AppStore): void {
  setContext(KEY, app);
}

/** The app store; components get it from context so tests and stories can pass their own. */
export function useApp(): AppStore {
  const app = getContext<AppStore | undefined>(KEY);
  if (!app) throw new Error('useApp() outside <App>');
  return app;
}
