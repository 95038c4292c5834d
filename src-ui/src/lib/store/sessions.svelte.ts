import type { CreateSessionRequest, Diff, Event, Session } from '../bindings';
import type { HostApi } from '../client/host';
import type { SessionActions } from './actions.svelte';
import { applyToList, createList, replaceList, sortedSessions, summarize, type DiffSummary, type SessionList } from './sessionList';

/** The session list: from `GET /sessions` at a seq, then live events; created and deleted here. */
export class SessionsStore {
  list = $state<SessionList>(createList());
  /** The list came from this device's last copy, not (yet) from the host. */
  fromDevice = $state(false);

  readonly #api: () => HostApi;
  readonly #actions: SessionActions;
  /** The host's list arrived; this device's copy is not shown over it. */
  #fromHost = false;

  constructor(api: () => HostApi, actions: SessionActions) {
    this.#api = api;
    this.#actions = actions;
  }

  get(id: string): Session | undefined {
    return this.list.sessions[id];
  }

  summary(id: string): DiffSummary | undefined {
    return this.list.diffSummary[id];
  }

  sorted(): Session[] {
    return sortedSessions(this.list);
  }

  /** The host's list as of `seq`; events at or below it are skipped when they arrive. */
  replace(sessions: Session[], seq: number): void {
    replaceList(this.list, sessions, seq);
    this.fromDevice = false;
    this.#fromHost = true;
  }

  /** What this device kept from the last time, until the host answers. */
  showFromDevice(sessions: Session[]): void {
    if (this.#fromHost) return;
    replaceList(this.list, sessions, 0);
    this.fromDevice = true;
  }

  /** Folds one live event in; false when the list already had it (seq at or below its own). */
  apply(e: Event): boolean {
    return applyToList(this.list, e);
  }

  /** A freshly loaded diff says how many changes the row should show. */
  noteDiff(id: string, diff: Diff): void {
    this.list.diffSummary[id] = summarize(diff);
  }

  reset(): void {
    this.list = createList();
    this.fromDevice = false;
    this.#fromHost = false;
  }

  async create(req: CreateSessionRequest): Promise<Session> {
    const s = await this.#api().createSession(req);
    this.list.sessions[s.id] = s;
    return s;
  }

  remove(id: string, deleteBranch: boolean): Promise<boolean> {
    return this.#actions.run(id, 'delete', async () => {
      await this.#api().deleteSession(id, deleteBranch);
      const s = this.list.sessions[id];
      if (s) s.state = 'deleted';
    });
  }
}
