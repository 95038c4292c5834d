import { describe, expect, it } from 'vitest';
import type { EditProposal, EventBody, FileDiff, Hunk } from '../src/lib/bindings';
import { ingestEvents, type IngestTarget } from '../src/lib/store/ingest';
import { changedFiles } from '../src/lib/store/proposals';
import { applyToView, diffArrived, viewFromSnapshot, type SessionView } from '../src/lib/store/sessionView';
import { events, fileDiff, hunk, prompt, proposal as blockOf, snapshot, usage } from './fixtures';

const file = (path: string, ids: string[], state: Hunk['state'] = 'pending'): FileDiff =>
  fileDiff(path, ids.map((id) => hunk(id, { state })));
const proposal = (promptId: string, index: number, over: Partial<EditProposal> = {}): EditProposal =>
  blockOf(index, { prompt_id: promptId, path: 'a.py', file: file('a.py', [`h${index}`]), ...over });

/** A view with prompt p1 running, fed the bodies from seq 2 on. */
function running(bodies: EventBody[], over: Parameters<typeof snapshot>[0] = {}): SessionView {
  const v = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running' })], last_seq: 1, ...over }));
  for (const e of events(bodies, 's1', 2)) applyToView(v, e);
  return v;
}

const summary = (v: SessionView, id = 'p1') => (v.proposals[id] ?? []).map((p) => `${p.answer}:${p.index}:${p.status}`);

describe('proposals in a session view', () => {
  it('keeps the latest proposal per index, in block order', () => {
    const v = running([
      { type: 'edit.proposed', proposal: proposal('p1', 1) },
      { type: 'edit.proposed', proposal: proposal('p1', 0) },
      { type: 'edit.proposed', proposal: proposal('p1', 2) },
      // Aider said after the reply that block 1 failed: it replaces the proposal.
      { type: 'edit.proposed', proposal: proposal('p1', 1, { status: 'will_not_apply', reason: 'no match', file: null }) },
    ]);
    expect(summary(v)).toEqual(['0:0:proposed', '0:1:will_not_apply', '0:2:proposed']);
    expect(v.proposals.p1?.[1]?.reason).toBe('no match');
    expect(v.writing).toBe('p1');
  });

  it('withdraws a prompt’s proposals when its text is discarded; the next answer counts from 0', () => {
    const v = running([
      { type: 'edit.proposed', proposal: proposal('p1', 0) },
      { type: 'edit.proposed', proposal: proposal('p1', 1) },
      { type: 'agent.text_discarded', prompt_id: 'p1', reason: 'reflection' },
    ]);
    expect(v.proposals.p1).toBeUndefined();
    for (const e of events([{ type: 'edit.proposed', proposal: proposal('p1', 0, { answer: 1 }) }, { type: 'edit.proposed', proposal: proposal('p1', 1, { answer: 0 }) }], 's1', 10)) {
      applyToView(v, e);
    }
    // The late one of the withdrawn answer is ignored.
    expect(summary(v)).toEqual(['1:0:proposed']);
  });

  it('starts from the snapshot’s proposals (every prompt’s last answer)', () => {
    const v = viewFromSnapshot(
      snapshot({
        prompts: [prompt('p0', { state: 'done' }), prompt('p1', { state: 'running' })],
        proposals: [proposal('p0', 0, { answer: 1 }), proposal('p0', 1, { answer: 1 }), proposal('p1', 0)],
        last_seq: 7,
      }),
    );
    expect(summary(v, 'p0')).toEqual(['1:0:proposed', '1:1:proposed']);
    expect(summary(v, 'p1')).toEqual(['0:0:proposed']);
    expect(v.writing).toBe('p1');
    expect(viewFromSnapshot(snapshot({ prompts: [prompt('p0', { state: 'done' })] })).writing).toBeNull();
    // A host from before proposals sends none.
    expect(viewFromSnapshot(snapshot()).proposals).toEqual({});
  });
});

