import type { AgentStatus, Event, Status, TranscriberStatus } from '../bindings';
import { deviceCredentials, type CredentialStore } from '../client/credentials';
import { describeError, isCode, NetworkFailure } from '../client/errors';
import { PairingError, type PairingRequest } from '../client/pairing';
import type { HostApi } from '../client/host';
import { ArcbenchApi, redeemPairingCode, type FetchLike, type HostCredentials } from '../client/rest';
import type { ConnectionInfo, ResyncReason } from '../client/socket';
import { openDb } from '../outbox/db';
import { deviceStorage } from '../outbox/device';
import { memoryOutboxStorage, type OutboxStorage } from '../outbox/outbox';
import type { Snapshots } from '../outbox/snapshots';
import { SessionActions } from './actions.svelte';
import { ingestEvents } from './ingest';
import { Connection, type ConnectionOptions } from './connection.svelte';
import { DevicesStore } from './devices.svelte';
import { NotesStore } from './notes.svelte';
import { OutboxStore } from './outbox.svelte';
import { ReviewStore, type ReviewFeedback } from './review.svelte';
import { SessionDetails } from './sessionDetails.svelte';
import { SessionsStore } from './sessions.svelte';
import { snapshotStart, type StartStrategy, type SyncTarget } from './sync';
import { Toasts } from './toasts.svelte';
import { UsageStore } from './usage.svelte';
import { VoiceStore } from './voice.svelte';
import { transcriberOf } from '../voice/types';

export interface AppOptions {
  /** Where the host's credentials come from and pairing keeps them (default: this device's localStorage). */
  credentials?: CredentialStore;
  /** How the app starts and resyncs (default: from snapshots). */
  strategy?: StartStrategy;
  /**
   * How to reach the paired host (default: HTTP, `ArcbenchApi`); the desktop app gives its IPC
   * client when the host runs inside it. `onUnauthorized`: the host refused the key.
   */
  api?: (creds: HostCredentials, onUnauthorized: () => void) => HostApi;
  /**
   * Where the host's unsent prompts are kept (default: IndexedDB, beside the snapshots). The
   * phone app keeps each host's outbox natively, in its own files.
   */
  outboxStorage?: (creds: HostCredentials) => Promise<OutboxStorage>;
  /** A review call the host took (the phone app ticks haptically); none by default. */
  feedback?: (what: ReviewFeedback) => void;
  /** Events as the socket delivered them, once taken in (the phone app's local notifications). */
  onEvents?: (batch: Event[], app: AppStore) => void;
  /** For tests: the network and storage under the stores. */
  fetch?: FetchLike;
  openDb?: () => Promise<IDBDatabase>;
  socket?: ConnectionOptions['socket'];
}

/**
 * The app's root: the paired host and one store per concern, wired together. Components read the
 * stores' `$state` and call their methods; nothing else talks to the host. This file only starts,
 * stops and routes: the work is in the stores.
 */
export class AppStore implements SyncTarget {
  /** Raw (never deeply proxied): callbacks tell the current credentials from older ones by identity. */
  creds = $state.raw<HostCredentials | null>(null);
  status = $state<Status | null>(null);
  /** A new version of the app is installed and waits for a reload. */
  updateReady = $state(false);
  /**
   * The host stopped accepting this device's key (revoked: a 4401 close, a 401, or our own
   * `device.revoked`): its credentials are gone and the pair screen says why.
   */
  revoked = $state<{ origin: string } | null>(null);

  readonly toasts = new Toasts();
  readonly connection = new Connection();
  readonly actions = new SessionActions(this.toasts, (id) => void this.review.load(id));
  readonly sessions = new SessionsStore(() => this.api, this.actions);
  readonly details: SessionDetails;
  readonly usage = new UsageStore(() => this.api, this.toasts);
  readonly review: ReviewStore;
  readonly notes: NotesStore;
  readonly outbox: OutboxStore;
  readonly devices: DevicesStore;
  readonly voice: VoiceStore;

  #api: HostApi | null = null;
  readonly #opts: AppOptions;
  readonly #credentials: CredentialStore;
  readonly #strategy: StartStrategy;
  #db: Promise<IDBDatabase> | null = null;
  #device: Promise<Snapshots | null> = Promise.resolve(null);
  #outboxReady: Promise<void> = Promise.resolve();
  /** The connection just came up from a resync, which fetched everything already. */
  #freshSync = false;

