import { mount } from 'svelte';
import { hapticFeedback } from '../lib/remote/haptics';
import { HostsStore } from '../lib/remote/hosts.svelte';
import { NativeRemote } from '../lib/remote/native';
import { openSession, type OpenSessionTarget } from '../lib/remote/openSession';
import { nativeOutboxStorage } from '../lib/remote/outbox';
import { scanQrNatively } from '../lib/remote/scanner';
import { followTaps } from '../lib/remote/taps';
import { followHosts, HostWatchers } from '../lib/remote/watch.svelte';
import { keepPreferences } from '../lib/prefs';
import { router } from '../lib/router.svelte';
import { AppStore } from '../lib/store/app.svelte';
import RemoteRoot from './RemoteRoot.svelte';

/**
 * The phone app's page (loaded only there, by main.ts): the PWA's dashboard over the host the
 * app has selected, talking to it over the network as the PWA does; the paired hosts, their keys
 * and their queued prompts kept by the app. Snapshots stay in the webview's IndexedDB.
 */
/** The session the user is looking at: on screen, with the app in front. */
function looking(): string | null {
  const route = router.route;
  return route.name === 'session' && document.visibilityState === 'visible' && document.hasFocus() ? route.id : null;
}

export async function startRemoteApp(target: HTMLElement): Promise<HostsStore> {
  const native = new NativeRemote();
  // Without an answer the app still works: no haptics, and the page's own camera.
  const platform = await native.platform().catch(() => null);
  const feedback = platform?.haptics ? hapticFeedback() : undefined;
  const hosts = new HostsStore({
    native,
    makeApp: (credentials) =>
      new AppStore({
        credentials,
        outboxStorage: async () => {
          // Asked only once the store has credentials, which pairing gives only with an id.
          const id = credentials.hostId;
          if (!id) throw new Error('the host is not listed yet');
          return nativeOutboxStorage(native, id);
        },
        feedback,
        onEvents: (batch, app) => {
          const id = credentials.hostId;
          if (!id) return;
          const titles = app.sessions.sorted().map((s) => ({ id: s.id, title: s.title || s.branch }));
          // A notification that could not be shown must not disturb the session on screen.
          void native.noteEvents(id, titles, batch, looking()).catch(() => undefined);
        },
      }),
    openId: () => (router.route.name === 'session' ? router.route.id : null),
    // Replace, not push: Back must not lead into the last host's session on this one.
    onSwitched: () => router.replace('#/'),
  });
  // The other paired hosts' live events, for their notices (the one on screen hands over its own).
  // None before a store is on screen: the host about to be shown is not worth a socket meanwhile.
  const watchers = new HostWatchers({ native, onRefused: (id) => void hosts.probe(id) });
  const unwatch = followHosts(() => ({ list: hosts.app ? hosts.list : [], shownId: hosts.shownId }), watchers);
  addEventListener('pagehide', unwatch, { once: true });
  void keepPreferences();
  if (router.route.name === 'session') void import('../screens/SessionScreen.svelte').catch(() => undefined);
  const started = hosts.start();
  // A tap may be what started the app: its host can be told apart once the list is read.
  const open = (t: OpenSessionTarget) =>
    void started.then(() =>
      openSession(t, {
        hosts: () => ({ ids: hosts.list.map((h) => h.id), shownId: hosts.shownId }),
        select: (id) => hosts.select(id),
        go: (href) => router.go(href),
      }),
    );
  // Without them a tap only brings the app to the front, as before.
  void followTaps(open, platform?.mobile ?? false).catch((e: unknown) => console.warn('Notification taps are not followed:', e));
  target.textContent = '';
  mount(RemoteRoot, { target, props: { hosts, native, scan: platform?.scanner ? scanQrNatively : undefined } });
  return hosts;
}
