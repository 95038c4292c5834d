import type { Budget, BudgetInfo, Event, Usage, UsageResponse } from '../bindings';
import type { HostApi } from '../client/host';
import { budgetNotice } from './budget';
import type { Toasts } from './toasts.svelte';

/**
 * Spending: `GET /usage` (totals, per session, the budget's limits), kept current by
 * `usage.updated` events; budget events become toasts when they are news.
 */
export class UsageStore {
  /** The last `GET /usage` answer (its `budget` holds the limits). */
  report = $state<UsageResponse | null>(null);
  /** Today's total (UTC), newer than `report` once events arrived. */
  today = $state<Usage | null>(null);
  /** Each session's total. */
  bySession = $state<Record<string, Usage>>({});

  readonly #api: () => HostApi;
  readonly #toasts: Toasts;
  /** When `report` last came from the host (epoch ms). */
  #fetchedAt = 0;

  constructor(api: () => HostApi, toasts: Toasts) {
    this.#api = api;
    this.#toasts = toasts;
  }

  get budget(): BudgetInfo | undefined {
    return this.report?.budget;
  }

  ofSession(id: string): Usage | undefined {
    return this.bySession[id];
  }

  set(report: UsageResponse): void {
    this.#fetchedAt = Date.now();
    this.report = report;
    this.today = { ...report.today };
    for (const { id, ...totals } of report.sessions) this.bySession[id] = totals;
  }

  /**
   * Asks the host again, unless its answer is younger than `maxAgeMs` (a screen opened right
   * after the start); a failure is quiet (the next event or reconnect brings it).
   */
  async refresh(maxAgeMs = 0): Promise<void> {
    if (maxAgeMs > 0 && Date.now() - this.#fetchedAt < maxAgeMs) return;
    try {
      this.set(await this.#api().usage());
    } catch {
      // A toast here would only be noise.
    }
  }

  async setBudget(update: Budget): Promise<void> {
    await this.#api().setBudget(update);
    await this.refresh();
  }

  /** Folds one event in; true when the limits may have changed hands (refresh afterwards). */
  apply(e: Event, now = Date.now()): boolean {
    if (e.type === 'usage.updated') {
      if (e.session_id) this.bySession[e.session_id] = { ...e.session_total };
      this.today = { ...e.today_total };
      return false;
    }
    if (e.type !== 'budget.warning' && e.type !== 'budget.exceeded') return false;
    const notice = budgetNotice(e, now);
    if (notice) this.#toasts.push(notice.kind, notice.text);
    return true;
  }

  reset(): void {
    this.#fetchedAt = 0;
    this.report = null;
    this.today = null;
    this.bySession = {};
  }
}
