/**
 * Whether this page runs in the desktop app's window (Tauri injects its IPC bridge before any
 * script). Kept apart from the rest of src/lib/desktop/ so the browser's entry can ask without
 * loading any of it.
 */
export function isDesktopApp(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
