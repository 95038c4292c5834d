import type { Diff, Event, Prompt } from '../bindings';
import { isCode, NetworkFailure } from '../client/errors';
import type { Snapshots } from '../outbox/snapshots';
import { applyToView, diffArrived, upsertPrompt, type SessionView } from './sessionView';

/** How a session's view is fetched: its snapshot (the app), or something older (the benchmark). */
export type ViewLoader = (id: string) => Promise<SessionView>;

interface Loading {
  /** Events of this session that arrived while its snapshot was on the way. */
  buffer: Event[];
  done: Promise<number | null>;
}

/**
 * The sessions on screen, each a view built from its snapshot plus the live events after it.
 * Only open sessions are kept (one on a phone, one beside the list on a desktop); a session
 * opened again is fetched again, which costs O(session), never O(event log).
 */
export class SessionDetails {
  views = $state<Record<string, SessionView>>({});

  // Bookkeeping, not state: nothing renders from these.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #open = new Set<string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #loading = new Map<string, Loading>();
  readonly #loader: ViewLoader;
  readonly #device: () => Promise<Snapshots | null>;

  /** `device`: this device's saved copies (IndexedDB), once it is open. */
  constructor(loader: ViewLoader, device: () => Promise<Snapshots | null> = async () => null) {
    this.#loader = loader;
    this.#device = device;
  }

  view(id: string): SessionView | undefined {
    return this.views[id];
  }

  openIds(): string[] {
    return [...this.#open];
  }

  isOpen(id: string): boolean {
    return this.#open.has(id);
  }

  /** Marks a session as on screen, so the next start or resync fetches its snapshot too. */
  want(id: string): void {
    this.#open.add(id);
  }

  /**
   * Puts a session on screen: its snapshot is fetched unless a current view or a fetch is
   * already there. Without the host, this device's last copy is shown (marked stale).
   */
  async open(id: string): Promise<void> {
    this.#open.add(id);
    const have = this.views[id];
    if (have && !have.stale) return;
    try {
      await this.load(id);
    } catch (e) {
      if (!(e instanceof NetworkFailure)) throw e;
      await this.#restore(id);
    }
  }

  close(id: string): void {
    this.#open.delete(id);
    delete this.views[id];
  }

  /**
   * Fetches the session's snapshot (one fetch at a time per session) and makes it the view, with
   * the events that arrived meanwhile folded on top. Answers the view's seq, or null when the
   * host no longer has the session.
   */
  load(id: string): Promise<number | null> {
    const running = this.#loading.get(id);
    if (running) return running.done;
    const loading: Loading = { buffer: [], done: Promise.resolve(null) };
    loading.done = (async () => {
      try {
        const view = await this.#loader(id);
        for (const e of loading.buffer) applyToView(view, e);
        if (this.#open.has(id)) this.views[id] = view;
        return view.seq;
      } catch (e) {
        if (!isCode(e, 'not_found')) throw e;
        delete this.views[id];
        return null;
      } finally {
        this.#loading.delete(id);
      }
    })();
    this.#loading.set(id, loading);
    return loading.done;
  }

  /** Open sessions whose view is missing or stale (after the host was out of reach). */
  needingLoad(): string[] {
    return this.openIds().filter((id) => !this.views[id] || this.views[id].stale);
  }

  /** The view as given (the benchmark's replaying start builds its own). */
  setView(view: SessionView): void {
    this.#open.add(view.session.id);
    this.views[view.session.id] = view;
  }

  apply(e: Event): void {
    const sid = e.session_id;
    if (!sid) return;
    this.#loading.get(sid)?.buffer.push(e);
    const v = this.views[sid];
    if (v && !v.stale) applyToView(v, e);
  }

  /** A prompt the host just accepted (its answer can beat the event). */
  upsertPrompt(sid: string, prompt: Prompt): void {
    const v = this.views[sid];
    if (v) upsertPrompt(v, prompt);
  }

  /** The session's diff arrived (the Changes tab's proposals of a finished turn step aside). */
  diffArrived(sid: string): void {
    const v = this.views[sid];
    if (v && !v.stale) diffArrived(v);
  }

  /** Forgets every view, but not which sessions are on screen (they are fetched again). */
  reset(): void {
    this.views = {};
  }

  saveToDevice(id: string, diff: Diff | null): void {
    const view = this.views[id];
    if (!view || view.stale) return;
    // Activity and estimates are live-only detail; the snapshot the host gives has none either.
    const saved = { view: { ...view, activity: {}, estimates: {}, writing: null }, diff, savedAt: Date.now() };
    void this.#device().then((d) => d?.saveSession(id, saved));
  }

  /** This device's last copy of the session, shown while the host cannot be asked. */
  async #restore(id: string): Promise<void> {
    const saved = await (await this.#device())?.session(id);
    if (!saved || this.views[id] || !this.#open.has(id)) return;
    // Copies saved before proposals existed have none.
    const view: Partial<SessionView> = saved.view;
    this.views[id] = { ...saved.view, proposals: view.proposals ?? {}, estimates: {}, writing: null, stale: true };
  }

  /** The diff this device kept with its copy of the session. */
  async savedDiff(id: string): Promise<Diff | null> {
    return (await (await this.#device())?.session(id))?.diff ?? null;
  }
}
