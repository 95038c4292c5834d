// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { Diff, ReviewNote } from '../src/lib/bindings';
import { ApiFailure } from '../src/lib/client/errors';
import type { ArcbenchApi } from '../src/lib/client/rest';
import { SessionActions } from '../src/lib/store/actions.svelte';
import { NotesStore } from '../src/lib/store/notes.svelte';
import { ReviewStore } from '../src/lib/store/review.svelte';
import { Toasts } from '../src/lib/store/toasts.svelte';
import { events } from './fixtures';

const note = (id: number, over: Partial<ReviewNote> = {}): ReviewNote => ({
  id,
  hunk_id: 'h1',
  path: 'src/a.rs',
  header: '@@ -1 +1 @@',
  old_start: 1,
  old_lines: 1,
  new_start: 1,
  new_lines: 1,
  hunk_state: 'rejected',
  patch: '-a\n+b',
  comment: `note ${id}`,
  created_at: 't',
  round_prompt_id: null,
  ...over,
});

function review(api: Partial<ArcbenchApi>) {
  const toasts = new Toasts();
  const stale: string[] = [];
  const actions = new SessionActions(toasts, (id) => stale.push(id));
  const diffs: string[] = [];
  const r = new ReviewStore({
    api: () => api as ArcbenchApi,
    actions,
    toasts,
    onDiff: (id) => diffs.push(id),
    onCommitsChanged: async () => undefined,
  });
  return { r, toasts, actions, stale, diffs };
}

describe('ReviewStore', () => {
  it('coalesces diff fetches asked for during one into a single one more', async () => {
    let calls = 0;
    const t = review({ diff: async () => (calls++, { files: [] }) });
    await Promise.all([t.r.load('s1'), t.r.load('s1'), t.r.load('s1')]);
    expect(calls).toBe(2);
    expect(t.r.diffs.s1).toEqual({ diff: { files: [] }, loading: false, error: null });
    expect(t.diffs).toEqual(['s1', 's1']);
    t.r.refresh(['s1', 'never-opened']);
    await Promise.resolve();
    expect(Object.keys(t.r.diffs)).toEqual(['s1']);
  });

  it('runs one action per session, shows failures as toasts and refetches a stale diff', async () => {
    let release!: () => void;
    const t = review({
      approveHunks: () => new Promise<Diff>((ok) => (release = () => ok({ files: [] }))),
      rejectHunks: async () => {
        throw new ApiFailure(409, { code: 'hunk_stale', message: 'moved on' });
      },
    });
    const first = t.r.approve('s1', ['h1']);
    expect(t.actions.busy.s1).toBe('approve');
    expect(await t.r.reject('s1', ['h2'])).toBe(false); // busy: refused without a call
    release();
    expect(await first).toBe(true);
    expect(await t.r.reject('s1', ['h2'])).toBe(false);
    expect(t.toasts.list.at(-1)?.text).toMatch(/changes moved on/);
    expect(t.stale).toEqual(['s1']);
    expect(t.actions.busy.s1).toBeUndefined();
  });
});

describe('NotesStore', () => {
  it('the host’s notes win over what events said; pending and per-round views', () => {
    const toasts = new Toasts();
    const n = new NotesStore({ api: () => ({}) as ArcbenchApi, actions: new SessionActions(toasts, () => undefined), toasts, reloadDiff: () => undefined, onRevision: () => undefined });
    n.apply(events([{ type: 'review.noted', note: note(2) }])[0]!);
    n.take('s1', [note(1, { round_prompt_id: 'p1' }), note(2, { comment: 'edited by the host' })]);
    n.apply(events([{ type: 'review.noted', note: note(2, { comment: 'late event' }) }], 's1', 2)[0]!);
    expect(n.notes.s1?.map((x) => x.id)).toEqual([1, 2]);
    expect(n.pending('s1').map((x) => x.comment)).toEqual(['edited by the host']);
    expect(n.ofPrompt('s1', 'p1').map((x) => x.id)).toEqual([1]);
    expect(n.ofHunk('s1', 'h1')).toHaveLength(2);
  });
});
