import type { ApiError, ErrorCode } from '../bindings';

/**
 * The host answered with an error. `code` is the contract's snake_case code; `status` the HTTP
 * status, or 0 when the answer came over the desktop app's IPC (no HTTP in between).
 */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'unknown';

  constructor(status: number, body: Partial<ApiError> | null) {
    super(body?.message ?? `the host answered ${status}`);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = body?.code ?? 'unknown';
  }

  /** Worth trying again later without the user changing anything. */
  get retryable(): boolean {
    return this.status >= 500 || this.code === 'internal' || this.code === 'rate_limited';
  }
}

/** No answer at all: offline, host down, timed out, or blocked by the browser (CORS). */
export class NetworkFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkFailure';
  }
}

/** What we tell a person, in their terms; the host's own message is kept as the detail. */
const EXPLAINED: Partial<Record<ErrorCode, string>> = {
  unauthorized: 'The host did not accept this device’s key. Pair again.',
  forbidden: 'The host refused this.',
  not_found: 'Not found on the host — it may have been deleted.',
  session_busy: 'The agent is working in this session. Review when it has finished.',
  hunk_stale: 'The changes moved on since you loaded them; showing the latest now.',
  budget_exceeded: 'The spending limit is reached.',
  payload_too_large: 'That is too large for the host to accept.',
  rate_limited: 'Too many attempts; wait a minute and try again.',
  internal: 'The host hit an internal error.',
  pairing_code_invalid: 'The host does not know that pairing code.',
  pairing_code_expired: 'That pairing code has expired.',
  pairing_code_used: 'That pairing code was already used.',
};

/** One line for a toast or an inline error: what happened, then the host's detail. */
export function describeError(e: unknown): string {
  if (e instanceof ApiFailure) {
    const lead = e.code === 'unknown' ? undefined : EXPLAINED[e.code];
    if (!lead) return e.message;
    return e.message && e.message !== lead ? `${lead} (${e.message})` : lead;
  }
  if (e instanceof NetworkFailure) return `Cannot reach the host: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function isCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof ApiFailure && e.code === code;
}
