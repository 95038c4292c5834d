import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/lib/client/backoff';

describe('backoffDelay', () => {
  const policy = { baseMs: 500, capMs: 30_000 };

  it('doubles each attempt up to the cap', () => {
    const max = (a: number) => backoffDelay(a, policy, () => 1);
    expect([0, 1, 2, 3].map(max)).toEqual([500, 1000, 2000, 4000]);
    expect(max(10)).toBe(30_000);
    expect(max(1000)).toBe(30_000);
  });

  it('keeps half of each step fixed and jitters the other half', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(2000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(3000);
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(4, policy)));
    expect(seen.size).toBeGreaterThan(10);
    for (const d of seen) {
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });
});
