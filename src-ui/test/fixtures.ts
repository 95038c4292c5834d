import type { EditProposal, Event, EventBody, FileDiff, Hunk, Prompt, Session, SessionSnapshot, Usage } from '../src/lib/bindings';

export const usage = (cost = 0, input = 0, output = 0): Usage => ({
  input_tokens: input,
  output_tokens: output,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cost_usd: cost,
});

export const session = (id = 's1', over: Partial<Session> = {}): Session => ({
  id,
  branch: `session/${id}`,
  base_commit: 'a'.repeat(40),
  base_branch: 'main',
  state: 'idle',
  repo: 'repo',
  title: '',
  created_at: '2026-11-24T09:00:00.000Z',
  ...over,
});

export const prompt = (id: string, over: Partial<Prompt> = {}): Prompt => ({
  id,
  client_id: `c-${id}`,
  text: `do ${id}`,
  state: 'queued',
  usage: usage(),
  created_at: '2026-11-24T09:00:01.000Z',
  ...over,
});

/** Builds a gapless run of events from bodies. */
export function events(bodies: EventBody[], sessionId: string | null = 's1', from = 1): Event[] {
  return bodies.map((b, i) => ({ seq: from + i, ts: '2026-11-24T09:00:00.000Z', session_id: sessionId, ...b }) as Event);
}

/** The host's snapshot of one session, current as of `last_seq`. */
export const snapshot = (over: Partial<SessionSnapshot> = {}): SessionSnapshot => ({
  session: session('s1'),
  prompts: [],
  commits: [],
  notes: [],
  last_seq: 0,
  ...over,
});

/** A one-line added text hunk (its line is its id unless `over` says otherwise). */
export const hunk = (id: string, over: Partial<Hunk> = {}): Hunk => ({
  id,
  kind: 'text',
  header: '',
  old_start: 1,
  old_lines: 1,
  new_start: 1,
  new_lines: 1,
  state: 'pending',
  lines: [{ kind: 'add', text: id }],
  ...over,
});

export const fileDiff = (path: string, hunks: Hunk[]): FileDiff => ({
  path,
  old_path: null,
  status: 'modified',
  binary: false,
  too_large: false,
  old_mode: null,
  new_mode: null,
  hunks,
});

/** Block `index` of prompt p1's first answer, on src/a.py, writing hunk `h<index>`. */
export const proposal = (index: number, over: Partial<EditProposal> = {}): EditProposal => ({
  prompt_id: 'p1',
  answer: 0,
  index,
  path: 'src/a.py',
  edit_format: 'diff',
  status: 'proposed',
  file: fileDiff('src/a.py', [hunk(`h${index}`)]),
  block_hunks: [`h${index}`],
  ...over,
});
