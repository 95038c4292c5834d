import type { Event, Status } from '../bindings';
import type { ResyncReason } from '../client/socket';
import type { HostApi } from '../client/host';
import type { SessionDetails } from './sessionDetails.svelte';
import type { SessionsStore } from './sessions.svelte';
import { viewFromSnapshot, type SessionView } from './sessionView';
import type { NotesStore } from './notes.svelte';
import type { UsageStore } from './usage.svelte';

/** What a start strategy works on: the host's API and the stores it fills. */
export interface SyncTarget {
  api: HostApi;
  sessions: SessionsStore;
  details: SessionDetails;
  notes: NotesStore;
  usage: UsageStore;
  setStatus(status: Status): void;
  /** Folds events in exactly as live ones are (the benchmark's replaying start uses it). */
  ingest(batch: Event[]): void;
}

/**
 * How the app gets from nothing (or from a refused seq) to a state it can stream events onto:
 * `sync` fills the stores and answers the seq the event feed starts after; `load` fetches one
 * session's view.
 */
export interface StartStrategy {
  sync(t: SyncTarget, reason: ResyncReason): Promise<number>;
  load(t: SyncTarget, id: string): Promise<SessionView>;
}

/**
 * The app's start, O(session) whatever the length of the event log: `/status`, `/sessions` (and
 * its `last_seq`), `/usage` and the snapshot of each session on screen, all at once; then the
 * feed streams from the list's `last_seq`. A snapshot read before the list (older than its seq)
 * is fetched once more, so every view is at or past the seq the feed starts after and no event
 * falls between the two.
 */
export const snapshotStart: StartStrategy = {
  async sync(t) {
    const open = t.details.openIds();
    const [status, list, usage, seqs] = await Promise.all([
      t.api.status(),
      t.api.sessions(),
      t.api.usage().catch(() => null),
      Promise.all(open.map((id) => t.details.load(id))),
    ]);
    const since = list.last_seq;
    await Promise.all(open.map((id, i) => (seqs[i] !== null && seqs[i]! < since ? t.details.load(id) : null)));
    t.setStatus(status);
    t.sessions.replace(list.sessions, since);
    if (usage) t.usage.set(usage);
    return since;
  },

  async load(t, id) {
    const snap = await t.api.snapshot(id);
    t.notes.take(id, snap.notes);
    return viewFromSnapshot(snap);
  },
};
