import type {
  BudgetScope,
  CommitInfo,
  Event,
  Prompt,
  PromptState,
  Session,
  SessionDetail,
  Usage,
  UsageResponse,
} from '../bindings';

/**
 * Everything the host told us, folded from its event log (plus REST snapshots). Plain data and
 * plain functions: the app wraps one instance in Svelte's `$state` (so every mutation here is
 * reactive) and the tests use it as is.
 */
export interface HostState {
  /** Highest seq applied. Events at or below it are duplicates. */
  lastSeq: number;
  sessions: Record<string, Session>;
  /** Prompt ids per session, oldest first. */
  sessionPrompts: Record<string, string[]>;
  prompts: Record<string, Prompt>;
  /** Which session a prompt belongs to. */
  promptSession: Record<string, string>;
  /** The agent's streamed reply per prompt. */
  replies: Record<string, string>;
  /** What Aider did on the way (log lines, questions it answered), per prompt. */
  activity: Record<string, ActivityLine[]>;
  commits: Record<string, CommitInfo[]>;
  sessionUsage: Record<string, Usage>;
  today: Usage | null;
  diffSummary: Record<string, DiffSummary>;
  /** Bumped whenever a session's diff changed on the host; an open diff view refetches. */
  diffVersion: Record<string, number>;
  /** Recent budget events, newest last. */
  budgetAlerts: BudgetAlert[];
}

export interface ActivityLine {
  seq: number;
  text: string;
  level: 'info' | 'warning' | 'error';
}

export interface DiffSummary {
  files: number;
  hunks: number;
  approved: number;
}

export interface BudgetAlert {
  seq: number;
  ts: string;
  sessionId: string | null;
  kind: 'warning' | 'exceeded';
  scope: BudgetScope;
  spentUsd: number | null;
  limitUsd: number | null;
}

const MAX_ACTIVITY = 200;
const MAX_ALERTS = 20;

export function createHostState(): HostState {
  return {
    lastSeq: 0,
    sessions: {},
    sessionPrompts: {},
    prompts: {},
    promptSession: {},
    replies: {},
    activity: {},
    commits: {},
    sessionUsage: {},
    today: null,
    diffSummary: {},
    diffVersion: {},
    budgetAlerts: [],
  };
}

export function zeroUsage(): Usage {
  return {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cost_usd: 0,
  };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cache_creation_input_tokens: a.cache_creation_input_tokens + b.cache_creation_input_tokens,
    cache_read_input_tokens: a.cache_read_input_tokens + b.cache_read_input_tokens,
    cost_usd: a.cost_usd === null && b.cost_usd === null ? null : (a.cost_usd ?? 0) + (b.cost_usd ?? 0),
  };
}

/** How far along a prompt is; a state never moves backwards (a stale snapshot cannot undo news). */
function rank(state: PromptState): number {
  return state === 'queued' ? 0 : state === 'running' ? 1 : 2;
}

export function isFinished(state: PromptState): boolean {
  return rank(state) === 2;
}

/** Adds or updates a prompt, keeping the furthest-along state we have seen. */
export function upsertPrompt(s: HostState, sessionId: string, incoming: Prompt): void {
  const have = s.prompts[incoming.id];
  if (!have) {
    s.prompts[incoming.id] = { ...incoming };
    s.promptSession[incoming.id] = sessionId;
    const list = listAt(s.sessionPrompts, sessionId);
    list.push(incoming.id);
    // Keep submission order even when a snapshot and the event log interleave.
    if (list.length > 1) {
      const created = (id: string) => s.prompts[id]?.created_at ?? '';
      const prev = list[list.length - 2];
      if (prev !== undefined && created(prev) > incoming.created_at) list.sort((a, b) => created(a).localeCompare(created(b)));
    }
    return;
  }
  if (rank(incoming.state) < rank(have.state)) return;
  if (rank(incoming.state) === 2 && rank(have.state) === 2) return; // finished once, for good
  Object.assign(have, incoming);
}

export function mergeSessions(s: HostState, sessions: Session[]): void {
  for (const session of sessions) s.sessions[session.id] = { ...session };
}

export function mergeSessionDetail(s: HostState, detail: SessionDetail): void {
  const { prompts, commits, ...session } = detail;
  s.sessions[session.id] = session;
  for (const p of prompts) upsertPrompt(s, session.id, p);
  s.commits[session.id] = [...commits];
}

export function mergeUsage(s: HostState, usage: UsageResponse): void {
  s.today = { ...usage.today };
  for (const { id, ...totals } of usage.sessions) s.sessionUsage[id] = totals;
}

