import type { CommitInfo, Event, Prompt, PromptState, Session, SessionSnapshot } from '../bindings';
import { addUsage } from './budget';
import { proposalsByPrompt, putProposal, withdrawProposals, type LiveTurns } from './proposals';

/**
 * One session as the screen shows it: its snapshot from the host (`GET /sessions/{id}/snapshot`),
 * then every live event after the snapshot's `last_seq`. Plain data and plain functions: the app
 * keeps views inside Svelte's `$state` (so every mutation here is reactive), the tests use them
 * as they are.
 */
export interface SessionView extends LiveTurns {
  /** Events at or below this seq are already in the view; they are skipped when they arrive. */
  seq: number;
  session: Session;
  /** Oldest first; each `reply` is the agent's text so far (final once the prompt finished). */
  prompts: Prompt[];
  commits: CommitInfo[];
  /** What the agent did on the way (log lines, questions it answered), per prompt; live only. */
  activity: Record<string, ActivityLine[]>;
  /** Restored from this device while the host was out of reach: shown, but not fed events. */
  stale?: boolean;
}

export interface ActivityLine {
  seq: number;
  text: string;
  level: 'info' | 'warning' | 'error';
}

const MAX_ACTIVITY = 200;

export function viewFromSnapshot(s: SessionSnapshot): SessionView {
  return {
    seq: s.last_seq,
    session: { ...s.session },
    prompts: s.prompts.map((p) => ({ ...p, reply: p.reply ?? '' })),
    commits: s.commits.map((c) => ({ ...c })),
    activity: {},
    proposals: proposalsByPrompt(s.proposals),
    estimates: {},
    writing: s.prompts.find((p) => p.state === 'running')?.id ?? null,
  };
}

/** How far along a prompt is; a state never moves backwards (a stale answer cannot undo news). */
function rank(state: PromptState): number {
  return state === 'queued' ? 0 : state === 'running' ? 1 : 2;
}

export function isFinished(state: PromptState): boolean {
  return rank(state) === 2;
}

/**
 * A diff arrived: once the prompt whose proposals the Changes tab showed has finished, the diff
 * shows its real hunks (the same ids) and the proposals step aside.
 */
export function diffArrived(v: SessionView): void {
  const p = v.writing ? findPrompt(v, v.writing) : undefined;
  if (!p || isFinished(p.state)) v.writing = null;
}

export function findPrompt(v: SessionView, id: string): Prompt | undefined {
  return v.prompts.find((p) => p.id === id);
}

/**
 * Adds or updates a prompt from an answer or an event, keeping the furthest-along state. Its
 * reply is never taken from here: only the snapshot and `agent.text` events write replies, so a
 * prompt's text can be neither lost nor doubled.
 */
export function upsertPrompt(v: SessionView, incoming: Prompt): void {
  const have = findPrompt(v, incoming.id);
  if (!have) {
    v.prompts.push({ ...incoming, reply: '' });
    const n = v.prompts.length;
    // Keep submission order even when an answer and the event feed interleave.
    if (n > 1 && v.prompts[n - 2]!.created_at > incoming.created_at) v.prompts.sort((a, b) => a.created_at.localeCompare(b.created_at));
    return;
  }
  if (rank(incoming.state) < rank(have.state)) return;
  if (rank(incoming.state) === 2 && rank(have.state) === 2) return; // finished once, for good
  const reply = have.reply;
  Object.assign(have, incoming);
  have.reply = reply;
}

/** Folds one live event in. False when it is not news for this view (other session, or seq ≤ view). */
export function applyToView(v: SessionView, e: Event): boolean {
  if (e.seq <= v.seq || e.session_id !== v.session.id) return false;
  v.seq = e.seq;
  switch (e.type) {
    case 'session.created':
    case 'session.updated':
      v.session = { ...e.session };
      break;
    case 'session.deleted':
      v.session.state = 'deleted';
      break;
    case 'prompt.queued':
    case 'prompt.updated':
      upsertPrompt(v, e.prompt);
      break;
    case 'prompt.started': {
      const p = findPrompt(v, e.prompt_id);
      if (p && p.state === 'queued') p.state = 'running';
      // A prompt the budget held carries the reason; once it runs, the hold is over.
      if (p) p.reason = null;
      v.writing = e.prompt_id;
      break;
    }
    case 'agent.text': {
      const p = findPrompt(v, e.prompt_id);
      if (p) p.reply = (p.reply ?? '') + e.chunk;
      break;
    }
    case 'agent.text_discarded': {
      const p = findPrompt(v, e.prompt_id);
      if (p) p.reply = '';
      withdrawProposals(v.proposals, e.prompt_id);
      addActivity(v, e.prompt_id, { seq: e.seq, level: 'info', text: `Earlier reply discarded: ${e.reason}` });
      break;
    }
    case 'agent.log':
      addActivity(v, e.prompt_id, { seq: e.seq, level: logLevel(e.level), text: e.line });
      break;
    case 'agent.confirm':
      addActivity(v, e.prompt_id, {
        seq: e.seq,
        level: 'info',
        text: `Aider asked “${e.question}${e.subject ? ` ${e.subject}` : ''}” → ${e.answer ? 'yes' : 'no'}`,
      });
      break;
    case 'prompt.finished': {
      const p = findPrompt(v, e.prompt_id);
      if (p && !isFinished(p.state)) {
        p.state = e.state;
        p.usage = { ...e.usage };
        p.reason = e.reason ?? null;
      }
      delete v.estimates[e.prompt_id];
      break;
    }
    case 'usage.updated': {
      const p = e.prompt_id ? findPrompt(v, e.prompt_id) : undefined;
      // Live cost of a running prompt: its requests so far; prompt.finished brings the total.
      if (p && !isFinished(p.state)) p.usage = addUsage(p.usage, e.usage);
      if (e.prompt_id) delete v.estimates[e.prompt_id];
      break;
    }
    case 'usage.estimated': {
      const p = findPrompt(v, e.prompt_id);
      if (p && !isFinished(p.state)) v.estimates[e.prompt_id] = { ...e.usage };
      break;
    }
    case 'edit.proposed': {
      putProposal(v.proposals, e.proposal);
      const p = findPrompt(v, e.proposal.prompt_id);
      if (p && !isFinished(p.state)) v.writing = p.id;
      break;
    }
    case 'commit.created':
      if (!v.commits.some((c) => c.sha === e.commit.sha)) v.commits.push({ ...e.commit });
      break;
    case 'commit.undone':
      v.commits = v.commits.filter((c) => c.sha !== e.undone);
      break;
    default:
      // Diff, review and budget news belong to other stores; a newer host may send event types
      // this UI does not know yet: skip them.
      break;
  }
  return true;
}

function addActivity(v: SessionView, promptId: string, line: ActivityLine): void {
  const list = v.activity[promptId];
  if (!list) v.activity[promptId] = [line];
  else if (list.length < MAX_ACTIVITY) list.push(line);
  // Full: one new array (one write) rather than shifting 200 entries of a $state proxy one by one.
  else v.activity[promptId] = [...list.slice(1 - MAX_ACTIVITY), line];
}

function logLevel(level: string): ActivityLine['level'] {
  const l = level.toLowerCase();
  if (l.startsWith('err')) return 'error';
  if (l.startsWith('warn')) return 'warning';
  return 'info';
}
