import type { Diff } from '../bindings';
import { describeError } from '../client/errors';
import type { HostApi } from '../client/host';
import type { Busy, SessionActions } from './actions.svelte';
import type { Toasts } from './toasts.svelte';

export interface DiffLoad {
  diff: Diff | null;
  loading: boolean;
  error: string | null;
}

/** What a review call did, for a shell's feedback (the phone app's haptic tick). */
export type ReviewFeedback = 'approve' | 'reject';

export interface ReviewDeps {
  api: () => HostApi;
  actions: SessionActions;
  toasts: Toasts;
  /** A diff arrived (the list row counts its changes). */
  onDiff: (id: string, diff: Diff) => void;
  /** A commit came or went: the session's view is fetched again. */
  onCommitsChanged: (id: string) => Promise<void>;
  /** The host took an approval or rejection of hunks. */
  feedback?: (what: ReviewFeedback) => void;
}

/**
 * Review of a session's uncommitted work: its diff (fetched when opened, again after the host
 * says it changed), approve / reject per hunk, and Apply / Reject all / Undo / Merge.
 */
export class ReviewStore {
  diffs = $state<Record<string, DiffLoad>>({});

  readonly #d: ReviewDeps;
  // Bookkeeping, not state: nothing renders from these.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #inFlight = new Map<string, Promise<void>>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #again = new Set<string>();

  constructor(deps: ReviewDeps) {
    this.#d = deps;
  }

  diff(id: string): Diff | null {
    return this.diffs[id]?.diff ?? null;
  }

  /** Sessions whose diff is on screen (loaded once), so news about them refetches it. */
  loadedIds(): string[] {
    return Object.keys(this.diffs);
  }

  /** This device's last copy, while the host cannot be asked. */
  showSaved(id: string, diff: Diff | null): void {
    if (diff && !this.diffs[id]?.diff) this.diffs[id] = { diff, loading: false, error: null };
  }

  /** Fetches the diff; calls during a fetch coalesce into one more fetch after it. */
  load(id: string): Promise<void> {
    const running = this.#inFlight.get(id);
    if (running) {
      this.#again.add(id);
      return running;
    }
    const run = (async () => {
      do {
        this.#again.delete(id);
        const current = this.diffs[id];
        this.diffs[id] = { diff: current?.diff ?? null, loading: true, error: null };
        try {
          const diff = await this.#d.api().diff(id);
          this.diffs[id] = { diff, loading: false, error: null };
          this.#d.onDiff(id, diff);
        } catch (e) {
          this.diffs[id] = { diff: current?.diff ?? null, loading: false, error: describeError(e) };
        }
      } while (this.#again.has(id));
    })().finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, run);
    return run;
  }

  /** Refetches the diffs on screen among `ids` (the others load when opened). */
  refresh(ids: Iterable<string>): void {
    for (const id of ids) if (this.diffs[id]) void this.load(id);
  }

  forget(id: string): void {
    delete this.diffs[id];
  }

  reset(): void {
    this.diffs = {};
  }

  approve(id: string, hunkIds: string[]): Promise<boolean> {
    return this.#review(id, 'approve', () => this.#d.api().approveHunks(id, hunkIds), 'approve');
  }

  reject(id: string, hunkIds: string[], comment?: string): Promise<boolean> {
    return this.#review(id, 'reject', () => this.#d.api().rejectHunks(id, hunkIds, comment), 'reject');
  }

  rejectAll(id: string): Promise<boolean> {
    return this.#review(id, 'reject_all', () => this.#d.api().rejectAll(id));
  }

  apply(id: string, message?: string): Promise<boolean> {
    return this.#d.actions.run(id, 'apply', async () => {
      const { commit } = await this.#d.api().apply(id, message);
      this.#d.toasts.push('info', `Committed ${commit.slice(0, 8)}.`);
      await this.#afterCommitChange(id);
    });
  }

  undo(id: string): Promise<boolean> {
    return this.#d.actions.run(id, 'undo', async () => {
      await this.#d.api().undo(id);
      this.#d.toasts.push('info', 'Last commit undone; its changes are back for review.');
      await this.#afterCommitChange(id);
    });
  }

  /** Merges into `base` (the session's base branch, named in the toast). */
  merge(id: string, base: string | null): Promise<boolean> {
    return this.#d.actions.run(id, 'merge', async () => {
      const { commit } = await this.#d.api().merge(id);
      this.#d.toasts.push('info', `Merged into ${base ?? 'the base branch'} (${commit.slice(0, 8)}).`);
      await this.#afterCommitChange(id);
    });
  }

  #review(id: string, what: Busy, call: () => Promise<Diff>, feedback?: ReviewFeedback): Promise<boolean> {
    return this.#d.actions.run(id, what, async () => {
      const diff = await call();
      // Once the host took it: a tick for a refused call would say the opposite of the toast.
      if (feedback) this.#d.feedback?.(feedback);
      this.diffs[id] = { diff, loading: false, error: null };
      this.#d.onDiff(id, diff);
    });
  }

  async #afterCommitChange(id: string): Promise<void> {
    // The commit events bring the same news; this makes it show even if the feed lags.
    await Promise.all([this.#d.onCommitsChanged(id).catch(() => undefined), this.load(id)]);
  }
}
