import type {
  BudgetInfo,
  Budget,
  CancelResponse,
  CommitResponse,
  CreateSessionRequest,
  DeletedResponse,
  Device,
  DevicesResponse,
  Diff,
  Event,
  EventsResponse,
  HistoryResponse,
  NoteResponse,
  PairRequest,
  PairResponse,
  PairingCode,
  ReviewNote,
  RevisionPreview,
  Prompt,
  PromptsResponse,
  Session,
  SessionDetail,
  SessionSnapshot,
  SessionsResponse,
  Status,
  SubmitPromptRequest,
  UsageResponse,
  ApiError,
} from '../bindings';
import type { Transcript } from '../voice/types';
import { ApiFailure, NetworkFailure } from './errors';
import type { HostApi, SubmitResult } from './host';

/** Where the host is and the key it gave this device. */
export interface HostCredentials {
  /** Bare origin, e.g. `https://desk.tailnet.ts.net:8000`. */
  origin: string;
  key: string;
  /** The host's id of this device (paired with a code); absent for a key pasted by hand. */
  deviceId?: string | null;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

// Bound to globalThis: calling a detached `fetch` throws "Illegal invocation" in browsers.
const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

export interface ApiOptions {
  fetch?: FetchLike;
  timeoutMs?: number;
  /** The host refused the key (any 401): called before the failure is thrown. */
  onUnauthorized?: () => void;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type { SubmitResult } from './host';

/**
 * The host's REST API, one typed method per route of the contract. Every failure is either an
 * `ApiFailure` (the host answered) or a `NetworkFailure` (it did not), so callers can tell "retry
 * later" from "show the message".
 */
export class ArcbenchApi implements HostApi {
  readonly origin: string;
  readonly transport = 'http';
  readonly #key: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #onUnauthorized: (() => void) | undefined;

  constructor(creds: HostCredentials, options: ApiOptions = {}) {
    this.origin = creds.origin.replace(/\/+$/, '');
    this.#key = creds.key;
    this.#fetch = options.fetch ?? defaultFetch;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#onUnauthorized = options.onUnauthorized;
  }

  status(): Promise<Status> {
    return this.#call('GET', '/status');
  }

  /** The sessions, and the newest event's seq when they were read (stream events after it). */
  async sessions(): Promise<{ sessions: Session[]; last_seq: number }> {
    const r = await this.#call<SessionsResponse>('GET', '/sessions');
    return { sessions: r.sessions, last_seq: r.last_seq ?? 0 };
  }

  createSession(req: CreateSessionRequest): Promise<Session> {
    return this.#call('POST', '/sessions', req);
  }

  session(id: string): Promise<SessionDetail> {
    return this.#call('GET', `/sessions/${enc(id)}`);
  }

  /** Everything to show one session (prompts with their replies) and the seq it is current to. */
  snapshot(id: string): Promise<SessionSnapshot> {
    return this.#call('GET', `/sessions/${enc(id)}/snapshot`);
  }

  deleteSession(id: string, deleteBranch = false): Promise<DeletedResponse> {
    return this.#call('DELETE', `/sessions/${enc(id)}?delete_branch=${deleteBranch}`);
  }

  diff(id: string): Promise<Diff> {
    return this.#call('GET', `/sessions/${enc(id)}/diff`);
  }

  approveHunks(id: string, ids: string[]): Promise<Diff> {
    return this.#call('POST', `/sessions/${enc(id)}/hunks/approve`, { ids });
  }

  rejectHunks(id: string, ids: string[], comment?: string): Promise<Diff> {
    const body = comment?.trim() ? { ids, comment: comment.trim() } : { ids };
    return this.#call('POST', `/sessions/${enc(id)}/hunks/reject`, body);
  }

  apply(id: string, message?: string): Promise<CommitResponse> {
    return this.#call('POST', `/sessions/${enc(id)}/apply`, message?.trim() ? { message: message.trim() } : {});
  }

