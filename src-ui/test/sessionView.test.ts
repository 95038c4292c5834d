import { describe, expect, it } from 'vitest';
import { applyToView, upsertPrompt, viewFromSnapshot } from '../src/lib/store/sessionView';
import { events, prompt, snapshot, usage } from './fixtures';

describe('a session view: snapshot, then live events', () => {
  it('starts from the snapshot, replies included, and folds a turn on top', () => {
    const v = viewFromSnapshot(snapshot({ prompts: [prompt('p0', { state: 'done', reply: 'Earlier answer.' })], last_seq: 10 }));
    expect(v.seq).toBe(10);
    expect(v.prompts[0]?.reply).toBe('Earlier answer.');
    const run = events(
      [
        { type: 'prompt.queued', prompt: prompt('p1', { created_at: '2026-11-24T09:00:05.000Z' }) },
        { type: 'prompt.started', prompt_id: 'p1' },
        { type: 'agent.text', prompt_id: 'p1', chunk: 'Hel' },
        { type: 'agent.text', prompt_id: 'p1', chunk: 'lo.' },
        { type: 'usage.updated', prompt_id: 'p1', model: 'm', usage: usage(0.01, 1000, 50), session_total: usage(0.01), today_total: usage(0.5) },
        { type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage(0.012, 1100, 60) },
      ],
      's1',
      11,
    );
    for (const e of run) expect(applyToView(v, e)).toBe(true);
    expect(v.seq).toBe(16);
    expect(v.prompts.map((p) => [p.id, p.state, p.reply])).toEqual([
      ['p0', 'done', 'Earlier answer.'],
      ['p1', 'done', 'Hello.'],
    ]);
    expect(v.prompts[1]?.usage.cost_usd).toBe(0.012);
  });

  it('skips events already in the snapshot and events of other sessions', () => {
    const v = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running', reply: 'abc' })], last_seq: 5 }));
    // seq 4 and 5 are in the snapshot's reply already; a replay must not double them.
    for (const e of events([{ type: 'agent.text', prompt_id: 'p1', chunk: 'b' }, { type: 'agent.text', prompt_id: 'p1', chunk: 'c' }], 's1', 4)) {
      expect(applyToView(v, e)).toBe(false);
    }
    expect(applyToView(v, events([{ type: 'agent.text', prompt_id: 'p1', chunk: '?' }], 's2', 6)[0]!)).toBe(false);
    expect(applyToView(v, events([{ type: 'agent.text', prompt_id: 'p1', chunk: 'd' }], 's1', 7)[0]!)).toBe(true);
    expect(v.prompts[0]?.reply).toBe('abcd');
  });

  it('adds live usage of a running prompt', () => {
    const v = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running' })] }));
    const u = (c: number) => ({ type: 'usage.updated' as const, prompt_id: 'p1', model: 'm', usage: usage(c, 10, 1), session_total: usage(c), today_total: usage(c) });
    for (const e of events([u(0.1), u(0.2)])) applyToView(v, e);
    expect(v.prompts[0]?.usage.cost_usd).toBeCloseTo(0.3);
    expect(v.prompts[0]?.usage.input_tokens).toBe(20);
  });

  it('clears a reply the host discarded, and records what Aider did', () => {
    const v = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running' })] }));
    for (const e of events([
      { type: 'agent.text', prompt_id: 'p1', chunk: 'draft' },
      { type: 'agent.text_discarded', prompt_id: 'p1', reason: 'retry' },
      { type: 'agent.confirm', prompt_id: 'p1', question: 'Add file to the chat?', subject: 'src/a.rs', answer: true },
      { type: 'agent.log', prompt_id: 'p1', level: 'WARNING', line: 'slow' },
      { type: 'agent.text', prompt_id: 'p1', chunk: 'final' },
    ]))
      applyToView(v, e);
    expect(v.prompts[0]?.reply).toBe('final');
    expect(v.activity.p1?.map((a) => a.level)).toEqual(['info', 'info', 'warning']);
    expect(v.activity.p1?.[1]?.text).toContain('src/a.rs');
  });

  it('tracks commits through create and undo, without duplicates, and session state', () => {
    const c1 = { sha: '1'.repeat(40), message: 'one' };
    const c2 = { sha: '2'.repeat(40), message: 'two' };
    const v = viewFromSnapshot(snapshot({ commits: [c1] }));
    for (const e of events([
      { type: 'commit.created', commit: c1 },
      { type: 'commit.created', commit: c2 },
      { type: 'commit.undone', undone: c2.sha, commit: c1.sha },
      { type: 'session.deleted', branch_deleted: false },
    ]))
      applyToView(v, e);
    expect(v.commits).toEqual([c1]);
    expect(v.session.state).toBe('deleted');
  });

  it('skips event types it does not know (but counts their seq)', () => {
    const v = viewFromSnapshot(snapshot());
    const unknown = JSON.parse('{"seq":1,"ts":"t","session_id":"s1","type":"future.thing","x":1}');
    expect(applyToView(v, unknown)).toBe(true);
    expect(v.seq).toBe(1);
  });
});

describe('upsertPrompt', () => {
  it('never moves a prompt backwards (a stale answer after fresh events)', () => {
    const v = viewFromSnapshot(snapshot());
    upsertPrompt(v, prompt('p1', { state: 'done' }));
    upsertPrompt(v, prompt('p1', { state: 'running' }));
    upsertPrompt(v, prompt('p1', { state: 'queued' }));
    expect(v.prompts[0]?.state).toBe('done');
    upsertPrompt(v, prompt('p1', { state: 'interrupted' }));
    expect(v.prompts[0]?.state).toBe('done');
  });

  it('never takes a reply from an answer: only the snapshot and agent.text write replies', () => {
    const v = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running', reply: 'so far, and more' })], last_seq: 3 }));
    // A resend of the same client_id answers the prompt as it was a moment ago.
    upsertPrompt(v, prompt('p1', { state: 'running', reply: 'so far' }));
    expect(v.prompts[0]?.reply).toBe('so far, and more');
    // A prompt the view does not have yet gets its text from the events that follow.
    upsertPrompt(v, prompt('p2', { created_at: '2026-11-24T09:00:09.000Z', reply: 'early' }));
    applyToView(v, events([{ type: 'agent.text', prompt_id: 'p2', chunk: 'early' }], 's1', 4)[0]!);
    expect(v.prompts[1]?.reply).toBe('early');
  });

  it('lets a held prompt carry its reason and keeps submission order', () => {
    const v = viewFromSnapshot(snapshot());
    upsertPrompt(v, prompt('p2', { created_at: '2026-11-24T09:00:02.000Z' }));
    upsertPrompt(v, prompt('p1', { created_at: '2026-11-24T09:00:01.000Z' }));
    upsertPrompt(v, prompt('p2', { created_at: '2026-11-24T09:00:02.000Z', reason: 'daily budget reached' }));
    expect(v.prompts.map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(v.prompts[1]?.reason).toBe('daily budget reached');
  });
});

describe('activity', () => {
  it('keeps the last 200 lines of a prompt', () => {
    const v = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running' })] }));
    const lines = Array.from({ length: 250 }, (_, i) => ({ type: 'agent.log' as const, prompt_id: 'p1', level: 'info', line: `line ${i + 1}` }));
    for (const e of events(lines)) applyToView(v, e);
    expect(v.activity.p1).toHaveLength(200);
    expect(v.activity.p1?.[0]?.text).toBe('line 51');
    expect(v.activity.p1?.at(-1)?.text).toBe('line 250');
  });
});
