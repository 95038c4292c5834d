import { sessionHref } from '../routes';

/**
 * A tapped notification of the phone app's: the session it is about, on the host it came from
 * (the app's own id for it). The desktop preview's Rust side emits it as `openSession`; on a
 * phone, the notification plugin hands the tap to the page with these as the notification's extras.
 */
export interface OpenSessionTarget {
  host_id: string;
  session_id: string;
}

/** What a tap leads to: nothing (a host no longer listed), or the session, after a switch if need be. */
export type OpenPlan = { kind: 'unknown-host'; hostId: string } | { kind: 'open'; switchTo: string | null; href: string };

/**
 * Where a tap goes, from the hosts as they are: its session's page, on its host — switched to
 * first unless it is the one on screen (a host selected but not shown, its key gone or the pair
 * screen up, is switched to as well, so the page opens on it).
 */
export function planOpen(target: OpenSessionTarget, hosts: { ids: readonly string[]; shownId: string | null }): OpenPlan {
  if (!hosts.ids.includes(target.host_id)) return { kind: 'unknown-host', hostId: target.host_id };
  return { kind: 'open', switchTo: target.host_id === hosts.shownId ? null : target.host_id, href: sessionHref(target.session_id) };
}

const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/**
 * The target of what the notification plugin delivered for a tap, or null for anything else (a
 * dismissal, a notification that is not about a session). Its type says `Options`, but iOS and
 * Android both send `{actionId, notification: {…, extra}}`: either shape is read.
 */
export function tapTarget(action: unknown): OpenSessionTarget | null {
  if (typeof action !== 'object' || action === null) return null;
  const a = action as { actionId?: unknown; notification?: unknown; extra?: unknown };
  if (a.actionId !== undefined && a.actionId !== 'tap') return null;
  const note = typeof a.notification === 'object' && a.notification !== null ? (a.notification as { extra?: unknown }) : a;
  const extra = typeof note.extra === 'object' && note.extra !== null ? (note.extra as Record<string, unknown>) : null;
  const host = text(extra?.host_id);
  const session = text(extra?.session_id);
  return host && session ? { host_id: host, session_id: session } : null;
}

/** What opening needs of the phone app's page. */
export interface SessionOpener {
  /** The hosts as listed now, and the one on screen. */
  hosts: () => { ids: readonly string[]; shownId: string | null };
  /** Shows another host (HostsStore.select); answers once it is shown or refused. */
  select: (id: string) => Promise<void>;
  go: (href: string) => void;
}

/**
 * Opens a tapped notification's session: the one handler for the preview's event and the
 * phone's tap. A host no longer listed (forgotten since) is ignored, and so is a switch that
 * failed: the host list says why, and its session would not be this host's.
 */
export async function openSession(target: OpenSessionTarget, opener: SessionOpener): Promise<void> {
  const plan = planOpen(target, opener.hosts());
  if (plan.kind === 'unknown-host') {
    console.warn(`A notification for host ${plan.hostId}, which is not paired (any more): ignored.`);
    return;
  }
  if (plan.switchTo) {
    await opener.select(plan.switchTo);
    if (opener.hosts().shownId !== plan.switchTo) return;
  }
  opener.go(plan.href);
}
