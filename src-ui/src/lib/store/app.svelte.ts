import type {
  Budget,
  CreateSessionRequest,
  Diff,
  Event,
  ReviewNote,
  RevisionPreview,
  Session,
  Status,
  UsageResponse,
} from '../bindings';
import { loadCredentials, forgetCredentials, saveCredentials } from '../client/credentials';
import { ApiFailure, describeError, isCode, NetworkFailure } from '../client/errors';
import { PairingError, type PairingRequest } from '../client/pairing';
import { ArcbenchApi, type HostCredentials } from '../client/rest';
import { EventSocket, type ConnectionInfo } from '../client/socket';
import { openDb } from '../outbox/db';
import { browserLock, idbOutboxStorage, memoryOutboxStorage, Outbox, type OutboxEntry } from '../outbox/outbox';
import { idbSnapshots, type Snapshots } from '../outbox/snapshots';
import {
  applyEvent,
  createHostState,
  mergeSessionDetail,
  mergeSessions,
  mergeUsage,
  promptsOf,
  upsertPrompt,
  type HostState,
} from './hostState';

export interface Toast {
  id: number;
  kind: 'error' | 'warning' | 'info';
  text: string;
}

export interface DiffLoad {
  diff: Diff | null;
  loading: boolean;
  error: string | null;
}

/** A review or session action in progress, so its buttons show it and the others wait. */
export type Busy = 'approve' | 'reject' | 'revise' | 'apply' | 'reject_all' | 'undo' | 'merge' | 'cancel' | 'delete';

/** Budget events older than this at arrival are history (replayed), not news worth a toast. */
const FRESH_ALERT_MS = 2 * 60_000;
/** A page hidden this long may hold a dead socket (phone slept): reconnect when it is back. */
const STALE_AFTER_HIDDEN_MS = 30_000;

/**
 * The one store of the app: the paired host, its folded event log, the connection, the outbox and
 * what the screens are doing. Components read its `$state` fields and call its methods; nothing
 * else talks to the host.
 */
export class AppStore {
  creds = $state<HostCredentials | null>(null);
  host = $state<HostState>(createHostState());
  connection = $state<ConnectionInfo>({ state: 'connecting', lastSeq: 0, attempt: 0, retryAt: null });
  status = $state<Status | null>(null);
  usage = $state<UsageResponse | null>(null);
  outbox = $state<OutboxEntry[]>([]);
  diffs = $state<Record<string, DiffLoad>>({});
  busy = $state<Record<string, Busy | undefined>>({});
  /** Every review note known per session (from `review.noted` and `/history`), oldest first. */
  notes = $state<Record<string, ReviewNote[]>>({});
  toasts = $state<Toast[]>([]);
  /** The session list came from the device's snapshot, not (yet) from the host. */
  fromSnapshot = $state(false);
  /** A new version of the app is installed and waits for a reload. */
  updateReady = $state(false);

  api: ArcbenchApi | null = null;
  #socket: EventSocket | null = null;
  #outbox: Outbox | null = null;
  #snapshots: Snapshots | null = null;
  #db: Promise<IDBDatabase> | null = null;
  #pending: Event[] = [];
  #applyTimer: ReturnType<typeof setTimeout> | null = null;
  #toastId = 0;
  #adding: Promise<void> = Promise.resolve();
  #hiddenAt: number | null = null;
  // Bookkeeping, not state: nothing renders from these, so they are plain collections.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #diffInFlight = new Map<string, Promise<void>>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #diffAgain = new Set<string>();
  #cleanup: (() => void)[] = [];

  constructor() {
    this.creds = loadCredentials();
  }

  get paired(): boolean {
    return this.creds !== null;
  }

  get demo(): boolean {
    return this.status?.demo === true;
  }

  get online(): boolean {
    return this.connection.state === 'online';
  }