  /** Discards every uncommitted change of the session. */
  rejectAll(id: string): Promise<Diff> {
    return this.#call('POST', `/sessions/${enc(id)}/reject`);
  }

  undo(id: string): Promise<CommitResponse> {
    return this.#call('POST', `/sessions/${enc(id)}/undo`);
  }

  merge(id: string): Promise<CommitResponse> {
    return this.#call('POST', `/sessions/${enc(id)}/merge`);
  }

  /** A comment on one hunk (kept or pending); it feeds the next revision. */
  async comment(id: string, hunkId: string, comment: string): Promise<ReviewNote> {
    return (await this.#call<NoteResponse>('POST', `/sessions/${enc(id)}/comments`, { hunk_id: hunkId, comment: comment.trim() })).note;
  }

  /** The revision prompt the pending notes would make (409 `conflict` when there are none). */
  revisionPreview(id: string): Promise<RevisionPreview> {
    return this.#call('GET', `/sessions/${enc(id)}/revise`);
  }

  /** Queues the revision prompt; the same client_id is never queued twice. */
  async revise(id: string, clientId: string, text?: string): Promise<SubmitResult> {
    const body = text?.trim() ? { client_id: clientId, text } : { client_id: clientId };
    const { body: prompt, status } = await this.#send<Prompt>('POST', `/sessions/${enc(id)}/revise`, body);
    return { prompt, created: status === 202 };
  }

  history(id: string): Promise<HistoryResponse> {
    return this.#call('GET', `/sessions/${enc(id)}/history`);
  }

  async submitPrompt(id: string, req: SubmitPromptRequest): Promise<SubmitResult> {
    const { body, status } = await this.#send<Prompt>('POST', `/sessions/${enc(id)}/prompts`, req);
    return { prompt: body, created: status === 202 };
  }

  async prompts(id: string): Promise<Prompt[]> {
    return (await this.#call<PromptsResponse>('GET', `/sessions/${enc(id)}/prompts`)).prompts;
  }

  cancelPrompt(id: string, promptId: string): Promise<CancelResponse> {
    return this.#call('POST', `/sessions/${enc(id)}/prompts/${enc(promptId)}/cancel`);
  }

  /** Stops whatever prompt is running in the session. */
  cancelRunning(id: string): Promise<CancelResponse> {
    return this.#call('POST', `/sessions/${enc(id)}/cancel`);
  }

  usage(): Promise<UsageResponse> {
    return this.#call('GET', '/usage');
  }

  budget(): Promise<BudgetInfo> {
    return this.#call('GET', '/budget');
  }

  setBudget(update: Budget): Promise<BudgetInfo> {
    return this.#call('PUT', '/budget', update);
  }

  /** At most 10,000 events after `since`; 410 `resync` when the host compacted past it. */
  async events(since: number): Promise<Event[]> {
    return (await this.#call<EventsResponse>('GET', `/events?since=${since}`)).events;
  }

  /** A single-use code (5 minutes) that pairs one more device; its links and QR code. */
  createPairingCode(): Promise<PairingCode> {
    return this.#call('POST', '/pairing-codes', {});
  }

  async devices(): Promise<Device[]> {
    return (await this.#call<DevicesResponse>('GET', '/devices')).devices;
  }

  /** Revokes a device's key: the host refuses it from now on. Answers the revoked device. */
  revokeDevice(id: string): Promise<Device> {
    return this.#call('DELETE', `/devices/${enc(id)}`);
  }

  /**
   * `POST /transcribe`: a recording (16 kHz mono 16-bit WAV, at most 60 s) to its text. With a
   * session, the host primes the transcriber with that session's file names and words.
   */
  async transcribe(wav: Blob, sessionId?: string | null): Promise<Transcript> {
    const q = sessionId ? `?session=${enc(sessionId)}` : '';
    // A minute of audio on a small machine, the model perhaps loading first: give it time.
    return (await this.#request<Transcript>('POST', `/transcribe${q}`, { raw: wav, type: 'audio/wav' }, 'json', 120_000)).body;
  }

  /** `POST /speech`: the host reads `text` (≤ 1000 characters) aloud into a WAV. */
  async speech(text: string): Promise<Blob> {
    return (await this.#request<Blob>('POST', '/speech', { json: { text: text.slice(0, 1000) } }, 'blob', 30_000)).body;
  }

  async #call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    return (await this.#send<T>(method, path, body)).body;
  }

  #send<T>(method: Method, path: string, body?: unknown): Promise<{ body: T; status: number }> {
    return this.#request<T>(method, path, body === undefined ? undefined : { json: body }, 'json', this.#timeoutMs);
  }

  async #request<T>(method: Method, path: string, body: Body | undefined, answer: 'json' | 'blob', timeoutMs: number): Promise<{ body: T; status: number }> {
    try {
      return await request<T>(this.#fetch, this.origin + path, method, body, this.#key, timeoutMs, answer);
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) this.#onUnauthorized?.();
      throw e;
    }
  }
}

/**
 * `POST /pair`: redeems a pairing code for this device's own key. The one call made without a
 * key; its refusals are `pairing_code_invalid` (401), `pairing_code_expired` and
 * `pairing_code_used` (410), `rate_limited` (429) and `bad_request` (400).
 */
export async function redeemPairingCode(origin: string, req: PairRequest, options: Omit<ApiOptions, 'onUnauthorized'> = {}): Promise<PairResponse> {
  const url = origin.replace(/\/+$/, '') + '/pair';
  return (await request<PairResponse>(options.fetch ?? defaultFetch, url, 'POST', { json: req }, null, options.timeoutMs ?? 15_000, 'json')).body;
}

/**
 * One keyed JSON call to a route outside `HostApi`: the HTTP-only ones (a device's Web Push
 * subscription), with `ArcbenchApi`'s key, timeout and failures (`ApiFailure`, `NetworkFailure`).
 */
export async function callHost<T>(creds: HostCredentials, method: Method, path: string, body?: unknown, options: ApiOptions = {}): Promise<T> {
  const url = creds.origin.replace(/\/+$/, '') + path;
  try {
    return (await request<T>(options.fetch ?? defaultFetch, url, method, body === undefined ? undefined : { json: body }, creds.key, options.timeoutMs ?? 15_000, 'json')).body;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) options.onUnauthorized?.();
    throw e;
  }
}

/** A request body: JSON, or bytes of a content type (a recording). */
type Body = { json: unknown } | { raw: Blob; type: string };

async function request<T>(
  fetch: FetchLike,
  url: string,
  method: Method,
  body: Body | undefined,
  key: string | null,
  timeoutMs: number,
  answer: 'json' | 'blob',
): Promise<{ body: T; status: number }> {
  const headers: Record<string, string> = key === null ? {} : { Authorization: `Bearer ${key}` };
  if (body) headers['Content-Type'] = 'json' in body ? 'application/json' : body.type;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : 'json' in body ? JSON.stringify(body.json) : body.raw,
      signal: abort.signal,
      // API answers must never come from any cache (the service worker ignores them too).
      cache: 'no-store',
    });
  } catch (e) {
    const why = abort.signal.aborted ? `no answer in ${Math.round(timeoutMs / 1000)} s` : 'network error';
    throw new NetworkFailure(why, { cause: e });
  } finally {
    clearTimeout(timer);
  }
  if (res.ok && answer === 'blob') {
    try {
      return { body: (await res.blob()) as T, status: res.status };
    } catch (e) {
      throw new NetworkFailure('the answer was cut off', { cause: e });
    }
  }
  const parsed = await readJson(res);
  if (!res.ok) throw new ApiFailure(res.status, asApiError(parsed));
  // The host's answers are typed by the generated bindings; the contract fixes their shape.
  return { body: parsed as T, status: res.status };
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function asApiError(v: unknown): Partial<ApiError> | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  return {
    code: typeof o.code === 'string' ? (o.code as ApiError['code']) : undefined,
    message: typeof o.message === 'string' ? o.message : undefined,
  };
}