describe('the usage estimate of a running prompt', () => {
  const estimated = (cost: number, output: number): EventBody => ({ type: 'usage.estimated', prompt_id: 'p1', model: 'm', usage: usage(cost, 1000, output), estimated: true });

  it('follows usage.estimated, and the exact figures of a request replace it', () => {
    const v = running([estimated(0.01, 40), estimated(0.02, 90)]);
    expect(v.estimates.p1?.output_tokens).toBe(90);
    applyToView(v, events([{ type: 'usage.updated', prompt_id: 'p1', model: 'm', usage: usage(0.021, 1000, 95), session_total: usage(1), today_total: usage(1) }], 's1', 10)[0]!);
    expect(v.estimates.p1).toBeUndefined();
    expect(v.prompts[0]?.usage.output_tokens).toBe(95);
    // The next request streams: an estimate again (exact so far plus the new text).
    applyToView(v, events([estimated(0.03, 120)], 's1', 11)[0]!);
    expect(v.estimates.p1?.cost_usd).toBe(0.03);
  });

  it('ends with the prompt; a late estimate does not come back', () => {
    const v = running([estimated(0.01, 40), { type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage(0.05, 1200, 130) }, estimated(0.02, 90)]);
    expect(v.estimates).toEqual({});
    expect(v.prompts[0]?.usage.cost_usd).toBe(0.05);
  });
});

describe('the Changes tab while a turn writes', () => {
  it('shows the latest proposed version of the files the turn edits, new files in path order', () => {
    const diff = { files: [file('a.py', ['old'], 'approved'), file('c.py', ['c1'])] };
    const writing = [
      proposal('p1', 0, { path: 'a.py', file: file('a.py', ['old', 'n1']) }),
      proposal('p1', 1, { path: 'b.py', file: { ...file('b.py', ['b1']), status: 'added' } }),
      proposal('p1', 2, { path: 'a.py', file: file('a.py', ['old', 'n1', 'n2']) }),
      proposal('p1', 3, { path: 'c.py', status: 'will_not_apply', file: null }),
    ];
    const shown = changedFiles(diff, writing);
    expect(shown.map((s) => [s.file.path, s.beingWritten, s.file.hunks.map((h) => h.id).join()])).toEqual([
      ['a.py', true, 'old,n1,n2'],
      ['b.py', true, 'b1'],
      ['c.py', false, 'c1'],
    ]);
    expect(changedFiles(diff, [])).toEqual(diff.files.map((f) => ({ file: f, beingWritten: false })));
    expect(changedFiles(null, writing.slice(1, 2)).map((s) => s.file.path)).toEqual(['b.py']);
  });

  it('keeps the finished turn’s proposals until a diff arrives, not a diff of the running turn', () => {
    const v = running([{ type: 'edit.proposed', proposal: proposal('p1', 0) }]);
    diffArrived(v);
    expect(v.writing).toBe('p1');
    applyToView(v, events([{ type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage() }], 's1', 10)[0]!);
    expect(v.writing).toBe('p1');
    diffArrived(v);
    expect(v.writing).toBeNull();
  });

  it('asks for the diff again when the writing turn ends', () => {
    const v = running([{ type: 'edit.proposed', proposal: proposal('p1', 0) }]);
    const refreshed: string[][] = [];
    const none = { apply: () => false };
    const t = {
      sessions: { apply: () => false },
      details: { apply: (e: Parameters<typeof applyToView>[1]) => applyToView(v, e), view: () => v, isOpen: () => true, saveToDevice: () => undefined },
      notes: none,
      devices: none,
      usage: none,
      voice: none,
      review: { refresh: (ids: Iterable<string>) => refreshed.push([...ids]), diff: () => null },
      setAgent: () => undefined,
      setTranscriber: () => undefined,
    } as unknown as IngestTarget;
    ingestEvents(t, events([{ type: 'agent.text', prompt_id: 'p1', chunk: 'x' }], 's1', 10));
    ingestEvents(t, events([{ type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage() }], 's1', 11));
    expect(refreshed).toEqual([[], ['s1']]);
  });
});