/** Folds one event in. Returns false for a duplicate (seq already applied). */
export function applyEvent(s: HostState, e: Event): boolean {
  if (e.seq <= s.lastSeq) return false;
  s.lastSeq = e.seq;
  const sid = e.session_id ?? null;
  switch (e.type) {
    case 'session.created':
    case 'session.updated':
      s.sessions[e.session.id] = { ...e.session };
      break;
    case 'session.deleted':
      if (sid && s.sessions[sid]) s.sessions[sid].state = 'deleted';
      break;
    case 'prompt.queued':
    case 'prompt.updated':
      if (sid) upsertPrompt(s, sid, e.prompt);
      break;
    case 'prompt.started': {
      const p = s.prompts[e.prompt_id];
      if (p && p.state === 'queued') p.state = 'running';
      // A prompt the budget held carries the reason; once it runs, the hold is over.
      if (p) p.reason = null;
      break;
    }
    case 'agent.text':
      s.replies[e.prompt_id] = (s.replies[e.prompt_id] ?? '') + e.chunk;
      break;
    case 'agent.text_discarded':
      s.replies[e.prompt_id] = '';
      addActivity(s, e.prompt_id, { seq: e.seq, level: 'info', text: `Earlier reply discarded: ${e.reason}` });
      break;
    case 'agent.log':
      addActivity(s, e.prompt_id, { seq: e.seq, level: logLevel(e.level), text: e.line });
      break;
    case 'agent.confirm':
      addActivity(s, e.prompt_id, {
        seq: e.seq,
        level: 'info',
        text: `Aider asked “${e.question}${e.subject ? ` ${e.subject}` : ''}” → ${e.answer ? 'yes' : 'no'}`,
      });
      break;
    case 'prompt.finished': {
      const p = s.prompts[e.prompt_id];
      if (p && !isFinished(p.state)) {
        p.state = e.state;
        p.usage = { ...e.usage };
        p.reason = e.reason ?? null;
      }
      break;
    }
    case 'usage.updated': {
      if (sid) s.sessionUsage[sid] = { ...e.session_total };
      s.today = { ...e.today_total };
      const p = e.prompt_id ? s.prompts[e.prompt_id] : undefined;
      // Live cost of a running prompt: its requests so far; prompt.finished brings the total.
      if (p && !isFinished(p.state)) p.usage = addUsage(p.usage, e.usage);
      break;
    }
    case 'diff.updated':
      if (sid) {
        s.diffSummary[sid] = { files: e.files, hunks: e.hunks, approved: e.approved };
        bumpDiff(s, sid);
      }
      break;
    case 'hunk.updated':
      if (sid) bumpDiff(s, sid);
      break;
    case 'commit.created':
      if (sid) {
        const list = listAt(s.commits, sid);
        if (!list.some((c) => c.sha === e.commit.sha)) list.push({ ...e.commit });
        bumpDiff(s, sid);
      }
      break;
    case 'commit.undone':
      if (sid) {
        s.commits[sid] = (s.commits[sid] ?? []).filter((c) => c.sha !== e.undone);
        bumpDiff(s, sid);
      }
      break;
    case 'session.merged':
      if (sid) bumpDiff(s, sid);
      break;
    case 'budget.warning':
    case 'budget.exceeded':
      s.budgetAlerts.push({
        seq: e.seq,
        ts: e.ts,
        sessionId: sid,
        kind: e.type === 'budget.warning' ? 'warning' : 'exceeded',
        scope: e.scope,
        spentUsd: e.spent_usd,
        limitUsd: e.limit_usd,
      });
      if (s.budgetAlerts.length > MAX_ALERTS) s.budgetAlerts.splice(0, s.budgetAlerts.length - MAX_ALERTS);
      break;
    default:
      // A newer host may send event types this UI does not know yet: skip them.
      break;
  }
  return true;
}

/**
 * The list stored under `key`, created if missing. Read back after storing: inside Svelte's
 * `$state` the stored value is a proxy of the array, and pushing to the array we passed in
 * would bypass it (`(r[k] ??= [])` returns the unproxied array).
 */
function listAt<T>(record: Record<string, T[]>, key: string): T[] {
  if (!record[key]) record[key] = [];
  return record[key];
}

function bumpDiff(s: HostState, sid: string): void {
  s.diffVersion[sid] = (s.diffVersion[sid] ?? 0) + 1;
}

function addActivity(s: HostState, promptId: string, line: ActivityLine): void {
  const list = listAt(s.activity, promptId);
  list.push(line);
  if (list.length > MAX_ACTIVITY) list.splice(0, list.length - MAX_ACTIVITY);
}

function logLevel(level: string): ActivityLine['level'] {
  const l = level.toLowerCase();
  if (l.startsWith('err')) return 'error';
  if (l.startsWith('warn')) return 'warning';
  return 'info';
}

/** The session's prompts, oldest first. */
export function promptsOf(s: HostState, sessionId: string): Prompt[] {
  return (s.sessionPrompts[sessionId] ?? []).flatMap((id) => {
    const p = s.prompts[id];
    return p ? [p] : [];
  });
}

export type BudgetLevel = 'ok' | 'warning' | 'exceeded';

/** Where spending stands against a limit (no limit: always ok). */
export function budgetLevel(spent: number | null | undefined, limit: number | null | undefined, warningRatio: number | null | undefined): BudgetLevel {
  if (limit === null || limit === undefined || limit <= 0 || spent === null || spent === undefined) return 'ok';
  if (spent >= limit) return 'exceeded';
  if (spent >= limit * (warningRatio ?? 0.8)) return 'warning';
  return 'ok';
}
