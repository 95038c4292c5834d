import { describeError, isCode } from '../client/errors';
import type { Toasts } from './toasts.svelte';

/** A review or session action in progress, so its buttons show it and the others wait. */
export type Busy = 'approve' | 'reject' | 'revise' | 'apply' | 'reject_all' | 'undo' | 'merge' | 'cancel' | 'delete';

/**
 * One action at a time per session: `busy[id]` says which is running (the screens disable the
 * rest), and a failure becomes a readable toast instead of an exception.
 */
export class SessionActions {
  busy = $state<Record<string, Busy | undefined>>({});
  readonly #toasts: Toasts;
  /** Called when an action failed because the diff moved on (hunk_stale, conflict). */
  readonly #onStale: (id: string) => void;

  constructor(toasts: Toasts, onStale: (id: string) => void) {
    this.#toasts = toasts;
    this.#onStale = onStale;
  }

  /** Runs `run` with the session marked busy; false if another action runs or this one failed. */
  async run(id: string, what: Busy, run: () => Promise<void>): Promise<boolean> {
    if (this.busy[id]) return false;
    this.busy[id] = what;
    try {
      await run();
      return true;
    } catch (e) {
      this.#toasts.push(isCode(e, 'session_busy') ? 'warning' : 'error', describeError(e));
      if (isCode(e, 'hunk_stale') || isCode(e, 'conflict')) this.#onStale(id);
      return false;
    } finally {
      this.busy[id] = undefined;
    }
  }

  clear(): void {
    this.busy = {};
  }
}
