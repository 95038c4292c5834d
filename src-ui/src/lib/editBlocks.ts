import type { EditProposal, Hunk } from './bindings';

/**
 * The agent's reply split into prose and the edit blocks Aider will apply, so the conversation can
 * show each block as a card of its proposed hunks instead of its raw markers. Pure: the same text
 * and options always give the same segments, recomputed as the reply streams.
 *
 * The blocks are found the way Aider's own parsers find them (editblock_coder.py, udiff_coder.py,
 * wholefile_coder.py, aider-chat 0.86), because the host numbers its `edit.proposed` events by
 * that parser's order: the k-th SEARCH/REPLACE block (or udiff hunk) is proposal index k.
 */

export type BlockFormat = 'diff' | 'udiff' | 'whole';

export interface ProseSegment {
  kind: 'prose';
  /** Stable while the reply grows: for keyed rendering. */
  id: string;
  text: string;
}

export interface EditSegment {
  kind: 'edit';
  id: string;
  format: BlockFormat;
  /** diff and udiff: the block's place among the reply's blocks (its proposal's index); whole: -1, paired by path. */
  index: number;
  /** The file as the reply names it ('' when it names none yet). */
  path: string;
  /** False while the reply ends inside the block. */
  complete: boolean;
  /** The block's old and new lines (SEARCH and REPLACE; a hunk's sides), for when no proposal shows it. */
  before: string;
  after: string;
}

export type ReplySegment = ProseSegment | EditSegment;

export interface SegmentOptions {
  /** The edit format of the prompt's proposals, once one arrived (`diff-fenced` counts as `diff`). */
  format?: string | null;
  /** The paths the prompt's proposals name: a whole-format block is one that names one of them. */
  paths?: readonly string[];
  /** The reply is still streaming: its tail may be the start of a block, so it waits a line. */
  streaming?: boolean;
}

// Aider's markers, matched on the stripped line as Aider does.
const HEAD = /^<{5,9} SEARCH>?\s*$/;
const DIVIDER = /^={5,9}\s*$/;
const UPDATED = /^>{5,9} REPLACE\s*$/;
/** A Markdown code fence line (opener or closer). */
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
/** What Aider takes for a fence when it looks for a block's filename. */
const AIDER_FENCE = /^`{3,}/;

const isMarker = (line: string): boolean => {
  const t = line.trim();
  return HEAD.test(t) || DIVIDER.test(t) || UPDATED.test(t);
};

function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Aider's strip_filename for a line before a SEARCH block. */
function stripFilename(line: string): string {
  let name = line.trim();
  if (name === '...') return '';
  const fence = AIDER_FENCE.exec(name);
  if (fence) {
    const rest = name.slice(fence[0].length);
    return /[./]/.test(rest) ? rest : '';
  }
  name = name.replace(/:+$/, '').replace(/^#+/, '').trim();
  return name.replace(/^`+|`+$/g, '').replace(/^\*+|\*+$/g, '');
}

/** Aider's whole-file coder's reading of the line before a fence. */
function wholeName(line: string): string {
  return line
    .trim()
    .replace(/^\*+|\*+$/g, '')
    .replace(/:+$/, '')
    .replace(/^`+|`+$/g, '')
    .replace(/^#+/, '')
    .trim();
}

/**
 * A line that names a file rather than saying something: one word with a dot or a slash in it,
 * or a path a proposal names. Prose is never swallowed into a card on a guess.
 */
function pathLike(name: string, known: readonly string[]): boolean {
  return known.includes(name) || (name.length < 256 && !/\s/.test(name) && /[./]/.test(name) && /\w/.test(name));
}

/** Index of the fence opener still open at the end of `lines`, or -1. */
function openFence(lines: readonly string[]): number {
  let open = -1;
  let mark = '';
  lines.forEach((l, i) => {
    const m = FENCE.exec(l.replace(/\r?\n$/, ''));
    if (!m) return;
    if (open < 0) {
      open = i;
      mark = m[1]!;
    } else if (m[1]![0] === mark[0] && m[1]!.length >= mark.length && !m[2]!.trim()) {
      open = -1;
    }
  });
  return open;
}

const isCloser = (line: string): boolean => /^ {0,3}(`{3,}|~{3,})\s*$/.test(line);

/**
 * The lines before a SEARCH marker that belong to its block (Aider looks back up to three:
 * fences, then one filename line), and whether the block sits in a fence it must close.
 */
