import { describe, expect, it } from 'vitest';
import { addUsage, budgetLevel, budgetNotice, estimateExtra, sessionUsageShown, zeroUsage } from '../src/lib/store/budget';
import { events, usage } from './fixtures';

describe('budget', () => {
  it('warns at the ratio and stops at the limit', () => {
    expect(budgetLevel(1, null, 0.8)).toBe('ok');
    expect(budgetLevel(7.9, 10, 0.8)).toBe('ok');
    expect(budgetLevel(8, 10, 0.8)).toBe('warning');
    expect(budgetLevel(10, 10, 0.8)).toBe('exceeded');
    expect(budgetLevel(null, 10, 0.8)).toBe('ok');
  });

  it('adds usage, keeping an unknown cost unknown', () => {
    expect(addUsage(usage(0.1, 10, 1), usage(0.2, 5, 2))).toMatchObject({ input_tokens: 15, output_tokens: 3 });
    expect(addUsage({ ...zeroUsage(), cost_usd: null }, { ...zeroUsage(), cost_usd: null }).cost_usd).toBeNull();
  });

  it('an estimate adds only what it has over the prompt exact usage so far', () => {
    expect(estimateExtra(usage(0.014, 1000, 120), usage(0.01, 1000, 20))).toEqual({ ...usage(0, 0, 100), cost_usd: expect.closeTo(0.004, 10) });
    // Never below zero (an estimate a little behind the exact figures).
    expect(estimateExtra(usage(0.01, 900, 10), usage(0.02, 1000, 20))).toEqual(usage(0, 0, 0));
    expect(estimateExtra({ ...usage(), cost_usd: null }, usage(0.01)).cost_usd).toBeNull();
    expect(estimateExtra(usage(0.01), { ...usage(), cost_usd: null }).cost_usd).toBe(0.01);
  });

  it('a session total with its running prompt estimated in, counted once', () => {
    const total = usage(0.05, 5000, 200);
    const prompts = [
      { id: 'old', usage: usage(0.04, 4000, 180) },
      { id: 'p1', usage: usage(0.01, 1000, 20) },
    ];
    // No estimate: the exact total, as it is.
    expect(sessionUsageShown(total, { prompts, estimates: {} })).toEqual({ usage: total, estimated: false });
    expect(sessionUsageShown(total, undefined)).toEqual({ usage: total, estimated: false });
    expect(sessionUsageShown(undefined, undefined)).toEqual({ usage: undefined, estimated: false });
    // p1's estimate holds its exact $0.01 (already in the total) and $0.004 in flight.
    const shown = sessionUsageShown(total, { prompts, estimates: { p1: usage(0.014, 1000, 120) } });
    expect(shown.estimated).toBe(true);
    expect(shown.usage).toMatchObject({ input_tokens: 5000, output_tokens: 300 });
    expect(shown.usage?.cost_usd).toBeCloseTo(0.054, 10);
    // Before any exact figure: the estimate is all new, and the total may not be known yet.
    const first = sessionUsageShown(undefined, { prompts: [{ id: 'p1', usage: usage() }], estimates: { p1: usage(0.002, 800, 30) } });
    expect(first).toEqual({ usage: usage(0.002, 800, 30), estimated: true });
  });

  it('tells fresh budget news, not old news caught up after a reconnect', () => {
    const [e] = events([{ type: 'budget.exceeded', scope: 'daily', spent_usd: 5.2, limit_usd: 5 }]);
    const at = Date.parse(e!.ts);
    expect(budgetNotice(e!, at + 1000)).toEqual({ kind: 'error', text: 'Daily budget reached: $5.20 of $5.00. New prompts wait until it is raised.' });
    expect(budgetNotice(e!, at + 10 * 60_000)).toBeNull();
    const [w] = events([{ type: 'budget.warning', scope: 'session', spent_usd: 4, limit_usd: 5 }]);
    expect(budgetNotice(w!, at)?.kind).toBe('warning');
    const [other] = events([{ type: 'diff.updated', files: 0, hunks: 0, approved: 0 }]);
    expect(budgetNotice(other!, at)).toBeNull();
  });
});
