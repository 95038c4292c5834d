import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { appContext } from './lib/context';
import { registerServiceWorker } from './lib/pwa';
import { AppStore } from './lib/store/app.svelte';
import { applyTheme, loadTheme } from './lib/theme';

applyTheme(loadTheme());
const app = new AppStore();
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app');
target.textContent = '';
mount(App, { target, context: appContext(app) });
registerServiceWorker(() => (app.updateReady = true));
