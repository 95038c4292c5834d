import type { PushEvent } from './bindings';

/**
 * The kinds of event a device can be told about, in the host's order, as Settings words them:
 * one list for both the host's Web Push (PushSettings) and the phone app's own notifications
 * (remote/NoticeSettings), so the same choice reads the same wherever it is made. The phone
 * app's `PushEvent` has the same names (mobile/ reuses the host's).
 */
export const PUSH_EVENTS: readonly { id: PushEvent; label: string; hint: string }[] = [
  { id: 'turn_finished', label: 'A turn finished', hint: 'With how many hunks await your review.' },
  { id: 'needs_you', label: 'The agent needs you', hint: 'Its turn failed or was held.' },
  { id: 'budget', label: 'Budget warnings', hint: 'A spending limit is near or reached.' },
];

export const ALL_PUSH_EVENTS: PushEvent[] = PUSH_EVENTS.map((e) => e.id);

/** The events in the host's order, each once. */
export function orderedEvents(events: Iterable<PushEvent>): PushEvent[] {
  const chosen = new Set(events);
  return ALL_PUSH_EVENTS.filter((e) => chosen.has(e));
}
