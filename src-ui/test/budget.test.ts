import { describe, expect, it } from 'vitest';
import { addUsage, budgetLevel, budgetNotice, zeroUsage } from '../src/lib/store/budget';
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
