import { describe, expect, it } from 'vitest';
import { applyToList, createList, replaceList, sortedSessions, summarize } from '../src/lib/store/sessionList';
import { events, session } from './fixtures';

describe('the session list: GET /sessions at a seq, then live events', () => {
  it('skips events at or below the seq the list was read at', () => {
    const l = createList();
    replaceList(l, [session('s1', { title: 'from the host' })], 2);
    const [old, fresh] = events(
      [
        { type: 'session.updated', session: session('s1', { title: 'older' }) },
        { type: 'session.updated', session: session('s1', { title: 'newer' }) },
      ],
      's1',
      2,
    );
    expect(applyToList(l, old!)).toBe(false);
    expect(l.sessions.s1?.title).toBe('from the host');
    expect(applyToList(l, fresh!)).toBe(true);
    expect(l.sessions.s1?.title).toBe('newer');
  });

  it('adds, deletes and counts changes; lists newest first without deleted ones', () => {
    const l = createList();
    for (const e of events([
      { type: 'session.created', session: session('s1') },
      { type: 'session.created', session: session('s2', { created_at: '2026-11-25T09:00:00.000Z' }) },
      { type: 'diff.updated', files: 1, hunks: 2, approved: 1 },
    ]))
      applyToList(l, e);
    applyToList(l, events([{ type: 'session.created', session: session('s3') }], 's3', 4)[0]!);
    applyToList(l, events([{ type: 'session.deleted', branch_deleted: false }], 's3', 5)[0]!);
    expect(l.diffSummary.s1).toEqual({ files: 1, hunks: 2, approved: 1 });
    expect(sortedSessions(l).map((s) => s.id)).toEqual(['s2', 's1']);
  });

  it('a new list replaces the old one: sessions the host no longer lists are gone', () => {
    const l = createList();
    replaceList(l, [session('s1'), session('s2')], 3);
    replaceList(l, [session('s2')], 9);
    expect(Object.keys(l.sessions)).toEqual(['s2']);
    expect(l.seq).toBe(9);
  });

  it('summarizes a diff for its row', () => {
    const hunk = (id: string, state: 'pending' | 'approved') => ({ id, kind: 'text' as const, header: '', old_start: 1, old_lines: 1, new_start: 1, new_lines: 1, state, lines: [] });
    const file = { path: 'a', old_path: null, status: 'modified' as const, binary: false, too_large: false, old_mode: null, new_mode: null };
    expect(summarize({ files: [{ ...file, hunks: [hunk('a', 'pending'), hunk('b', 'approved')] }] })).toEqual({ files: 1, hunks: 2, approved: 1 });
  });
});
