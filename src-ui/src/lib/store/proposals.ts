import type { Diff, EditProposal, FileDiff, Usage } from '../bindings';

/**
 * What a running turn shows before its diff exists: the edit blocks of each prompt's reply as
 * the host proposes them (`edit.proposed`), and the running prompt's usage estimate
 * (`usage.estimated`). Plain data and functions on a session's view (see sessionView.ts).
 */
export interface LiveTurns {
  /** Each prompt's proposals of its current answer, in block order (one per index). */
  proposals: Record<string, EditProposal[]>;
  /** A running prompt's usage so far, estimated; gone once the API's exact figures arrive. */
  estimates: Record<string, Usage>;
  /**
   * The prompt whose proposals the Changes tab shows over the diff: the running one, then the
   * one that just finished until the next diff arrives (which has the same hunks, by id).
   */
  writing: string | null;
}

/** The snapshot's proposals (every prompt's last answer, in order), by prompt. */
export function proposalsByPrompt(all: readonly EditProposal[] = []): Record<string, EditProposal[]> {
  const out: Record<string, EditProposal[]> = {};
  for (const p of all) putProposal(out, p);
  return out;
}

/**
 * Folds a proposal in: it replaces the one with the same index (a block that turned out not to
 * apply); one of a newer answer starts that prompt's list afresh, one of an older is late news.
 */
export function putProposal(byPrompt: Record<string, EditProposal[]>, p: EditProposal): void {
  const list = byPrompt[p.prompt_id];
  const answer = list?.[0]?.answer ?? -1;
  if (!list || p.answer > answer) {
    byPrompt[p.prompt_id] = [p];
    return;
  }
  if (p.answer < answer) return;
  const at = list.findIndex((q) => q.index >= p.index);
  if (at < 0) list.push(p);
  else if (list[at]!.index === p.index) list[at] = p;
  else list.splice(at, 0, p);
}

/** The prompt's answer so far no longer stands (`agent.text_discarded`): neither do its blocks. */
export function withdrawProposals(byPrompt: Record<string, EditProposal[]>, promptId: string): void {
  delete byPrompt[promptId];
}

export interface ShownFile {
  file: FileDiff;
  /** The file as the running turn's proposals will leave it: shown, not reviewable yet. */
  beingWritten: boolean;
}

/**
 * The Changes tab's files: the diff's, where a file the turn is writing shows its latest
 * proposed version instead (the whole file, with the diff's hunk ids). Files the turn creates
 * join in path order, as the diff lists them.
 */
export function changedFiles(diff: Diff | null, writing: readonly EditProposal[]): ShownFile[] {
  const proposed = new Map<string, FileDiff>();
  for (const p of writing) if (p.status === 'proposed' && p.file) proposed.set(p.file.path, p.file);
  const shown: ShownFile[] = (diff?.files ?? []).map((file) => {
    const next = proposed.get(file.path);
    proposed.delete(file.path);
    return next ? { file: next, beingWritten: true } : { file, beingWritten: false };
  });
  if (proposed.size === 0) return shown;
  for (const file of proposed.values()) shown.push({ file, beingWritten: true });
  return shown.sort((a, b) => (a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0));
}
