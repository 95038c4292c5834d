import { mount } from 'svelte';
import { givenCredentials } from '../lib/client/credentials';
import { ArcbenchApi } from '../lib/client/rest';
import { IpcApi } from '../lib/desktop/ipcApi';
import { IpcSocket } from '../lib/desktop/ipcSocket';
import { DesktopStore } from '../lib/desktop/desktop.svelte';
import { keepPreferences } from '../lib/prefs';
import { DesktopShell, followNavigation } from '../lib/desktop/shell.svelte';
import { router } from '../lib/router.svelte';
import { AppStore } from '../lib/store/app.svelte';
import DesktopRoot from './DesktopRoot.svelte';

/**
 * The desktop app's window (loaded only there, by main.ts): the app's state first, then the
 * dashboard over the host the app names, with credentials given for this run (never stored).
 */
export function startDesktop(target: HTMLElement): DesktopShell {
  const shell = new DesktopShell(new DesktopStore(), {
    // The host in the app: its IPC (the host's functions, no HTTP in between); a service: HTTP.
    makeApp: (creds, inProcess) =>
      new AppStore({
        credentials: givenCredentials(creds),
        api: inProcess ? (c, refused) => new IpcApi(new ArcbenchApi(c, { onUnauthorized: refused })) : undefined,
        socket: inProcess ? { createSocket: (url) => new IpcSocket(url) } : undefined,
      }),
    openId: () => (router.route.name === 'session' ? router.route.id : null),
  });
  void keepPreferences();
  void followNavigation((hash) => router.go(hash));
  if (router.route.name === 'session') void import('../screens/SessionScreen.svelte').catch(() => undefined);
  void shell.start();
  target.textContent = '';
  mount(DesktopRoot, { target, props: { shell } });
  return shell;
}
