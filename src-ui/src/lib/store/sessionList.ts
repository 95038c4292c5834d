import type { Diff, Event, Session } from '../bindings';

/**
 * The session list: `GET /sessions` (with the `last_seq` it was read at), then the live events
 * after it. Plain data and plain functions, kept in `$state` by the sessions store.
 */
export interface SessionList {
  /** Events at or below this seq are already in the list. */
  seq: number;
  sessions: Record<string, Session>;
  /** Counts from the latest `diff.updated` (or loaded diff) per session, for the list rows. */
  diffSummary: Record<string, DiffSummary>;
}

export interface DiffSummary {
  files: number;
  hunks: number;
  approved: number;
}

export function createList(): SessionList {
  return { seq: 0, sessions: {}, diffSummary: {} };
}

/** The host's list, read at `seq`, replaces what we had (sessions it no longer lists are gone). */
export function replaceList(l: SessionList, sessions: Session[], seq: number): void {
  l.sessions = Object.fromEntries(sessions.map((s) => [s.id, { ...s }]));
  l.seq = seq;
}

/** Folds one live event in. False when it is not news for the list. */
export function applyToList(l: SessionList, e: Event): boolean {
  if (e.seq <= l.seq) return false;
  l.seq = e.seq;
  const sid = e.session_id ?? null;
  switch (e.type) {
    case 'session.created':
    case 'session.updated':
      l.sessions[e.session.id] = { ...e.session };
      return true;
    case 'session.deleted':
      if (sid && l.sessions[sid]) l.sessions[sid].state = 'deleted';
      return true;
    case 'diff.updated':
      if (sid) l.diffSummary[sid] = { files: e.files, hunks: e.hunks, approved: e.approved };
      return true;
    default:
      return true;
  }
}

export function summarize(diff: Diff): DiffSummary {
  const hunks = diff.files.flatMap((f) => f.hunks);
  return { files: diff.files.length, hunks: hunks.length, approved: hunks.filter((h) => h.state === 'approved').length };
}

/** Newest first, without deleted sessions. */
export function sortedSessions(l: SessionList): Session[] {
  return Object.values(l.sessions)
    .filter((s) => s.state !== 'deleted')
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
}
