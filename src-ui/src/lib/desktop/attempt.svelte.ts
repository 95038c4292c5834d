import { describeError } from '../client/errors';
import type { Code } from './bindings';
import { DesktopError } from './desktop.svelte';

/**
 * One control's command on the desktop screens: busy while it runs, then its error's message,
 * shown next to that control (and cleared by its next try). The screen around it keeps working.
 */
export class Attempt {
  busy = $state(false);
  error = $state<string | null>(null);
  /** The desktop app's code for `error`, when the app refused (the screen branches on it, never on the text). */
  code = $state<Code | null>(null);

  /** Runs `fn`; true when it succeeded. Never throws: the failure is `error`. */
  async run(fn: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.clear();
    try {
      await fn();
      return true;
    } catch (e) {
      this.error = describeError(e);
      this.code = e instanceof DesktopError ? e.code : null;
      return false;
    } finally {
      this.busy = false;
    }
  }

  clear(): void {
    this.error = null;
    this.code = null;
  }
}
