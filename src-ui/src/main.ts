import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { appContext } from './lib/context';
import { isDesktopApp } from './lib/desktop/detect';
import { isRemoteShell } from './lib/remote/detect';
import { answerServiceWorker, registerServiceWorker } from './lib/pwa';
import { router } from './lib/router.svelte';
import { AppStore } from './lib/store/app.svelte';
import { applyTheme, loadTheme } from './lib/theme';

applyTheme(loadTheme());
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app');

// The phone app (mobile/) keeps its paired hosts natively. Asked first: its webview has Tauri's
// bridge too, which `isDesktopApp()` would take for the desktop window. App build only, as below.
if (import.meta.env.MODE === 'app' && isRemoteShell()) {
  import('./remote/main')
    .then((m) => m.startRemoteApp(target))
    .catch((e: unknown) => {
      target.textContent = `ArcBench could not start: ${e instanceof Error ? e.message : String(e)}`;
    });
  // The desktop app's window gets its host from the app, not from pairing. Only the `app` build
  // (dist-app/) carries that code: in the browser's build this branch is dead and dropped, so not
  // even a lazy chunk of it ships (or is precached by the service worker).
} else if (import.meta.env.MODE === 'app' && isDesktopApp()) {
  import('./desktop/main')
    .then((m) => m.startDesktop(target))
    .catch((e: unknown) => {
      target.textContent = `ArcBench could not start: ${e instanceof Error ? e.message : String(e)}`;
    });
} else {
  const app = new AppStore();
  // Before the first render: the host's answers and the session screen's code are on their way
  // while the page renders (a reload or a shared link straight into a session).
  const first = router.route;
  if (first.name === 'session') void import('./screens/SessionScreen.svelte').catch(() => undefined);
  void app.start(first.name === 'session' ? first.id : null);
  target.textContent = '';
  mount(App, { target, context: appContext(app) });
  registerServiceWorker(() => (app.updateReady = true));
  answerServiceWorker(() => (router.route.name === 'session' ? router.route.id : null));
  // Once a service worker runs (push subscriptions live there; without one there is none to
  // keep), and off the first render's path: push's code loads only then.
  if ('serviceWorker' in navigator) {
    void navigator.serviceWorker.ready
      .then(() => import('./lib/push'))
      .then((m) => m.keepSubscriptionCurrent(() => app.creds))
      .catch(() => undefined);
  }
}
