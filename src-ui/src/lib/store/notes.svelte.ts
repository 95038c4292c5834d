import type { Event, Prompt, ReviewNote, RevisionPreview } from '../bindings';
import { describeError, isCode, NetworkFailure } from '../client/errors';
import type { HostApi } from '../client/host';
import type { SessionActions } from './actions.svelte';
import type { Toasts } from './toasts.svelte';

export interface NotesDeps {
  api: () => HostApi;
  actions: SessionActions;
  toasts: Toasts;
  /** The hunk a note was for moved on: the diff is fetched again. */
  reloadDiff: (id: string) => void;
  /** The host queued the revision prompt (its answer can beat the event). */
  onRevision: (id: string, prompt: Prompt) => void;
}

/**
 * Review notes (rejections with their reasons, comments on kept hunks) and the revision that
 * sends them to the agent: from the snapshot's pending notes, `/history` and `review.noted`.
 */
export class NotesStore {
  /** Every review note known per session, oldest first. */
  notes = $state<Record<string, ReviewNote[]>>({});

  readonly #d: NotesDeps;

  constructor(deps: NotesDeps) {
    this.#d = deps;
  }

  /** The notes the next revision would use. */
  pending(id: string): ReviewNote[] {
    return (this.notes[id] ?? []).filter((n) => n.round_prompt_id === null);
  }

  /** The notes a revision prompt was built from. */
  ofPrompt(id: string, promptId: string): ReviewNote[] {
    return (this.notes[id] ?? []).filter((n) => n.round_prompt_id === promptId);
  }

  /** The notes on one hunk. */
  ofHunk(id: string, hunkId: string): ReviewNote[] {
    return (this.notes[id] ?? []).filter((n) => n.hunk_id === hunkId);
  }

  /** Notes the host gave (snapshot, history, an answer): they replace what events said. */
  take(id: string, notes: ReviewNote[]): void {
    for (const n of notes) this.#add(id, n, true);
  }

  apply(e: Event): void {
    if (e.type === 'review.noted' && e.session_id) this.#add(e.session_id, e.note, false);
  }

  /** Fetches the session's rounds and pending notes. */
  async loadHistory(id: string): Promise<void> {
    try {
      const h = await this.#d.api().history(id);
      this.take(id, [...h.rounds.flatMap((r) => r.notes), ...h.pending_notes]);
    } catch {
      // A host without history (or offline) still shows notes from the snapshot and events.
    }
  }

  /** Comments on one hunk; works on kept and pending hunks, also while a prompt runs. */
  async comment(id: string, hunkId: string, text: string): Promise<boolean> {
    try {
      this.#add(id, await this.#d.api().comment(id, hunkId, text), true);
      return true;
    } catch (e) {
      this.#d.toasts.push('error', describeError(e));
      if (isCode(e, 'hunk_stale')) this.#d.reloadDiff(id);
      return false;
    }
  }

  /** The revision prompt the pending notes make, or null (with a toast saying why). */
  async preview(id: string): Promise<RevisionPreview | null> {
    try {
      return await this.#d.api().revisionPreview(id);
    } catch (e) {
      this.#d.toasts.push(isCode(e, 'conflict') ? 'warning' : 'error', describeError(e));
      if (isCode(e, 'conflict')) void this.loadHistory(id);
      return null;
    }
  }

  /**
   * Queues the revision. Sent directly, not through the outbox (the host builds the prompt from
   * its notes); exactly once because the host dedupes by client_id, so a retry after a lost
   * answer reuses the same id.
   */
  async revise(id: string, clientId: string, text?: string): Promise<boolean> {
    if (typeof navigator !== 'undefined' && !navigator.onLine) {
      this.#d.toasts.push('warning', 'Offline: the revision was not sent. Try again when this device is back online.');
      return false;
    }
    return this.#d.actions.run(id, 'revise', async () => {
      try {
        const { prompt } = await this.#d.api().revise(id, clientId, text);
        this.#d.onRevision(id, prompt);
      } catch (e) {
        if (e instanceof NetworkFailure) throw new Error(`The revision may not have reached the host (${e.message}). Send again; it is queued only once.`, { cause: e });
        throw e;
      }
      await this.loadHistory(id);
    });
  }

  reset(): void {
    this.notes = {};
  }

  #add(id: string, note: ReviewNote, authoritative: boolean): void {
    if (!this.notes[id]) this.notes[id] = [];
    const list = this.notes[id];
    const i = list.findIndex((n) => n.id === note.id);
    if (i < 0) {
      list.push(note);
      list.sort((a, b) => a.id - b.id);
    } else if (authoritative) {
      list[i] = note;
    }
  }
}
