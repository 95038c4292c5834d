import type { Snippet } from 'svelte';

/**
 * What a shell around `App` adds to its screens: the desktop app's window passes its own pieces
 * (their code loads only there); the browser passes none and gets the app as it always was.
 */
export interface ShellSlots {
  /** Shown instead of the pair screen (the desktop app pairs other devices, never itself). */
  pair?: Snippet;
  /** First in Settings (the desktop app's host, repositories, key and start at login). */
  settings?: Snippet;
  /** Beside a session's facts (the desktop app's "Open worktree"); gets the session's id. */
  sessionTools?: Snippet<[string]>;
  /** Under the top bar, on every screen (the desktop app's agent installation, the phone app's hosts). */
  banner?: Snippet;
  /**
   * Reads a pairing QR code with the platform's own scanner instead of the page's camera (the
   * phone app); the text read, or null when the user backed out.
   */
  scan?: () => Promise<string | null>;
  /**
   * The host belongs to the shell, which hands over its key at every start: this window has no
   * pairing of its own to forget.
   */
  ownHost?: boolean;
}
