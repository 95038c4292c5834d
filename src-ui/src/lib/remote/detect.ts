/**
 * Whether this page runs in the phone app (mobile/), whose shell sets `__ARCBENCH_SHELL__` before
 * any script. Asked before `isDesktopApp()`: the phone app's webview has Tauri's bridge as well.
 */
export function isRemoteShell(): boolean {
  return typeof window !== 'undefined' && (window as { __ARCBENCH_SHELL__?: unknown }).__ARCBENCH_SHELL__ === 'remote';
}
