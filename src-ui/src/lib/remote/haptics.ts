import type * as Haptics from '@tauri-apps/plugin-haptics';
import type { ReviewFeedback } from '../store/review.svelte';

/**
 * A haptic tick for a review call the host took: light for an approval, medium for a rejection,
 * so a thumb feels which one it was. The plugin loads on the first tick; a phone without haptics
 * (or a failed call) simply stays still.
 */
export function hapticFeedback(): (what: ReviewFeedback) => void {
  let plugin: Promise<typeof Haptics> | null = null;
  return (what) => {
    plugin ??= import('@tauri-apps/plugin-haptics');
    plugin.then((h) => h.impactFeedback(what === 'approve' ? 'light' : 'medium')).catch(() => undefined);
  };
}
