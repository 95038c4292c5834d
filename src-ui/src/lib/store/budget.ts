import type { Event, Prompt, Usage } from '../bindings';

/** Usage arithmetic and budget levels: plain functions, shared by the stores and the screens. */

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

/** A total as shown: exact, or with what running prompts have streamed since estimated in. */
export interface ShownUsage {
  /** Undefined when the host has not reported the total and there is no estimate to add. */
  usage: Usage | undefined;
  estimated: boolean;
}

/**
 * What an estimate adds over the prompt's exact usage so far: the estimate is the prompt's exact
 * figures plus the request in flight, so only the difference is new (never below zero).
 */
export function estimateExtra(estimate: Usage, exact: Usage): Usage {
  const over = (e: number, x: number) => Math.max(0, e - x);
  return {
    input_tokens: over(estimate.input_tokens, exact.input_tokens),
    output_tokens: over(estimate.output_tokens, exact.output_tokens),
    cache_creation_input_tokens: over(estimate.cache_creation_input_tokens, exact.cache_creation_input_tokens),
    cache_read_input_tokens: over(estimate.cache_read_input_tokens, exact.cache_read_input_tokens),
    cost_usd: estimate.cost_usd === null ? null : over(estimate.cost_usd, exact.cost_usd ?? 0),
  };
}

/**
 * A session's total with its running prompts' estimates (`usage.estimated`) in: the exact total
 * (`usage.updated`'s `session_total`, which already holds every priced request) plus, per
 * estimated prompt, the estimate's extra over that prompt's exact usage so far. Without an
 * estimate, the exact total as it is.
 */
export function sessionUsageShown(
  total: Usage | undefined,
  live: { prompts: readonly Pick<Prompt, 'id' | 'usage'>[]; estimates: Readonly<Record<string, Usage>> } | undefined,
): ShownUsage {
  let usage = total;
  let estimated = false;
  for (const [promptId, estimate] of Object.entries(live?.estimates ?? {})) {
    const exact = live?.prompts.find((p) => p.id === promptId)?.usage ?? zeroUsage();
    usage = addUsage(usage ?? zeroUsage(), estimateExtra(estimate, exact));
    estimated = true;
  }
  return { usage, estimated };
}

export type BudgetLevel = 'ok' | 'warning' | 'exceeded';

/** Where spending stands against a limit (no limit: always ok). */
export function budgetLevel(spent: number | null | undefined, limit: number | null | undefined, warningRatio: number | null | undefined): BudgetLevel {
  if (limit === null || limit === undefined || limit <= 0 || spent === null || spent === undefined) return 'ok';
  if (spent >= limit) return 'exceeded';
  if (spent >= limit * (warningRatio ?? 0.8)) return 'warning';
  return 'ok';
}

/** Budget events older than this at arrival are history (caught up after a reconnect), not news. */
export const FRESH_BUDGET_MS = 2 * 60_000;

export interface BudgetNotice {
  kind: 'warning' | 'error';
  text: string;
}

/** What to tell the user about a budget event, or null when it is not one or is old news. */
export function budgetNotice(e: Event, now: number): BudgetNotice | null {
  if (e.type !== 'budget.warning' && e.type !== 'budget.exceeded') return null;
  if (!(now - Date.parse(e.ts) < FRESH_BUDGET_MS)) return null;
  const scope = e.scope === 'daily' ? 'Daily' : 'Session';
  const spent = e.spent_usd === null ? '' : ` $${e.spent_usd.toFixed(2)}`;
  const limit = e.limit_usd === null ? '' : ` of $${e.limit_usd.toFixed(2)}`;
  return e.type === 'budget.warning'
    ? { kind: 'warning', text: `${scope} budget nearly used:${spent}${limit}.` }
    : { kind: 'error', text: `${scope} budget reached:${spent}${limit}. New prompts wait until it is raised.` };
}