  constructor(options: AppOptions = {}) {
    this.#opts = options;
    this.#strategy = options.strategy ?? snapshotStart;
    this.#credentials = options.credentials ?? deviceCredentials;
    this.creds = this.#credentials.load();
    const deps = { api: () => this.api, actions: this.actions, toasts: this.toasts };
    this.details = new SessionDetails(
      (id) => this.#strategy.load(this, id),
      () => this.#device,
    );
    this.review = new ReviewStore({
      ...deps,
      feedback: options.feedback,
      onDiff: (id, diff) => {
        this.sessions.noteDiff(id, diff);
        this.details.diffArrived(id);
      },
      onCommitsChanged: async (id) => {
        await this.details.load(id);
        this.details.saveToDevice(id, this.review.diff(id));
      },
    });
    this.notes = new NotesStore({
      ...deps,
      reloadDiff: (id) => void this.review.load(id),
      onRevision: (id, prompt) => this.details.upsertPrompt(id, prompt),
    });
    this.outbox = new OutboxStore({
      ...deps,
      online: () => this.online,
      onSent: (id, prompt) => this.details.upsertPrompt(id, prompt),
    });
    this.voice = new VoiceStore({
      api: () => this.api,
      toasts: this.toasts,
      transcriber: () => transcriberOf(this.status),
      isOpen: (id) => this.details.isOpen(id),
      freshDiff: async (id) => {
        await this.review.load(id);
        return this.review.diff(id);
      },
    });
    this.devices = new DevicesStore({
      api: () => this.api,
      selfId: () => this.creds?.deviceId ?? null,
      onSelfRevoked: () => this.#keyRefused(this.creds),
    });
  }

