import { describe, expect, it } from 'vitest';
import type { FileDiff } from '../src/lib/bindings';
import { fileDiff, hunk, proposal } from './fixtures';
import { blockHunks, proposalFor, segmentOptions, segmentReply, type EditSegment, type ReplySegment } from '../src/lib/editBlocks';

const block = (path: string, search: string, replace: string) => `${path}\n\`\`\`python\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;
const fencedBlock = (path: string, search: string, replace: string) => `\`\`\`python\n${path}\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;

const prose = (segs: ReplySegment[]) => segs.filter((s) => s.kind === 'prose').map((s) => s.text);
const edits = (segs: ReplySegment[]) => segs.filter((s): s is EditSegment => s.kind === 'edit');
const MARKERS = /<{5,9} SEARCH|^={5,9}\s*$|>{5,9} REPLACE/m;

/** Every prose piece rendered on its own: no marker, and no fence left open by a swallowed block. */
function assertCleanProse(segs: ReplySegment[]) {
  for (const t of prose(segs)) expect(t).not.toMatch(MARKERS);
}

const file = (path: string, ids: string[]): FileDiff => fileDiff(path, ids.map((id) => hunk(id)));

describe('segmentReply: SEARCH/REPLACE (diff)', () => {
  it('keeps the prose around a block and takes the filename, fence and markers into the block', () => {
    const text = `I will rename it.\n\n${block('src/a.py', 'old()\n', 'new()\n')}\nThat is all.\n`;
    const segs = segmentReply(text);
    expect(segs.map((s) => s.kind)).toEqual(['prose', 'edit', 'prose']);
    expect(prose(segs)).toEqual(['I will rename it.\n\n', '\nThat is all.\n']);
    expect(edits(segs)[0]).toMatchObject({ format: 'diff', index: 0, path: 'src/a.py', complete: true, before: 'old()\n', after: 'new()\n' });
  });

  it('diff-fenced: the filename inside the fence, the opening fence taken too', () => {
    const text = `Here:\n${fencedBlock('lib/b.py', 'a = 1\n', 'a = 2\n')}Done.\n`;
    const segs = segmentReply(text, { format: 'diff-fenced' });
    expect(prose(segs)).toEqual(['Here:\n', 'Done.\n']);
    expect(edits(segs)[0]).toMatchObject({ path: 'lib/b.py', complete: true, before: 'a = 1\n', after: 'a = 2\n' });
  });

  it('numbers several blocks in reply order; one without a filename edits the previous file', () => {
    const text = [
      'Three changes.\n',
      block('src/a.py', 'x\n', 'y\n'),
      'And a new file:\n',
      block('src/new.py', '', 'print(1)\n'),
      '```python\n<<<<<<< SEARCH\nz\n=======\nw\n>>>>>>> REPLACE\n```\n',
    ].join('');
    const segs = segmentReply(text);
    expect(edits(segs).map((e) => [e.index, e.path, e.before, e.after])).toEqual([
      [0, 'src/a.py', 'x\n', 'y\n'],
      [1, 'src/new.py', '', 'print(1)\n'],
      [2, 'src/new.py', 'z\n', 'w\n'],
    ]);
    expect(prose(segs)).toEqual(['Three changes.\n', 'And a new file:\n']);
  });

  it('several blocks in one fence: the fence closes after the last', () => {
    const text = 'src/a.py\n```python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n```\nAfter.\n';
    const segs = segmentReply(text);
    expect(edits(segs).map((e) => [e.index, e.path, e.after])).toEqual([
      [0, 'src/a.py', 'b\n'],
      [1, 'src/a.py', 'd\n'],
    ]);
    expect(prose(segs)).toEqual(['After.\n']);
  });

  it('leaves code fences that are not edits as they are', () => {
    const code = 'Run this:\n```bash\nnpm test\n```\nand in Python:\n```python\nprint("=======")\n```\n';
    expect(segmentReply(code)).toEqual([{ kind: 'prose', id: 'p0', text: code }]);
    const segs = segmentReply(`${code}${block('src/a.py', 'a\n', 'b\n')}`);
    expect(prose(segs)).toEqual([code]);
    expect(edits(segs)).toHaveLength(1);
  });

  it('keeps a sentence before a fence in the prose (only a filename is taken)', () => {
    const segs = segmentReply('Change the helper:\n```python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n');
    expect(prose(segs)).toEqual(['Change the helper:\n']);
  });

  it('a block Aider would refuse (no REPLACE after its second divider) leaks no marker', () => {
    const segs = segmentReply('x.py\n<<<<<<< SEARCH\na\n=======\nb\n=======\nc\n>>>>>>> REPLACE\nend\n');
    assertCleanProse(segs);
    expect(prose(segs).join('')).toContain('end');
  });

  it('while streaming, every prefix shows prose and blocks, never a marker, a filename line or half a block', () => {
    const text = `Intro text.\n\n${block('src/new_1.py', '', 'def one():\n    return 1\n')}\nThen:\n${fencedBlock('src/new_2.py', 'a\n', 'b\n')}\nDone.`;
    let last: ReplySegment[] = [];
    for (let n = 0; n <= text.length; n++) {
      const segs = segmentReply(text.slice(0, n), { streaming: true });
      assertCleanProse(segs);
      for (const t of prose(segs)) {
        expect(t).not.toMatch(/^src\/new_\d\.p?y?$/m);
        expect(t).not.toMatch(/```python\s*$/);
      }
      // Only the last block can be unfinished, and blocks never disappear as text arrives.
      const e = edits(segs);
      e.slice(0, -1).forEach((s) => expect(s.complete).toBe(true));
      expect(e.length).toBeGreaterThanOrEqual(edits(last).length);
      edits(last).forEach((s, i) => expect(e[i]!.id).toBe(s.id));
      last = segs;
    }
    expect(edits(last).map((e) => [e.path, e.complete])).toEqual([
      ['src/new_1.py', true],
      ['src/new_2.py', true],
    ]);
  });

  it('an unfinished block is one incomplete segment to the end of the text', () => {
    const segs = segmentReply('Now:\nsrc/a.py\n```python\n<<<<<<< SEARCH\nold\n====', { streaming: true });
    expect(prose(segs)).toEqual(['Now:\n']);
    expect(edits(segs)).toMatchObject([{ path: 'src/a.py', complete: false, index: 0 }]);
  });

  it('once the reply is over nothing is held back', () => {
    expect(prose(segmentReply('See src/a.py\nnotes.md'))).toEqual(['See src/a.py\nnotes.md']);
    expect(prose(segmentReply('See below\nnotes.md', { streaming: true }))).toEqual(['See below\n']);
  });
});

describe('segmentReply: udiff and whole', () => {
  const udiff = '```diff\n--- a/src/a.py\n+++ b/src/a.py\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n@@ -9 +9 @@\n-x\n+y\n--- src/b.py\n+++ src/b.py\n@@ @@\n+added\n```\n';

  it('udiff: one segment per hunk, as Aider counts them, with their files', () => {
    const segs = segmentReply(`Patch:\n${udiff}Bye.\n`, { format: 'udiff' });
    expect(prose(segs)).toEqual(['Patch:\n', 'Bye.\n']);
    expect(edits(segs).map((e) => [e.index, e.path, e.before, e.after])).toEqual([
      [0, 'src/a.py', 'keep\nold\n', 'keep\nnew\n'],
      [1, 'src/a.py', 'x\n', 'y\n'],
      [2, 'src/b.py', '', 'added\n'],
    ]);
  });

  it('udiff: an open fence is one block being written; a ```diff in a diff-format reply is code', () => {
    const open = segmentReply(`Patch:\n${udiff.slice(0, 60)}`, { format: 'udiff', streaming: true });
    expect(edits(open)).toMatchObject([{ format: 'udiff', path: 'src/a.py', complete: false }]);
    expect(prose(segmentReply(udiff, { format: 'diff' }))).toEqual([udiff]);
  });

  it('whole: a fence after a line naming a proposal’s file is an edit; other fences stay code', () => {
    const text = 'Updated:\n\nsrc/a.py\n```python\nprint(2)\n```\n\nExample:\n```python\nprint(3)\n```\n';
    const segs = segmentReply(text, { format: 'whole', paths: ['src/a.py'] });
    expect(edits(segs)).toMatchObject([{ format: 'whole', index: -1, path: 'src/a.py', complete: true, after: 'print(2)\n' }]);
    expect(prose(segs)).toEqual(['Updated:\n\n', '\nExample:\n```python\nprint(3)\n```\n']);
    // No proposal names it: code, as before.
    expect(edits(segmentReply(text, { format: 'whole', paths: [] }))).toEqual([]);
  });

  it('whole: while streaming, a file’s fence is being written before its proposal exists', () => {
    const segs = segmentReply('Updated:\nsrc/c.py\n```python\nprint(', { format: 'whole', streaming: true });
    expect(prose(segs)).toEqual(['Updated:\n']);
    expect(edits(segs)).toMatchObject([{ path: 'src/c.py', complete: false }]);
  });
});

describe('pairing blocks with proposals', () => {
  it('by index for diff (diff-fenced too), by path for whole, and by format', () => {
    const segs = edits(segmentReply(`${block('src/a.py', 'a\n', 'b\n')}${block('src/a.py', 'c\n', 'd\n')}`));
    const ps = [proposal(0, { edit_format: 'diff-fenced' }), proposal(1, { status: 'will_not_apply', file: null, reason: 'no match' })];
    expect(proposalFor(segs[0]!, ps)).toBe(ps[0]);
    expect(proposalFor(segs[1]!, ps)?.status).toBe('will_not_apply');
    expect(proposalFor(segs[1]!, [proposal(1, { edit_format: 'udiff' })])).toBeUndefined();
    const whole = edits(segmentReply('src/a.py\n```\nx\n```\n', { format: 'whole', paths: ['src/a.py'] }))[0]!;
    const w = [proposal(0, { edit_format: 'whole' }), proposal(1, { edit_format: 'whole', path: 'src/b.py' })];
    expect(proposalFor(whole, w)).toBe(w[0]);
  });

  it('shows the hunks the block wrote, or all of its file’s when it does not say', () => {
    const p = proposal(0, { file: file('src/a.py', ['h1', 'h2', 'h3']), block_hunks: ['h2'] });
    expect(blockHunks(p).map((h) => h.id)).toEqual(['h2']);
    expect(blockHunks({ ...p, block_hunks: [] }).map((h) => h.id)).toEqual(['h1', 'h2', 'h3']);
    expect(blockHunks({ ...p, file: null })).toEqual([]);
  });

  it('takes the format and paths from the proposals', () => {
    expect(segmentOptions([proposal(0, { edit_format: 'whole' })], true)).toEqual({ format: 'whole', paths: ['src/a.py'], streaming: true });
    expect(segmentOptions([], false)).toEqual({ format: null, paths: [], streaming: false });
  });
});
