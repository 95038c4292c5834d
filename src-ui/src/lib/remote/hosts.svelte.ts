import { describeError, isCode, NetworkFailure } from '../client/errors';
import { ArcbenchApi, type FetchLike, type HostCredentials } from '../client/rest';
import type { AppStore } from '../store/app.svelte';
import { remoteCredentials, type RemoteCredentialStore } from './credentials';
import type { HostsState, NativeRemote, PairedHost } from './native';

/** A paired host at a glance (its `GET /status` with its own key). */
export type HostState =
  | { kind: 'checking' }
  | { kind: 'reachable'; active: number }
  /** No answer: off, asleep, or not on this phone's network. */
  | { kind: 'unreachable' }
  /** The host refused this device's key: it was unpaired there. */
  | { kind: 'revoked' }
  /** Something else (the key gone from this device, a host error): its words. */
  | { kind: 'failed'; message: string };

export interface HostsOptions {
  native: NativeRemote;
  /** The dashboard's store over one host's credentials (none: the pair screen for a new host). */
  makeApp: (credentials: RemoteCredentialStore) => AppStore;
  /** For tests: the network under the probes. */
  fetch?: FetchLike;
  /** The session on screen at start-up (its snapshot goes out with the first requests). */
  openId?: () => string | null;
  /** Another host is shown: the shell leaves the old one's screens (its sessions are not this one's). */
  onSwitched?: () => void;
}

const PROBE_TIMEOUT_MS = 5_000;

/**
 * The phone app's paired hosts: the list and the selected one (kept natively), how each is doing,
 * and the one AppStore on screen, made anew for every switch so nothing of a host (its socket,
 * outbox, credentials) outlives it. Pairing another host shows the pair screen on a store with
 * no credentials; the host is listed only once the app has kept it.
 */
export class HostsStore {
  list = $state.raw<PairedHost[]>([]);
  selected = $state<string | null>(null);
  states = $state.raw<Record<string, HostState>>({});
  /** The store on screen; null until the list is read. */
  app = $state.raw<AppStore | null>(null);
  /** The pair screen is up for another host; `cancelPairing` goes back. */
  pairing = $state(false);
  /** The last switch, forget or probe that went wrong, in words; cleared by the next action. */
  error = $state<string | null>(null);
  /** The list itself could not be read: there is nothing to show. */
  failure = $state<string | null>(null);
  /** A switch or forget is under way. */
  busy = $state(false);

  readonly #o: HostsOptions;
  /** The credentials of `app`: which host it shows (by id) once it has one. */
  #creds: RemoteCredentialStore | null = null;
  /** Counts switches: an older one finishing late must not replace a newer store. */
  #turn = 0;

  constructor(options: HostsOptions) {
    this.#o = options;
  }