function preamble(prose: readonly string[], known: readonly string[]): { taken: number; path: string; owns: boolean } {
  let taken = 0;
  let path = '';
  for (let j = prose.length - 1; j >= 0 && taken < 3; j--) {
    const line = prose[j]!.trim();
    if (AIDER_FENCE.test(line)) {
      taken++;
      path ||= stripFilename(line);
      continue;
    }
    const name = stripFilename(line);
    if (name && pathLike(name, known)) {
      path ||= name;
      taken++;
    }
    break;
  }
  // diff-fenced: the fence opens on the line before the filename.
  let rest = prose.slice(0, prose.length - taken);
  if (taken > 0 && rest.length > 0 && openFence(rest) === rest.length - 1) {
    taken++;
    rest = rest.slice(0, -1);
  }
  const owns = openFence(rest) >= 0 || openFence(prose.slice(prose.length - taken)) >= 0;
  return { taken, path, owns };
}

/** A SEARCH block starts at `k`, or right after a filename line at `k`. */
function blockStartsAt(lines: readonly string[], k: number, known: readonly string[]): boolean {
  const at = (n: number) => (lines[n] ?? '').trim();
  return HEAD.test(at(k)) || (pathLike(stripFilename(at(k)), known) && HEAD.test(at(k + 1)));
}

/** Aider's process_fenced_block: the edits of one ```diff fence, each a file and a hunk. */
function udiffEdits(body: readonly string[]): { path: string | null; hunk: string[] }[] {
  let block = [...body, '@@ @@'];
  let path: string | null = null;
  if (block[0]?.startsWith('--- ') && block[1]?.startsWith('+++ ')) {
    const a = block[0].slice(4).trim();
    const b = block[1].slice(4).trim();
    path = (a.startsWith('a/') || a === '/dev/null') && b.startsWith('b/') ? b.slice(2) : b;
    block = block.slice(2);
  }
  const edits: { path: string | null; hunk: string[] }[] = [];
  let keeper = false;
  let hunk: string[] = [];
  for (const line of block) {
    hunk.push(line);
    if (line.length < 2) continue;
    if (line.startsWith('+++ ') && hunk.at(-2)?.startsWith('--- ')) {
      hunk = hunk.at(-3) === '\n' ? hunk.slice(0, -3) : hunk.slice(0, -2);
      edits.push({ path, hunk });
      hunk = [];
      keeper = false;
      path = line.slice(4).trim();
      continue;
    }
    const op = line[0];
    if (op === '-' || op === '+') {
      keeper = true;
      continue;
    }
    if (op !== '@') continue;
    if (!keeper) {
      hunk = [];
      continue;
    }
    edits.push({ path, hunk: hunk.slice(0, -1) });
    hunk = [];
    keeper = false;
  }
  return edits;
}

function sides(hunk: readonly string[]): { before: string; after: string } {
  const side = (keep: string) =>
    hunk
      .filter((l) => l[0] === ' ' || l[0] === keep || l === '\n')
      .map((l) => (l === '\n' ? l : l.slice(1)))
      .join('');
  return { before: side('-'), after: side('+') };
}

