import type { AgentStatus, Event, TranscriberStatus } from '../bindings';
import type { DevicesStore } from './devices.svelte';
import type { NotesStore } from './notes.svelte';
import type { ReviewStore } from './review.svelte';
import type { SessionDetails } from './sessionDetails.svelte';
import type { SessionsStore } from './sessions.svelte';
import type { UsageStore } from './usage.svelte';
import type { VoiceStore } from './voice.svelte';

export interface IngestTarget {
  sessions: SessionsStore;
  details: SessionDetails;
  notes: NotesStore;
  usage: UsageStore;
  review: ReviewStore;
  devices: DevicesStore;
  voice: VoiceStore;
  setAgent(agent: AgentStatus): void;
  setTranscriber(transcriber: TranscriberStatus): void;
}

/** Events after which a session's diff on screen is fetched again. */
const DIFF_NEWS = new Set<string>(['diff.updated', 'hunk.updated', 'commit.created', 'commit.undone', 'session.merged']);

/**
 * Where live events go: each store folds what is its own (each skips what it already has by
 * seq), then what the batch names is fetched once (diffs on screen, a revision's round, the
 * budget after budget news) and finished turns are kept on the device.
 */
export function ingestEvents(t: IngestTarget, batch: Event[]): void {
  const diffs = new Set<string>();
  const settled = new Set<string>();
  let budget = false;
  const now = Date.now();
  for (const e of batch) {
    const news = t.sessions.apply(e);
    t.details.apply(e);
    t.notes.apply(e);
    t.devices.apply(e);
    budget = t.usage.apply(e, now) || budget;
    // /status has no seq: the list's says whether an agent.state is newer than what it read.
    if (e.type === 'agent.state' && news) t.setAgent(e.agent);
    if (e.type === 'transcriber.state' && news) t.setTranscriber(e.transcriber);
    // Read-back of a finished turn (when on, for the session on screen).
    if (news) t.voice.apply(e);
    const sid = e.session_id;
    if (!sid) continue;
    if (DIFF_NEWS.has(e.type)) diffs.add(sid);
    if (e.type === 'prompt.finished') {
      settled.add(sid);
      // Its proposals show in the Changes tab until a diff after its end replaces them.
      if (t.details.view(sid)?.writing === e.prompt_id) diffs.add(sid);
    }
    // A revision used the pending notes: the host's history says which.
    if (e.type === 'prompt.queued' && e.prompt.kind === 'revision' && t.details.isOpen(sid)) void t.notes.loadHistory(sid);
  }
  // Only diffs on screen are fetched again; the rest load when opened.
  t.review.refresh(diffs);
  for (const sid of settled) t.details.saveToDevice(sid, t.review.diff(sid));
  if (budget) void t.usage.refresh();
}
