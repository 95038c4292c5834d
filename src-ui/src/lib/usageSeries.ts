import type { KeyedUsage, Usage } from './bindings';
import { inputTokens } from './format';

/** Days of spending to chart, as uPlot wants them: one array per series, x in Unix seconds. */
export interface DailySeries {
  /** UTC midnight of each day. */
  x: number[];
  /** USD per day; null where the host could not price a day (an unknown model). */
  cost: (number | null)[];
  /** Tokens per day: read (cached or not) plus written. */
  tokens: number[];
}

const DAY_S = 86_400;

/**
 * The last `span` days up to today (UTC, as the host counts them) from `GET /usage`'s `days`
 * (only days with usage are listed: the others are zeros here, so a quiet week shows as one).
 * `today` is the live total from `usage.updated` events, newer than the report's own line.
 */
export function dailySeries(days: KeyedUsage[], today: Usage | null, now = Date.now(), span = 30): DailySeries {
  const byDay = new Map(days.map((d) => [d.id, d as Usage]));
  const todayStart = Math.floor(now / 1000 / DAY_S) * DAY_S;
  if (today) byDay.set(dayId(todayStart), today);
  const out: DailySeries = { x: [], cost: [], tokens: [] };
  for (let i = span - 1; i >= 0; i--) {
    const t = todayStart - i * DAY_S;
    const u = byDay.get(dayId(t));
    out.x.push(t);
    out.cost.push(u ? u.cost_usd : 0);
    out.tokens.push(u ? inputTokens(u) + u.output_tokens : 0);
  }
  return out;
}

function dayId(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}