  /** The paired host's API (throws when unpaired). */
  get api(): HostApi {
    if (!this.#api) throw new Error('Not paired with a host.');
    return this.#api;
  }

  /** What carries this store's calls to the host, once started. */
  get transport(): HostApi['transport'] | null {
    return this.#api?.transport ?? null;
  }

  get paired(): boolean {
    return this.creds !== null;
  }

  get demo(): boolean {
    return this.status?.demo === true;
  }

  get online(): boolean {
    return this.connection.online;
  }

  /**
   * Starts talking to the paired host (no-op when unpaired): the start strategy fills the stores
   * (with `openId`'s snapshot among the first requests), then the event feed streams from there.
   */
  async start(openId?: string | null): Promise<void> {
    const creds = this.creds;
    if (!creds) return;
    this.stop();
    const refused = () => this.#keyRefused(creds);
    this.#api = this.#opts.api?.(creds, refused) ?? new ArcbenchApi(creds, { fetch: this.#opts.fetch, onUnauthorized: refused });
    this.#resetHost();
    if (openId) this.details.want(openId);
    const db = (this.#db ??= (this.#opts.openDb ?? (() => openDb()))().catch((e: unknown) => {
      this.toasts.push('warning', `This browser keeps no offline storage (${describeError(e)}); queued prompts live only until reload.`);
      throw e;
    }));
    const storage = deviceStorage(db, creds.origin);
    this.#device = storage.snapshots;
    this.#outboxReady = this.#outboxStorage(creds, storage.outbox).then((o) => this.outbox.init(creds.origin, o));
    this.connection.start({
      origin: creds.origin,
      key: creds.key,
      resync: (reason) => this.#sync(reason),
      onEvents: (batch) => {
        this.ingest(batch);
        this.#opts.onEvents?.(batch, this);
      },
      onChange: (info, was) => this.#connectionChanged(info, was),
      socket: this.#opts.socket,
    });
    // What this device kept shows until the host answers (demo mode stays labelled offline too).
    const device = await this.#device;
    const status = (await device?.status()) ?? null;
    if (this.creds !== creds) return; // unpaired (or paired elsewhere) meanwhile
    this.status ??= status;
    const cached = await device?.sessions();
    if (cached && this.creds === creds) this.sessions.showFromDevice(cached);
    await this.#outboxReady;
  }

  stop(): void {
    this.connection.stop();
  }

  /**
   * Pairs with a host. A code is redeemed (`POST /pair`, no key needed) for this device's own
   * key, kept with the device's id; a key pasted by hand is checked against the host first.
   * Failures are `PairingError`s, or the host's refusal (`describePairingError` words them).
   */
  async pair(req: PairingRequest, deviceName = ''): Promise<void> {
    let creds: HostCredentials;
    let status: Status | null = null;
    if (req.kind === 'code') {
      const paired = await redeemPairingCode(req.origin, { code: req.code, device_name: deviceName.trim() }, { timeoutMs: 10_000, fetch: this.#opts.fetch });
      creds = { origin: req.origin, key: paired.key, deviceId: paired.device.id };
    } else {
      creds = { origin: req.origin, key: req.key, deviceId: null };
      const api = new ArcbenchApi(creds, { timeoutMs: 10_000, fetch: this.#opts.fetch });
      try {
        status = await api.status();
      } catch (e) {
        if (isCode(e, 'unauthorized')) throw new PairingError('The host rejected that key.');
        if (e instanceof NetworkFailure) throw new PairingError(`Cannot reach ${req.origin}. Is the host running, and is this device on its network?`);
        throw e;
      }
    }
    // Not paired until kept: a pairing the device could not store would be gone at the next start.
    await this.#credentials.save(creds);
    this.revoked = null;
    if (status) this.status = status;
    // As kept: a store may spell the address its own way (the phone app files prompts under it).
    this.creds = this.#credentials.load() ?? creds;
    await this.start();
  }

  /** Forgets the host on this device (the key stays valid on the host). */
  unpair(): void {
    this.#drop();
    this.#credentials.forget();
  }

  /** Leaves the host in memory: no connection, no credentials, nothing of its state. */
  #drop(): void {
    this.stop();
    this.creds = null;
    this.#api = null;
    this.status = null;
    this.revoked = null;
    this.#resetHost();
    this.outbox.close();
  }

  /**
   * "Forget this host": revokes this device's key on the host first (when it was paired with a
   * code and the host is reachable), so a forgotten key cannot be used again; then `unpair`.
   */
  async forget(): Promise<void> {
    const creds = this.creds;
    this.stop();
    if (creds?.deviceId) {
      const api = new ArcbenchApi(creds, { timeoutMs: 5_000, fetch: this.#opts.fetch });
      await api.revokeDevice(creds.deviceId).catch(() => undefined);
    }
    this.unpair();
  }

  /** The "unpaired on the host" notice was read; the pair screen shows its form. */
  dismissRevoked(): void {
    this.revoked = null;
  }

  /** A session comes on screen: its view, diff and review history. */
  async openSession(id: string): Promise<void> {
    const view = this.details.open(id).catch((e: unknown) => this.toasts.push('error', describeError(e)));
    await Promise.all([view, this.review.load(id), this.notes.loadHistory(id)]);
    if (this.details.view(id)?.stale) this.review.showSaved(id, await this.details.savedDiff(id));
    this.details.saveToDevice(id, this.review.diff(id));
  }

  closeSession(id: string): void {
    this.details.close(id);
    this.review.forget(id);
  }

  setStatus(status: Status): void {
    this.status = status;
    void this.#device.then((d) => d?.saveStatus(status));
  }

  /** Folds a batch of new events (in seq order) into every store, then fetches what they name. */
  ingest(batch: Event[]): void {
    ingestEvents(this, batch);
  }

  setAgent(agent: AgentStatus): void {
    if (this.status) this.status = { ...this.status, agent };
  }

  /** The host's transcriber changed (`transcriber.state`): the mic follows it. */
  setTranscriber(transcriber: TranscriberStatus): void {
    if (this.status) this.status = { ...this.status, transcriber };
  }

  /** Runs the start strategy for the socket; a refused key stops it as a 4401 would. */
  async #sync(reason: ResyncReason): Promise<number | 'unauthorized'> {
    // The host's log is not the one we knew (restored, replaced): what came from it is void.
    if (reason === 'ahead') {
      this.sessions.reset();
      this.details.reset();
      this.notes.reset();
    }
    try {
      const since = await this.#strategy.sync(this, reason);
      void this.#device.then((d) => d?.saveSessions(this.sessions.sorted()));
      if (reason !== 'start') {
        // Whatever the missed events said about diffs and notes on screen, ask again.
        this.review.refresh(this.review.loadedIds());
        for (const id of this.details.openIds()) void this.notes.loadHistory(id);
      }
      this.#freshSync = true;
      return since;
    } catch (e) {
      if (isCode(e, 'unauthorized')) return 'unauthorized';
      throw e;
    }
  }

  #connectionChanged(info: ConnectionInfo, was: ConnectionInfo['state']): void {
    if (info.state === 'online' && was !== 'online') {
      void this.#outboxReady.then(() => this.outbox.flush());
      if (this.#freshSync) {
        this.#freshSync = false;
      } else {
        // Back after a drop: events resume from the last seq; these catch up what events don't
        // say (limits set elsewhere, the agent's version) and what was shown from this device.
        void this.api.status().then((s) => this.setStatus(s), () => undefined);
        void this.usage.refresh();
        this.review.refresh(this.review.loadedIds());
        for (const id of this.details.needingLoad()) void this.details.load(id).catch(() => undefined);
      }
    }
    if (info.state === 'unauthorized' && was !== 'unauthorized') this.#keyRefused(this.creds);
  }

  /**
   * The host refused `creds` (revoked on the host): no reconnecting, no retries; the key is
   * dropped and the pair screen explains. A refusal of credentials already replaced is ignored.
   */
  #keyRefused(creds: HostCredentials | null): void {
    if (!creds || this.creds !== creds) return;
    this.#drop();
    const c = this.#credentials;
    if (c.refused) c.refused();
    else c.forget();
    this.toasts.clear();
    this.revoked = { origin: creds.origin };
  }

  /** The shell's outbox storage when it gives one (in memory if it fails), else the device's. */
  #outboxStorage(creds: HostCredentials, device: Promise<OutboxStorage>): Promise<OutboxStorage> {
    const own = this.#opts.outboxStorage;
    if (!own) return device;
    return own(creds).catch((e: unknown) => {
      this.toasts.push('warning', `Queued prompts cannot be kept on this device (${describeError(e)}); they live only until the app closes.`);
      return memoryOutboxStorage();
    });
  }

  #resetHost(): void {
    this.sessions.reset();
    this.details.reset();
    this.usage.reset();
    this.review.reset();
    this.notes.reset();
    this.devices.reset();
    this.actions.clear();
  }
}