  /** The host the store on screen talks to (null while pairing a new one). */
  get shownId(): string | null {
    return this.app?.paired ? (this.#creds?.hostId ?? null) : null;
  }

  get current(): PairedHost | null {
    return this.list.find((h) => h.id === this.selected) ?? null;
  }

  /** A host's state; the one on screen knows first that its key was refused. */
  stateOf(id: string): HostState {
    if (this.app?.revoked && this.#creds?.hostId === id) return { kind: 'revoked' };
    return this.states[id] ?? { kind: 'checking' };
  }

  async start(): Promise<void> {
    let state: HostsState;
    try {
      state = await this.#o.native.hosts();
    } catch (e) {
      this.failure = describeError(e);
      return;
    }
    this.failure = null;
    this.#setList(state);
    await this.#open(state.selected, this.#o.openId?.() ?? null);
    void this.probeAll();
  }

  stop(): void {
    this.#turn++;
    this.app?.stop();
  }

  /** Shows another paired host: selected natively first, so the next start opens it too. */
  async select(id: string): Promise<void> {
    if (id === this.selected && this.shownId === id && !this.pairing) return;
    this.error = null;
    this.busy = true;
    try {
      this.#setList(await this.#o.native.selectHost(id));
      await this.#open(id);
      this.#o.onSwitched?.();
      void this.probe(id);
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Forgets a host on this device (its key and queued prompts). A key from a pairing code is
   * revoked on the host first when it answers, so a forgotten key cannot be used again.
   */
  async forget(id: string): Promise<boolean> {
    const host = this.list.find((h) => h.id === id);
    if (!host) return false;
    this.error = null;
    this.busy = true;
    try {
      const shown = this.#creds?.hostId === id;
      if (shown) this.app?.stop();
      if (host.device_id) await this.#revoke(id, host.device_id);
      const state = await this.#o.native.forgetHost(id);
      const { [id]: _gone, ...rest } = this.states;
      this.states = rest;
      this.#setList(state);
      if (shown) {
        await this.#open(state.selected);
        this.#o.onSwitched?.();
      }
      return true;
    } catch (e) {
      this.error = describeError(e);
      // Still listed: the store on screen goes on as it was.
      if (this.#creds?.hostId === id && this.app?.paired) void this.app.start();
      return false;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Names a host on this device (the app's list only; the host itself is not told). The app
   * trims the name and refuses an empty or over-long one in its own words, shown as `error`;
   * answers whether it was kept.
   */
  async rename(id: string, name: string): Promise<boolean> {
    this.error = null;
    this.busy = true;
    try {
      const host = await this.#o.native.renameHost(id, name);
      this.list = this.list.map((h) => (h.id === host.id ? host : h));
      return true;
    } catch (e) {
      this.error = describeError(e);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** The pair screen for another host; the selected one stays selected until pairing keeps the new one. */
  pairAnother(): void {
    this.error = null;
    this.#show(null, null);
    this.pairing = true;
    this.#o.onSwitched?.();
  }

  /** Back from the pair screen to the selected host. */
  async cancelPairing(): Promise<void> {
    if (!this.pairing) return;
    this.error = null;
    await this.#open(this.selected);
    this.#o.onSwitched?.();
  }

  probeAll(): Promise<void> {
    return Promise.all(this.list.map((h) => this.probe(h.id))).then(() => undefined);
  }

  /** Asks one host how it is, with its own key; never retried, never unpairs anything. */
  async probe(id: string): Promise<void> {
    let state: HostState;
    try {
      const status = await (await this.#apiFor(id)).status();
      state = { kind: 'reachable', active: status.sessions_active };
    } catch (e) {
      if (isCode(e, 'unauthorized')) state = { kind: 'revoked' };
      else if (e instanceof NetworkFailure) state = { kind: 'unreachable' };
      else state = { kind: 'failed', message: describeError(e) };
    }
    if (this.list.some((h) => h.id === id)) this.states = { ...this.states, [id]: state };
  }

  /** A store for the host `id` (its credentials read first), or for pairing when it has none. */
  async #open(id: string | null, openId: string | null = null): Promise<void> {
    const turn = ++this.#turn;
    let initial: { id: string; creds: HostCredentials } | null = null;
    if (id) {
      try {
        initial = { id, creds: toCreds(await this.#o.native.hostCredentials(id)) };
      } catch (e) {
        // Its key is gone from this device (a reset keychain): the pair screen, with the reason.
        this.error = describeError(e);
        this.states = { ...this.states, [id]: { kind: 'failed', message: this.error } };
      }
    }
    if (turn !== this.#turn) return;
    this.#show(initial, openId);
  }

  #show(initial: { id: string; creds: HostCredentials } | null, openId: string | null): void {
    this.#turn++;
    this.app?.stop();
    const creds: RemoteCredentialStore = remoteCredentials(this.#o.native, initial, {
      saved: (host) => void this.#saved(creds, host),
      forgotten: (id, error) => void this.#forgotten(id, error),
    });
    this.#creds = creds;
    this.pairing = false;
    const app = this.#o.makeApp(creds);
    this.app = app;
    void app.start(openId);
  }

  /** Pairing on the store on screen kept a host: it is listed and selected (the app did both). */
  async #saved(creds: RemoteCredentialStore, host: PairedHost): Promise<void> {
    if (creds !== this.#creds) return;
    this.pairing = false;
    this.error = null;
    this.selected = host.id;
    this.list = this.list.some((h) => h.id === host.id) ? this.list.map((h) => (h.id === host.id ? host : h)) : [...this.list, host];
    await this.#reload();
    void this.probe(host.id);
  }

  /** The store on screen forgot its host (through its own credentials). */
  async #forgotten(id: string, error: unknown): Promise<void> {
    if (error) {
      this.error = describeError(error);
      return;
    }
    await this.#reload();
    if (this.#creds?.hostId === id && this.selected) await this.#open(this.selected);
  }

  async #reload(): Promise<void> {
    try {
      this.#setList(await this.#o.native.hosts());
    } catch (e) {
      this.error = describeError(e);
    }
  }

  async #revoke(id: string, deviceId: string): Promise<void> {
    try {
      await (await this.#apiFor(id)).revokeDevice(deviceId);
    } catch {
      // Unreachable or already revoked: forgetting here goes on (the host's device list can revoke it later).
    }
  }

  /** A host's API with its own key, for a quick call beside the store on screen. */
  async #apiFor(id: string): Promise<ArcbenchApi> {
    const c = await this.#o.native.hostCredentials(id);
    return new ArcbenchApi(toCreds(c), { timeoutMs: PROBE_TIMEOUT_MS, fetch: this.#o.fetch });
  }

  #setList(state: HostsState): void {
    this.list = state.hosts;
    this.selected = state.selected;
  }
}

function toCreds(c: { origin: string; key: string; device_id: string | null }): HostCredentials {
  return { origin: c.origin, key: c.key, deviceId: c.device_id };
}

/** One line for a host's state, as the switcher shows it. */
export function describeHostState(state: HostState): string {
  switch (state.kind) {
    case 'checking':
      return 'Checking…';
    case 'reachable':
      return state.active === 1 ? 'Reachable, 1 active session' : `Reachable, ${state.active} active sessions`;
    case 'unreachable':
      return 'Unreachable';
    case 'revoked':
      return 'Unpaired on the host: pair again';
    case 'failed':
      return state.message;
  }
}