/** How many trailing prose lines wait for the next line while streaming: they may open a block. */
function undecidedTail(prose: readonly string[], known: readonly string[]): number {
  let n = 0;
  const last = prose.at(-1);
  // A line still being written that may become a marker, a fence or a block's filename.
  if (last !== undefined && !last.endsWith('\n') && (/^\s*[<=>`~]/.test(last) || pathLike(stripFilename(last), known))) n = 1;
  const rest = prose.slice(0, prose.length - n);
  const open = openFence(rest);
  // A ```diff fence that has not said yet whether it is a unified diff.
  if (open >= 0 && /^`{3,}diff/.test(rest[open]!) && rest.length - open <= 2) return prose.length - open;
  return n + preamble(rest, known).taken;
}

function normalFormat(format: string | null | undefined): BlockFormat | null {
  if (format === 'diff' || format === 'diff-fenced') return 'diff';
  if (format === 'udiff' || format === 'whole') return format;
  return null;
}

export function segmentReply(text: string, options: SegmentOptions = {}): ReplySegment[] {
  const lines = splitLines(text);
  const format = normalFormat(options.format);
  const known = options.paths ?? [];
  const streaming = options.streaming ?? false;
  const out: ReplySegment[] = [];
  let prose: string[] = [];
  let proseCount = 0;
  let diffIndex = 0;
  let udiffIndex = 0;
  let wholeCount = 0;
  // Aider: a block that names no file edits the previous block's.
  let lastPath = '';
  // The previous SEARCH block's fence is still open for this one (several blocks in one fence).
  let carry = false;

  const flush = () => {
    // A stray marker (a block Aider's parser would refuse) is never shown raw.
    const t = prose.filter((l) => !isMarker(l)).join('');
    if (t.trim()) out.push({ kind: 'prose', id: `p${proseCount++}`, text: t });
    prose = [];
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const trimmed = line.trim();

    if (HEAD.test(trimmed)) {
      const pre = preamble(prose, known);
      prose = prose.slice(0, prose.length - pre.taken);
      flush();
      const path = pre.path || lastPath;
      lastPath = path;
      const before: string[] = [];
      const after: string[] = [];
      let j = i + 1;
      while (j < lines.length && !DIVIDER.test(lines[j]!.trim())) before.push(lines[j++]!);
      if (j < lines.length) {
        j++;
        while (j < lines.length && !UPDATED.test(lines[j]!.trim()) && !DIVIDER.test(lines[j]!.trim())) after.push(lines[j++]!);
      }
      const complete = j < lines.length;
      if (complete) j++;
      const owns = carry || pre.owns;
      carry = false;
      if (complete && owns) {
        let k = j;
        while (k < lines.length && !lines[k]!.trim()) k++;
        if (k === lines.length) j = k; // blank lines while the closing fence is on its way
        else if (isCloser(lines[k]!)) j = k + 1;
        else if (blockStartsAt(lines, k, known)) {
          carry = true;
          j = k;
        }
      }
      out.push({ kind: 'edit', id: `diff${diffIndex}`, format: 'diff', index: diffIndex++, path, complete, before: before.join(''), after: after.join('') });
      i = j;
      continue;
    }

    const fenced = FENCE.test(line.replace(/\r?\n$/, '')) && openFence(prose) < 0;

    if (fenced && line.startsWith('```diff')) {
      const unified = format === 'udiff' || (format === null && streaming && lines[i + 1]?.startsWith('--- ') && lines[i + 2]?.startsWith('+++ '));
      if (unified) {
        let k = i + 1;
        while (k < lines.length && !lines[k]!.startsWith('```')) k++;
        const body = lines.slice(i + 1, k);
        if (k === lines.length && streaming) {
          flush();
          const named = body.find((l) => l.startsWith('+++ '));
          const path = named ? named.slice(4).trim().replace(/^b\//, '') : lastPath;
          out.push({ kind: 'edit', id: `udiff${udiffIndex}`, format: 'udiff', index: udiffIndex, path, complete: false, before: '', after: '' });
          break;
        }
        const edits = udiffEdits(body);
        if (edits.length > 0) {
          flush();
          for (const e of edits) {
            lastPath = e.path ?? lastPath;
            out.push({ kind: 'edit', id: `udiff${udiffIndex}`, format: 'udiff', index: udiffIndex++, path: lastPath, complete: true, ...sides(e.hunk) });
          }
          i = k + 1;
          continue;
        }
      }
    }

    if (fenced && format === 'whole' && prose.length > 0) {
      const name = wholeName(prose.at(-1)!);
      const base = name.split('/').pop() ?? name;
      const named = known.find((p) => p === name || p === base);
      let k = i + 1;
      while (k < lines.length && !lines[k]!.startsWith('```')) k++;
      const complete = k < lines.length;
      // Closed, it is an edit when a proposal names its file; while streaming, any file will do
      // (its proposal arrives as the fence closes).
      if (named || (streaming && pathLike(name, known))) {
        prose.pop();
        flush();
        const body = lines.slice(i + 1, k).join('');
        out.push({ kind: 'edit', id: `whole${wholeCount++}`, format: 'whole', index: -1, path: named ?? name, complete, before: '', after: body });
        i = complete ? k + 1 : k;
        continue;
      }
    }

    prose.push(line);
    i++;
  }

  if (streaming) prose = prose.slice(0, prose.length - undecidedTail(prose, known));
  flush();
  return out;
}

/** What the segmenter needs to know from a prompt's proposals. */
export function segmentOptions(proposals: readonly EditProposal[], streaming: boolean): SegmentOptions {
  return { format: proposals[0]?.edit_format ?? null, paths: proposals.map((p) => p.path), streaming };
}

/** The proposal a block shows: by index for diff and udiff, the file's latest for whole. */
export function proposalFor(segment: EditSegment, proposals: readonly EditProposal[]): EditProposal | undefined {
  if (segment.format === 'whole') return proposals.filter((p) => p.edit_format === 'whole' && p.path === segment.path).at(-1);
  return proposals.find((p) => p.index === segment.index && normalFormat(p.edit_format) === segment.format);
}

/** The hunks a proposal's block wrote (all of its file's when it does not say which). */
export function blockHunks(p: EditProposal): Hunk[] {
  const hunks = p.file?.hunks ?? [];
  const mine = p.block_hunks ?? [];
  const picked = mine.length ? hunks.filter((h) => mine.includes(h.id)) : [];
  return picked.length ? picked : hunks;
}
