import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { appContext } from './lib/context';
import { registerServiceWorker } from './lib/pwa';
import { router } from './lib/router.svelte';
import { AppStore } from './lib/store/app.svelte';
import { applyTheme, loadTheme } from './lib/theme';

applyTheme(loadTheme());
const app = new AppStore();
// Before the first render: the host's answers and the session screen's code are on their way
// while the page renders (a reload or a shared link straight into a session).
const first = router.route;
if (first.name === 'session') void import('./screens/SessionScreen.svelte').catch(() => undefined);
void app.start(first.name === 'session' ? first.id : null);
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app');
target.textContent = '';
mount(App, { target, context: appContext(app) });
registerServiceWorker(() => (app.updateReady = true));
