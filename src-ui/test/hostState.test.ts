import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  budgetLevel,
  createHostState,
  mergeSessionDetail,
  promptsOf,
  upsertPrompt,
} from '../src/lib/store/hostState';
import { events, prompt, session, usage } from './fixtures';

describe('applyEvent', () => {
  it('folds a whole turn: session, prompt, streamed reply, usage, diff, finish', () => {
    const s = createHostState();
    const run = events([
      { type: 'session.created', session: session('s1') },
      { type: 'prompt.queued', prompt: prompt('p1') },
      { type: 'prompt.started', prompt_id: 'p1' },
      { type: 'agent.text', prompt_id: 'p1', chunk: 'Hel' },
      { type: 'agent.text', prompt_id: 'p1', chunk: 'lo.' },
      {
        type: 'usage.updated',
        prompt_id: 'p1',
        model: 'm',
        usage: usage(0.01, 1000, 50),
        session_total: usage(0.01, 1000, 50),
        today_total: usage(0.5, 9000, 900),
      },
      { type: 'diff.updated', files: 1, hunks: 2, approved: 0 },
      { type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage(0.012, 1100, 60) },
    ]);
    for (const e of run) expect(applyEvent(s, e)).toBe(true);
    expect(s.lastSeq).toBe(8);
    expect(promptsOf(s, 's1').map((p) => [p.id, p.state])).toEqual([['p1', 'done']]);
    expect(s.replies.p1).toBe('Hello.');
    expect(s.prompts.p1?.usage.cost_usd).toBe(0.012);
    expect(s.sessionUsage.s1?.cost_usd).toBe(0.01);
    expect(s.today?.cost_usd).toBe(0.5);
    expect(s.diffSummary.s1).toEqual({ files: 1, hunks: 2, approved: 0 });
    expect(s.diffVersion.s1).toBe(1);
  });

  it('ignores a seq it has already applied', () => {
    const s = createHostState();
    const [e1, e2] = events([
      { type: 'prompt.queued', prompt: prompt('p1') },
      { type: 'agent.text', prompt_id: 'p1', chunk: 'once' },
    ]);
    applyEvent(s, e1!);
    applyEvent(s, e2!);
    expect(applyEvent(s, e2!)).toBe(false);
    expect(applyEvent(s, e1!)).toBe(false);
    expect(s.replies.p1).toBe('once');
    expect(s.sessionPrompts.s1).toEqual(['p1']);
  });

  it('adds live usage of a running prompt and replaces it with the final total', () => {
    const s = createHostState();
    const u = (c: number) => ({ type: 'usage.updated' as const, prompt_id: 'p1', model: 'm', usage: usage(c, 10, 1), session_total: usage(c), today_total: usage(c) });
    for (const e of events([{ type: 'prompt.queued', prompt: prompt('p1') }, { type: 'prompt.started', prompt_id: 'p1' }, u(0.1), u(0.2)])) applyEvent(s, e);
    expect(s.prompts.p1?.usage.cost_usd).toBeCloseTo(0.3);
    expect(s.prompts.p1?.usage.input_tokens).toBe(20);
  });

  it('clears a reply the host discarded, and records what Aider did', () => {
    const s = createHostState();
    for (const e of events([
      { type: 'agent.text', prompt_id: 'p1', chunk: 'draft' },
      { type: 'agent.text_discarded', prompt_id: 'p1', reason: 'retry' },
      { type: 'agent.confirm', prompt_id: 'p1', question: 'Add file to the chat?', subject: 'src/a.rs', answer: true },
      { type: 'agent.log', prompt_id: 'p1', level: 'WARNING', line: 'slow' },
      { type: 'agent.text', prompt_id: 'p1', chunk: 'final' },
    ]))
      applyEvent(s, e);
    expect(s.replies.p1).toBe('final');
    expect(s.activity.p1?.map((a) => a.level)).toEqual(['info', 'info', 'warning']);
    expect(s.activity.p1?.[1]?.text).toContain('src/a.rs');
  });

  it('tracks commits through create and undo, without duplicates', () => {
    const s = createHostState();
    const c1 = { sha: '1'.repeat(40), message: 'one' };
    const c2 = { sha: '2'.repeat(40), message: 'two' };
    for (const e of events([
      { type: 'commit.created', commit: c1 },
      { type: 'commit.created', commit: c2 },
      { type: 'commit.undone', undone: c2.sha, commit: c1.sha },
    ]))
      applyEvent(s, e);
    expect(s.commits.s1).toEqual([c1]);
    // A snapshot taken later says the same; replayed events on top of it change nothing.
    mergeSessionDetail(s, { ...session('s1'), prompts: [], commits: [c1] });
    applyEvent(s, events([{ type: 'commit.created', commit: c1 }], 's1', 4)[0]!);
    expect(s.commits.s1).toEqual([c1]);
  });

  it('keeps budget alerts and marks deleted sessions', () => {
    const s = createHostState();
    for (const e of events([
      { type: 'session.created', session: session('s1') },
      { type: 'budget.warning', scope: 'daily', spent_usd: 8, limit_usd: 10 },
      { type: 'session.deleted', branch_deleted: false },
    ]))
      applyEvent(s, e);
    expect(s.budgetAlerts).toMatchObject([{ kind: 'warning', scope: 'daily', spentUsd: 8, limitUsd: 10 }]);
    expect(s.sessions.s1?.state).toBe('deleted');
  });

  it('skips event types it does not know', () => {
    const s = createHostState();
    const unknown = JSON.parse('{"seq":1,"ts":"t","type":"future.thing","x":1}');
    expect(applyEvent(s, unknown)).toBe(true);
    expect(s.lastSeq).toBe(1);
  });
});

describe('upsertPrompt', () => {
  it('never moves a prompt backwards (a stale snapshot after fresh events)', () => {
    const s = createHostState();
    upsertPrompt(s, 's1', prompt('p1', { state: 'done' }));
    upsertPrompt(s, 's1', prompt('p1', { state: 'running' }));
    upsertPrompt(s, 's1', prompt('p1', { state: 'queued' }));
    expect(s.prompts.p1?.state).toBe('done');
    upsertPrompt(s, 's1', prompt('p1', { state: 'interrupted' }));
    expect(s.prompts.p1?.state).toBe('done');
  });

  it('lets a held prompt carry its reason and keeps submission order', () => {
    const s = createHostState();
    upsertPrompt(s, 's1', prompt('p2', { created_at: '2026-11-24T09:00:02.000Z' }));
    upsertPrompt(s, 's1', prompt('p1', { created_at: '2026-11-24T09:00:01.000Z' }));
    upsertPrompt(s, 's1', prompt('p2', { created_at: '2026-11-24T09:00:02.000Z', reason: 'daily budget reached' }));
    expect(promptsOf(s, 's1').map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(s.prompts.p2?.reason).toBe('daily budget reached');
  });
});

describe('budgetLevel', () => {
  it('warns at the ratio and stops at the limit', () => {
    expect(budgetLevel(1, null, 0.8)).toBe('ok');
    expect(budgetLevel(7.9, 10, 0.8)).toBe('ok');
    expect(budgetLevel(8, 10, 0.8)).toBe('warning');
    expect(budgetLevel(10, 10, 0.8)).toBe('exceeded');
    expect(budgetLevel(null, 10, 0.8)).toBe('ok');
  });
});