  /** Starts talking to the paired host (no-op when unpaired). */
  async start(): Promise<void> {
    const creds = this.creds;
    if (!creds) return;
    this.stop();
    this.api = new ArcbenchApi(creds);
    this.host = createHostState();
    this.#db ??= openDb().catch((e: unknown) => {
      this.toast('warning', `This browser keeps no offline storage (${describeError(e)}); queued prompts live only until reload.`);
      throw e;
    });
    const db = this.#db;
    const storage = await db.then(() => idbOutboxStorage(db)).catch(() => memoryOutboxStorage());
    this.#snapshots = await db.then(() => idbSnapshots(db, creds.origin)).catch(() => null);
    const api = this.api;
    this.#outbox = new Outbox({
      origin: creds.origin,
      storage,
      lock: browserLock(),
      send: async (entry) => (await api.submitPrompt(entry.session_id, { text: entry.text, client_id: entry.client_id })).prompt,
      onSent: (entry, prompt) => upsertPrompt(this.host, entry.session_id, prompt),
      onChange: (entries) => (this.outbox = entries),
    });
    await this.#outbox.load().catch((e: unknown) => this.toast('error', `Cannot read queued prompts: ${describeError(e)}`));

    // Demo mode stays labelled even when the host cannot be asked.
    this.status ??= (await this.#snapshots?.status()) ?? null;
    const cached = await this.#snapshots?.sessions();
    if (cached && Object.keys(this.host.sessions).length === 0) {
      mergeSessions(this.host, cached);
      this.fromSnapshot = true;
    }

    this.#socket = new EventSocket({
      origin: creds.origin,
      key: creds.key,
      since: 0,
      onEvent: (e) => this.#queueEvent(e),
      onState: (info) => this.#connectionChanged(info),
    });
    this.#socket.start();
    this.#watchVisibility();
    void this.refreshOverview();
  }

  stop(): void {
    this.#socket?.stop();
    this.#socket = null;
    for (const f of this.#cleanup.splice(0)) f();
    if (this.#applyTimer) clearTimeout(this.#applyTimer);
    this.#applyTimer = null;
    this.#pending = [];
  }

  /** Pairs with a host: checks the key against it, then keeps it. */
  async pair(req: PairingRequest): Promise<void> {
    if (req.kind === 'code') {
      // The mesh-and-pairing issue adds `POST /pair {code}` → a device key; it plugs in here.
      throw new PairingError('This host does not hand out pairing codes yet. Use a link with a key.');
    }
    const creds = { origin: req.origin, key: req.key };
    const api = new ArcbenchApi(creds, { timeoutMs: 10_000 });
    try {
      this.status = await api.status();
    } catch (e) {
      if (isCode(e, 'unauthorized')) throw new PairingError('The host rejected that key. Copy the link again.');
      if (e instanceof NetworkFailure) throw new PairingError(`Cannot reach ${req.origin}. Is the host running, and is this device on its network?`);
      throw e;
    }
    saveCredentials(creds);
    this.creds = creds;
    await this.start();
  }

  unpair(): void {
    this.stop();
    forgetCredentials();
    this.creds = null;
    this.api = null;
    this.status = null;
    this.usage = null;
    this.host = createHostState();
    this.outbox = [];
  }

  retryConnection(): void {
    this.#socket?.retryNow();
  }

  // ----- overview --------------------------------------------------------------------------

  async refreshOverview(): Promise<void> {
    const api = this.api;
    if (!api || (typeof navigator !== 'undefined' && !navigator.onLine)) return;
    const [status, sessions, usage] = await Promise.allSettled([api.status(), api.sessions(), api.usage()]);
    if (status.status === 'fulfilled') {
      this.status = status.value;
      void this.#snapshots?.saveStatus(status.value);
    }
    if (sessions.status === 'fulfilled') {
      mergeSessions(this.host, sessions.value);
      this.fromSnapshot = false;
      void this.#snapshots?.saveSessions(sessions.value);
    }
    if (usage.status === 'fulfilled') {
      this.usage = usage.value;
      mergeUsage(this.host, usage.value);
    }
    for (const r of [status, sessions, usage]) {
      if (r.status === 'rejected' && !(r.reason instanceof NetworkFailure)) {
        this.toast('error', describeError(r.reason));
        break;
      }
    }
  }

  async refreshUsage(): Promise<void> {
    try {
      const usage = await this.#api().usage();
      this.usage = usage;
      mergeUsage(this.host, usage);
    } catch {
      // The next usage event or reconnect refreshes it; a toast here would only be noise.
    }
  }

  sessionsSorted(): Session[] {
    return Object.values(this.host.sessions)
      .filter((s) => s.state !== 'deleted')
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  async createSession(req: CreateSessionRequest): Promise<Session> {
    const s = await this.#api().createSession(req);
    this.host.sessions[s.id] = s;
    return s;
  }

  async deleteSession(id: string, deleteBranch: boolean): Promise<boolean> {
    return this.#act(id, 'delete', async () => {
      await this.#api().deleteSession(id, deleteBranch);
      const s = this.host.sessions[id];
      if (s) s.state = 'deleted';
    });
  }

  async setBudget(update: Budget): Promise<void> {
    await this.#api().setBudget(update);
    await this.refreshUsage();
  }

  // ----- one session -----------------------------------------------------------------------

  /** Loads a session's detail and diff (the event feed keeps them current afterwards). */
  async openSession(id: string): Promise<void> {
    const snap = await this.#snapshots?.session(id);
    if (snap && !this.host.sessions[id]) {
      mergeSessionDetail(this.host, snap.detail);
      for (const [pid, text] of Object.entries(snap.replies)) this.host.replies[pid] ??= text;
      if (snap.diff && !this.diffs[id]?.diff) this.diffs[id] = { diff: snap.diff, loading: false, error: null };
    }
    try {
      mergeSessionDetail(this.host, await this.#api().session(id));
    } catch (e) {
      if (!(e instanceof NetworkFailure)) this.toast('error', describeError(e));
    }
    await Promise.all([this.loadDiff(id), this.loadHistory(id)]);
    this.#saveSessionSnapshot(id);
  }

  /** Fetches the session's rounds and pending notes; the host's word replaces what events said. */
  async loadHistory(id: string): Promise<void> {
    try {
      const h = await this.#api().history(id);
      const all = [...h.rounds.flatMap((r) => r.notes), ...h.pending_notes];
      for (const n of all) this.#addNote(id, n, true);
    } catch {
      // A host without history (or offline) still shows notes from the event feed.
    }
  }

  /** The notes the next revision would use. */
  pendingNotes(id: string): ReviewNote[] {
    return (this.notes[id] ?? []).filter((n) => n.round_prompt_id === null);
  }

  /** The notes a revision prompt was built from. */
  notesOfPrompt(id: string, promptId: string): ReviewNote[] {
    return (this.notes[id] ?? []).filter((n) => n.round_prompt_id === promptId);
  }

  /** The notes on one hunk. */
  notesOfHunk(id: string, hunkId: string): ReviewNote[] {
    return (this.notes[id] ?? []).filter((n) => n.hunk_id === hunkId);
  }

  /** Comments on one hunk; works on kept and pending hunks, also while a prompt runs. */
  async comment(id: string, hunkId: string, text: string): Promise<boolean> {
    try {
      const note = await this.#api().comment(id, hunkId, text);
      this.#addNote(id, note, true);
      return true;
    } catch (e) {
      this.toast('error', describeError(e));
      if (isCode(e, 'hunk_stale')) void this.loadDiff(id);
      return false;
    }
  }

  /** The revision prompt the pending notes make, or null (with a toast saying why). */
  async revisionPreview(id: string): Promise<RevisionPreview | null> {
    try {
      return await this.#api().revisionPreview(id);
    } catch (e) {
      this.toast(isCode(e, 'conflict') ? 'warning' : 'error', describeError(e));
      if (isCode(e, 'conflict')) void this.loadHistory(id);
      return null;
    }
  }

  /**
   * Queues the revision. Sent directly, not through the outbox (the host builds the prompt from
   * its notes); exactly once because the host dedupes by client_id, so a retry after a lost
   * answer reuses the same id.
   */
  async revise(id: string, clientId: string, text?: string): Promise<boolean> {
    if (typeof navigator !== 'undefined' && !navigator.onLine) {
      this.toast('warning', 'Offline: the revision was not sent. Try again when this device is back online.');
      return false;
    }
    return this.#act(id, 'revise', async () => {
      try {
        const { prompt } = await this.#api().revise(id, clientId, text);
        upsertPrompt(this.host, id, prompt);
      } catch (e) {
        if (e instanceof NetworkFailure) throw new Error(`The revision may not have reached the host (${e.message}). Send again; it is queued only once.`, { cause: e });
        throw e;
      }
      await this.loadHistory(id);
    });
  }

  #addNote(id: string, note: ReviewNote, authoritative: boolean): void {
    if (!this.notes[id]) this.notes[id] = [];
    const list = this.notes[id];
    const i = list.findIndex((n) => n.id === note.id);
    if (i < 0) {
      list.push(note);
      list.sort((a, b) => a.id - b.id);
    } else if (authoritative) {
      list[i] = note;
    }
  }

  /** Fetches the diff; calls during a fetch coalesce into one more fetch after it. */
  loadDiff(id: string): Promise<void> {
    const running = this.#diffInFlight.get(id);
    if (running) {
      this.#diffAgain.add(id);
      return running;
    }
    const run = (async () => {
      do {
        this.#diffAgain.delete(id);
        const current = this.diffs[id];
        this.diffs[id] = { diff: current?.diff ?? null, loading: true, error: null };
        try {
          const diff = await this.#api().diff(id);
          this.diffs[id] = { diff, loading: false, error: null };
        } catch (e) {
          this.diffs[id] = { diff: current?.diff ?? null, loading: false, error: describeError(e) };
        }
      } while (this.#diffAgain.has(id));
    })().finally(() => this.#diffInFlight.delete(id));
    this.#diffInFlight.set(id, run);
    return run;
  }

  approve(id: string, hunkIds: string[]): Promise<boolean> {
    return this.#review(id, 'approve', () => this.#api().approveHunks(id, hunkIds));
  }

  reject(id: string, hunkIds: string[], comment?: string): Promise<boolean> {
    return this.#review(id, 'reject', () => this.#api().rejectHunks(id, hunkIds, comment));
  }

  rejectAll(id: string): Promise<boolean> {
    return this.#review(id, 'reject_all', () => this.#api().rejectAll(id));
  }

  applyChanges(id: string, message?: string): Promise<boolean> {
    return this.#act(id, 'apply', async () => {
      const { commit } = await this.#api().apply(id, message);
      this.toast('info', `Committed ${commit.slice(0, 8)}.`);
      await this.#afterCommitChange(id);
    });
  }

  undo(id: string): Promise<boolean> {
    return this.#act(id, 'undo', async () => {
      await this.#api().undo(id);
      this.toast('info', 'Last commit undone; its changes are back for review.');
      await this.#afterCommitChange(id);
    });
  }

  merge(id: string): Promise<boolean> {
    return this.#act(id, 'merge', async () => {
      const { commit } = await this.#api().merge(id);
      const base = this.host.sessions[id]?.base_branch ?? 'the base branch';
      this.toast('info', `Merged into ${base} (${commit.slice(0, 8)}).`);
      await this.#afterCommitChange(id);
    });
  }

  // ----- prompts ---------------------------------------------------------------------------

  /**
   * Stores the prompt on the device first, then sends it if the host is reachable. Calls are
   * chained, so prompts typed in quick succession keep their order.
   */
  sendPrompt(sessionId: string, text: string): Promise<void> {
    const outbox = this.#outbox;
    if (!outbox) return Promise.reject(new Error('Not paired with a host.'));
    const added = this.#adding.then(() => outbox.add(sessionId, text));
    this.#adding = added.then(
      () => undefined,
      () => undefined,
    );
    return added.then(() => {
      if (this.online) void this.flushOutbox();
    });
  }

  beginEditQueued(clientId: string): boolean {
    return this.#outbox?.beginEdit(clientId) ?? false;
  }

  endEditQueued(clientId: string): void {
    this.#outbox?.endEdit(clientId);
    if (this.online) void this.flushOutbox();
  }

  async editQueued(clientId: string, text: string): Promise<void> {
    await this.#outbox?.edit(clientId, text);
    if (this.online) void this.flushOutbox();
  }

  async cancelQueued(clientId: string): Promise<void> {
    await this.#outbox?.cancel(clientId);
  }

  async retryQueued(clientId: string): Promise<void> {
    await this.#outbox?.retry(clientId);
    if (this.online) void this.flushOutbox();
  }

  async flushOutbox(): Promise<void> {
    const result = await this.#outbox?.flush();
    if (result === 'unauthorized') this.toast('error', describeError(new ApiFailure(401, { code: 'unauthorized' })));
  }

  /** Cancels a prompt the host holds: queued ones are dropped, a running one is stopped. */
  async cancelPrompt(sessionId: string, promptId: string): Promise<void> {
    try {
      await this.#api().cancelPrompt(sessionId, promptId);
    } catch (e) {
      this.toast('error', describeError(e));
    }
  }

  async stopRunning(sessionId: string): Promise<void> {
    await this.#act(sessionId, 'cancel', async () => {
      const { cancelled } = await this.#api().cancelRunning(sessionId);
      if (!cancelled) this.toast('info', 'Nothing was running.');
    });
  }

  // ----- toasts ----------------------------------------------------------------------------

  toast(kind: Toast['kind'], text: string): void {
    const id = ++this.#toastId;
    // The same message twice in a row (a flapping link) stays one toast.
    if (this.toasts.at(-1)?.text === text) return;
    this.toasts = [...this.toasts.slice(-3), { id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 10_000 : 6_000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  // ----- internals -------------------------------------------------------------------------

  #api(): ArcbenchApi {
    if (!this.api) throw new Error('Not paired with a host.');
    return this.api;
  }

  async #review(id: string, what: Busy, call: () => Promise<Diff>): Promise<boolean> {
    return this.#act(id, what, async () => {
      const diff = await call();
      this.diffs[id] = { diff, loading: false, error: null };
    });
  }

  /** Runs one action with the session marked busy; failures become readable toasts. */
  async #act(id: string, what: Busy, run: () => Promise<void>): Promise<boolean> {
    if (this.busy[id]) return false;
    this.busy[id] = what;
    try {
      await run();
      return true;
    } catch (e) {
      this.toast(isCode(e, 'session_busy') ? 'warning' : 'error', describeError(e));
      if (isCode(e, 'hunk_stale') || isCode(e, 'conflict')) void this.loadDiff(id);
      return false;
    } finally {
      this.busy[id] = undefined;
    }
  }

  async #afterCommitChange(id: string): Promise<void> {
    try {
      mergeSessionDetail(this.host, await this.#api().session(id));
    } catch {
      // The commit events bring the same news.
    }
    await this.loadDiff(id);
    this.#saveSessionSnapshot(id);
  }

  #saveSessionSnapshot(id: string): void {
    const session = this.host.sessions[id];
    if (!session || !this.#snapshots) return;
    const prompts = promptsOf(this.host, id);
    const replies: Record<string, string> = {};
    for (const p of prompts) {
      const r = this.host.replies[p.id];
      if (r) replies[p.id] = r;
    }
    void this.#snapshots.saveSession(id, {
      detail: { ...session, prompts, commits: this.host.commits[id] ?? [] },
      diff: this.diffs[id]?.diff ?? null,
      replies,
      savedAt: Date.now(),
    });
  }

  /**
   * Events arrive one WebSocket message at a time; a replay brings thousands. Folding them in
   * batches (one per frame) keeps the page to one render per batch instead of one per event.
   */
  #queueEvent(e: Event): void {
    this.#pending.push(e);
    this.#applyTimer ??= setTimeout(() => this.#applyPending(), 16);
  }

  #applyPending(): void {
    this.#applyTimer = null;
    const batch = this.#pending;
    this.#pending = [];
    const now = Date.now();
    const host = this.host;
    let usageChanged = false;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local to this call
    const diffsChanged = new Set<string>();
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local to this call
    const settled = new Set<string>();
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local to this call
    const historyChanged = new Set<string>();
    for (const e of batch) {
      if (!applyEvent(host, e)) continue;
      const sid = e.session_id ?? null;
      switch (e.type) {
        case 'diff.updated':
        case 'hunk.updated':
        case 'commit.created':
        case 'commit.undone':
        case 'session.merged':
          if (sid) diffsChanged.add(sid);
          break;
        case 'prompt.finished':
          if (sid) settled.add(sid);
          break;
        case 'review.noted':
          if (sid) this.#addNote(sid, e.note, false);
          break;
        case 'agent.state':
          // The agent being installed, ready or failed: /status shows it without a refetch.
          if (this.status) this.status = { ...this.status, agent: e.agent };
          break;
        case 'prompt.queued':
          // A revision used the pending notes: the host's history says which.
          if (sid && e.prompt.kind === 'revision') historyChanged.add(sid);
          break;
        case 'budget.warning':
        case 'budget.exceeded':
          usageChanged = true;
          if (now - Date.parse(e.ts) < FRESH_ALERT_MS) {
            const scope = e.scope === 'daily' ? 'Daily' : 'Session';
            const spent = e.spent_usd === null ? '' : ` $${e.spent_usd.toFixed(2)}`;
            const limit = e.limit_usd === null ? '' : ` of $${e.limit_usd.toFixed(2)}`;
            this.toast(
              e.type === 'budget.warning' ? 'warning' : 'error',
              e.type === 'budget.warning'
                ? `${scope} budget nearly used:${spent}${limit}.`
                : `${scope} budget reached:${spent}${limit}. New prompts wait until it is raised.`,
            );
          }
          break;
      }
    }
    // Only diffs someone is looking at are refetched; the rest load when opened.
    for (const sid of diffsChanged) if (this.diffs[sid]) void this.loadDiff(sid);
    for (const sid of historyChanged) if (this.diffs[sid]) void this.loadHistory(sid);
    for (const sid of settled) if (this.diffs[sid]) this.#saveSessionSnapshot(sid);
    if (usageChanged) void this.refreshUsage();
  }

  #connectionChanged(info: ConnectionInfo): void {
    const was = this.connection.state;
    this.connection = info;
    if (info.state === 'online' && was !== 'online') {
      // Back in touch: whatever we missed arrives as events; these catch up what events don't say.
      void this.refreshOverview();
      void this.flushOutbox();
      for (const sid of Object.keys(this.diffs)) void this.loadDiff(sid);
    }
    if (info.state === 'unauthorized' && was !== 'unauthorized') {
      this.toast('error', 'The host no longer accepts this device’s key. Pair again from Settings.');
    }
  }

  #watchVisibility(): void {
    if (typeof document === 'undefined') return;
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') {
        this.#hiddenAt = Date.now();
      } else if (this.#hiddenAt !== null) {
        if (Date.now() - this.#hiddenAt > STALE_AFTER_HIDDEN_MS) this.#socket?.refresh();
        this.#hiddenAt = null;
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    this.#cleanup.push(() => document.removeEventListener('visibilitychange', onVisibility));
  }
}

