import type { UnlistenFn } from '@tauri-apps/api/event';
import type { HostCredentials } from '../client/rest';
import { sessionHref } from '../routes';
import type { AppStore } from '../store/app.svelte';
import { events, type Connection, type DesktopState } from './bindings';
import type { DesktopStore } from './desktop.svelte';

/** What the window shows: nothing yet, the set-up / status screen, or the dashboard. */
export type DesktopView = 'loading' | 'home' | 'dashboard';

export interface ShellOptions {
  /**
   * The dashboard's store for a connection: the phone's AppStore, its credentials given, not
   * stored. `inProcess`: the host runs inside the app (its IPC reaches it), not as a service.
   */
  makeApp: (creds: HostCredentials, inProcess: boolean) => AppStore;
  /** The session on screen at start-up (its snapshot goes out with the first requests). */
  openId?: () => string | null;
}

/**
 * The desktop window's start-up: the app says (`DesktopState.connection`) where its host listens
 * and with which key; while there is none (first run, paused, starting, failed) the window shows
 * the desktop screen, and once there is one the same client the phone uses talks to that host.
 * A connection that goes and comes back unchanged (pause, resume) resumes the same store; a new
 * one (another port or key) gets a new store.
 */
export class DesktopShell {
  /** The dashboard's store, for the current or last connection. */
  app = $state.raw<AppStore | null>(null);

  readonly desktop: DesktopStore;
  readonly #opts: ShellOptions;
  /** The connection `app` was made for (and whether the host ran in the app), and whether it is started. */
  #made: (Connection & { inProcess: boolean }) | null = null;
  #running = false;
  #unwatch: (() => void) | null = null;

  constructor(desktop: DesktopStore, options: ShellOptions) {
    this.desktop = desktop;
    this.#opts = options;
  }

  get view(): DesktopView {
    const state = this.desktop.state;
    if (!state) return 'loading';
    // A key the host refused leaves the store unpaired: the desktop screen offers to reconnect.
    if (!state.connection || !this.app?.paired) return 'home';
    return 'dashboard';
  }

  /** The host refused the app's key (its store dropped it). */
  get refused(): boolean {
    return this.app !== null && !this.app.paired && Boolean(this.desktop.state?.connection);
  }

  async start(): Promise<void> {
    this.#unwatch ??= this.desktop.watch((s) => this.#follow(s));
    await this.desktop.start();
  }

  stop(): void {
    this.#unwatch?.();
    this.#unwatch = null;
    this.desktop.stop();
    this.app?.stop();
    this.#running = false;
  }

  /** After a refused key: the app's connection again, with a new store. */
  async reconnect(): Promise<void> {
    this.app?.stop();
    this.#made = null;
    this.#running = false;
    // Reading the state again hands it to #follow, which makes the new store.
    await this.desktop.start();
  }

  #follow(state: DesktopState): void {
    const c = state.connection;
    if (!c) {
      // Paused, stopped or failed: nothing listens; the socket would only retry in vain.
      if (this.#running) this.app?.stop();
      this.#running = false;
      return;
    }
    const inProcess = state.mode === 'in_process';
    if (this.app && this.#made && sameConnection(this.#made, c) && this.#made.inProcess === inProcess) {
      if (!this.#running && this.app.paired) {
        this.#running = true;
        void this.app.start(this.#opts.openId?.() ?? null);
      }
      return;
    }
    this.app?.stop();
    this.#made = { ...c, inProcess };
    this.#running = true;
    const app = this.#opts.makeApp({ origin: c.origin, key: c.key, deviceId: null }, inProcess);
    this.app = app;
    void app.start(this.#opts.openId?.() ?? null);
  }
}

function sameConnection(a: Connection, b: Connection): boolean {
  return a.origin === b.origin && a.key === b.key;
}

/**
 * The tray and the notifications steer the window: "Pair a device…" opens the desktop pair
 * screen, a notification's click opens its session.
 */
export async function followNavigation(go: (hash: string) => void): Promise<UnlistenFn> {
  const off = await Promise.all([
    events.showPairing.listen(() => go('#/pair')),
    events.openSession.listen((e) => go(sessionHref(e.payload.session_id))),
  ]);
  return () => off.forEach((f) => f());
}
