import { onAction } from '@tauri-apps/plugin-notification';
import { events } from './bindings';
import { tapTarget, type OpenSessionTarget } from './openSession';

/**
 * Hands every tapped notification of the app's to `open`: the desktop preview's `openSession`
 * event (its Rust side hears the click), and on a phone the notification plugin's taps, which
 * reach the page instead. The plugin's action listener exists on iOS and Android only, so it is
 * registered only there. Answers how to stop.
 */
export async function followTaps(open: (target: OpenSessionTarget) => void, mobile: boolean): Promise<() => void> {
  const offs: (() => void)[] = [await events.openSession.listen((e) => open(e.payload))];
  if (mobile) {
    const listener = await onAction((action) => {
      const target = tapTarget(action);
      if (target) open(target);
    });
    offs.push(() => void listener.unregister().catch(() => undefined));
  }
  return () => offs.forEach((off) => off());
}
