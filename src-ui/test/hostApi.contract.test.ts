// @vitest-environment happy-dom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiFailure } from '../src/lib/client/errors';
import type { HostApi } from '../src/lib/client/host';
import { ArcbenchApi, type FetchLike } from '../src/lib/client/rest';
import { commands } from '../src/lib/desktop/bindings';
import { IpcApi } from '../src/lib/desktop/ipcApi';

/**
 * One contract for both clients of a host: every `HostApi` method, called on the HTTP client and
 * on the desktop app's IPC client, must reach the same host operation (`arcbench_host::api`) with
 * the same arguments and hand back the same answer; a refusal is the same `ApiFailure` code.
 * (That the host answers the same through both transports is tested in Rust:
 * src-tauri/tests/commands.rs.)
 */

/** What the fake host answers to `op` (with the fields the clients pick out of some answers). */
const answerOf = (op: string) => ({ answered: op, note: { id: 'n1' }, prompts: ['p'], events: ['e'], devices: ['d'], sessions: ['s'], last_seq: 3 });

/** The host, as operations: what each was asked, and what it answers. */
function fakeHost() {
  const calls: { op: string; args: Record<string, unknown> }[] = [];
  let refuse: { code: string; message: string } | null = null;
  const answer = (op: string, args: Record<string, unknown>): unknown => {
    calls.push({ op, args });
    if (refuse) throw refuse;
    if (op === 'submit_prompt' || op === 'submit_revision') return { prompt: { id: 'p1', state: 'queued' }, created: true };
    return answerOf(op);
  };
  return {
    calls,
    answer,
    refuseWith(error: { code: string; message: string } | null) {
      refuse = error;
    },
  };
}

type Host = ReturnType<typeof fakeHost>;

/** The HTTP routes of the contract (docs/api.md), as the host's operations and their arguments. */
const ROUTES: [string, RegExp, string, (m: string[], body: unknown, url: URL) => Record<string, unknown>][] = [
  ['GET', /^\/status$/, 'status', () => ({})],
  ['GET', /^\/sessions$/, 'list_sessions', () => ({})],
  ['POST', /^\/sessions$/, 'create_session', (_, body) => ({ req: body })],
  ['GET', /^\/sessions\/([^/]+)$/, 'session_detail', (m) => ({ id: m[1] })],
  ['DELETE', /^\/sessions\/([^/]+)$/, 'delete_session', (m, _, url) => ({ id: m[1], options: { delete_branch: url.searchParams.get('delete_branch') === 'true', force: false } })],
  ['GET', /^\/sessions\/([^/]+)\/snapshot$/, 'snapshot', (m) => ({ id: m[1] })],
  ['GET', /^\/sessions\/([^/]+)\/diff$/, 'diff', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/hunks\/approve$/, 'approve_hunks', (m, body) => ({ id: m[1], req: body })],
  ['POST', /^\/sessions\/([^/]+)\/hunks\/reject$/, 'reject_hunks', (m, body) => ({ id: m[1], req: body })],
  ['POST', /^\/sessions\/([^/]+)\/apply$/, 'apply', (m, body) => ({ id: m[1], req: body })],
  ['POST', /^\/sessions\/([^/]+)\/reject$/, 'reject_all', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/undo$/, 'undo', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/merge$/, 'merge', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/comments$/, 'comment', (m, body) => ({ id: m[1], req: body })],
  ['GET', /^\/sessions\/([^/]+)\/revise$/, 'revision_preview', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/revise$/, 'submit_revision', (m, body) => ({ id: m[1], req: body })],
  ['GET', /^\/sessions\/([^/]+)\/history$/, 'history', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/prompts$/, 'submit_prompt', (m, body) => ({ id: m[1], req: body })],
  ['GET', /^\/sessions\/([^/]+)\/prompts$/, 'list_prompts', (m) => ({ id: m[1] })],
  ['POST', /^\/sessions\/([^/]+)\/prompts\/([^/]+)\/cancel$/, 'cancel_prompt', (m) => ({ id: m[1], promptId: m[2] })],
  ['POST', /^\/sessions\/([^/]+)\/cancel$/, 'cancel_running', (m) => ({ id: m[1] })],
  ['GET', /^\/usage$/, 'usage', () => ({})],
  ['GET', /^\/budget$/, 'budget', () => ({})],
  ['PUT', /^\/budget$/, 'set_budget', (_, body) => ({ budget: body })],
  ['GET', /^\/events$/, 'list_events', (_, __, url) => ({ query: { since: Number(url.searchParams.get('since')) } })],
  ['POST', /^\/pairing-codes$/, 'create_pairing_code', () => ({})],
  ['GET', /^\/devices$/, 'list_devices', () => ({})],
  ['DELETE', /^\/devices\/([^/]+)$/, 'revoke_device', (m) => ({ id: m[1] })],
];

const STATUS: Record<string, number> = { not_found: 404, bad_request: 400, conflict: 409 };

function overHttp(host: Host): HostApi {
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    for (const [method, path, op, args] of ROUTES) {
      const m = url.pathname.match(path);
      if (init.method !== method || !m) continue;
      try {
        // Path parameters arrive decoded, as the real router hands them over.
        const data = host.answer(op, args([...m].map((g) => decodeURIComponent(g)), body, url));
        // A submission answers the prompt itself over HTTP: 202 new, 200 seen before.
        if (op === 'submit_prompt' || op === 'submit_revision') {
          const s = data as { prompt: unknown; created: boolean };
          return new Response(JSON.stringify(s.prompt), { status: s.created ? 202 : 200 });
        }
        return new Response(JSON.stringify(data), { status: init.method === 'POST' && (op === 'create_session' || op === 'comment' || op === 'create_pairing_code') ? 201 : 200 });
      } catch (e) {
        const err = e as { code: string; message: string };
        return new Response(JSON.stringify(err), { status: STATUS[err.code] ?? 500 });
      }
    }
    return new Response(JSON.stringify({ code: 'not_found', message: `no route ${init.method} ${url.pathname}` }), { status: 404 });
  };
  return new ArcbenchApi({ origin: 'http://127.0.0.1:48123', key: 'k' }, { fetch });
}

function overIpc(host: Host): HostApi {
  mockIPC((cmd, payload) => host.answer(cmd, { ...((payload ?? {}) as Record<string, unknown>) }));
  return new IpcApi(new ArcbenchApi({ origin: 'http://127.0.0.1:48123', key: 'k' }));
}

/** Each method of `HostApi` (but the HTTP-only audio), its call, and what the host must be asked. */
const CASES: { method: keyof HostApi; call: (api: HostApi) => Promise<unknown>; op: string; args: Record<string, unknown>; pick?: string }[] = [
  { method: 'status', call: (a) => a.status(), op: 'status', args: {} },
  { method: 'sessions', call: (a) => a.sessions(), op: 'list_sessions', args: {} },
  { method: 'createSession', call: (a) => a.createSession({ title: 'T' }), op: 'create_session', args: { req: { title: 'T' } } },
  { method: 'session', call: (a) => a.session('s 1'), op: 'session_detail', args: { id: 's 1' } },
  { method: 'snapshot', call: (a) => a.snapshot('s1'), op: 'snapshot', args: { id: 's1' } },
  { method: 'deleteSession', call: (a) => a.deleteSession('s1', true), op: 'delete_session', args: { id: 's1', options: { delete_branch: true, force: false } } },
  { method: 'diff', call: (a) => a.diff('s1'), op: 'diff', args: { id: 's1' } },
  { method: 'approveHunks', call: (a) => a.approveHunks('s1', ['h1', 'h2']), op: 'approve_hunks', args: { id: 's1', req: { ids: ['h1', 'h2'] } } },
  { method: 'rejectHunks', call: (a) => a.rejectHunks('s1', ['h1'], ' no '), op: 'reject_hunks', args: { id: 's1', req: { ids: ['h1'], comment: 'no' } } },
  { method: 'apply', call: (a) => a.apply('s1', ' msg '), op: 'apply', args: { id: 's1', req: { message: 'msg' } } },
  { method: 'rejectAll', call: (a) => a.rejectAll('s1'), op: 'reject_all', args: { id: 's1' } },
  { method: 'undo', call: (a) => a.undo('s1'), op: 'undo', args: { id: 's1' } },
  { method: 'merge', call: (a) => a.merge('s1'), op: 'merge', args: { id: 's1' } },
  { method: 'comment', call: (a) => a.comment('s1', 'h1', ' why '), op: 'comment', args: { id: 's1', req: { hunk_id: 'h1', comment: 'why' } }, pick: 'note' },
  { method: 'revisionPreview', call: (a) => a.revisionPreview('s1'), op: 'revision_preview', args: { id: 's1' } },
  { method: 'revise', call: (a) => a.revise('s1', 'c1', 'do it'), op: 'submit_revision', args: { id: 's1', req: { client_id: 'c1', text: 'do it' } } },
  { method: 'history', call: (a) => a.history('s1'), op: 'history', args: { id: 's1' } },
  { method: 'submitPrompt', call: (a) => a.submitPrompt('s1', { text: 'go', client_id: 'c2' }), op: 'submit_prompt', args: { id: 's1', req: { text: 'go', client_id: 'c2' } } },
  { method: 'prompts', call: (a) => a.prompts('s1'), op: 'list_prompts', args: { id: 's1' }, pick: 'prompts' },
  { method: 'cancelPrompt', call: (a) => a.cancelPrompt('s1', 'p1'), op: 'cancel_prompt', args: { id: 's1', promptId: 'p1' } },
  { method: 'cancelRunning', call: (a) => a.cancelRunning('s1'), op: 'cancel_running', args: { id: 's1' } },
  { method: 'usage', call: (a) => a.usage(), op: 'usage', args: {} },
  { method: 'budget', call: (a) => a.budget(), op: 'budget', args: {} },
  { method: 'setBudget', call: (a) => a.setBudget({ session_limit_usd: 2, daily_limit_usd: null }), op: 'set_budget', args: { budget: { session_limit_usd: 2, daily_limit_usd: null } } },
  { method: 'events', call: (a) => a.events(7), op: 'list_events', args: { query: { since: 7 } }, pick: 'events' },
  { method: 'createPairingCode', call: (a) => a.createPairingCode(), op: 'create_pairing_code', args: {} },
  { method: 'devices', call: (a) => a.devices(), op: 'list_devices', args: {}, pick: 'devices' },
  { method: 'revokeDevice', call: (a) => a.revokeDevice('d1'), op: 'revoke_device', args: { id: 'd1' } },
];
/** HTTP only, on purpose (audio bodies): no command, the IPC client hands them to HTTP. */
const HTTP_ONLY: (keyof HostApi)[] = ['transcribe', 'speech'];

afterEach(() => clearMocks());

describe.each([
  ['HTTP', overHttp],
  ['IPC', overIpc],
])('the host API over %s', (_name, make) => {
  it.each(CASES)('$method asks the host for $op', async ({ call, op, args, pick }) => {
    const host = fakeHost();
    const answer = await call(make(host));
    expect(host.calls).toEqual([{ op, args }]);
    if (op === 'submit_prompt' || op === 'submit_revision') {
      expect(answer).toEqual({ prompt: { id: 'p1', state: 'queued' }, created: true });
    } else if (op === 'list_sessions') {
      expect(answer).toEqual({ sessions: ['s'], last_seq: 3 });
    } else if (pick) {
      // The method answers one field of the operation's answer (the list, the note).
      expect(answer).toEqual(answerOf(op)[pick as keyof ReturnType<typeof answerOf>]);
    } else {
      expect(answer).toEqual(answerOf(op));
    }
  });

  it('turns a refusal into the same ApiFailure code', async () => {
    const host = fakeHost();
    const api = make(host);
    host.refuseWith({ code: 'not_found', message: 'no session s9' });
    const err = await api.diff('s9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect((err as ApiFailure).code).toBe('not_found');
    expect((err as ApiFailure).message).toBe('no session s9');
  });
});

describe('both clients cover the same operations', () => {
  it('every HostApi method is in the contract, and every API command is some method', () => {
    const methods = Object.getOwnPropertyNames(ArcbenchApi.prototype).filter((m) => m !== 'constructor');
    const covered = new Set<string>([...CASES.map((c) => c.method), ...HTTP_ONLY]);
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
    expect(Object.getOwnPropertyNames(IpcApi.prototype).filter((m) => m !== 'constructor').sort()).toEqual(methods.sort());

    // The generated commands: the desktop app's own, and one per host operation.
    // (followEvents/unfollowEvents: the event feed, the WebSocket's twin, see IpcSocket.)
    const own = new Set(['getState', 'chooseRepository', 'removeRepository', 'saveApiKey', 'setDemo', 'setHostOptions', 'startHost', 'pauseHost', 'setAutostart', 'openWorktree', 'followEvents', 'unfollowEvents']);
    const camel = (op: string) => op.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const reached = new Set(CASES.map((c) => camel(c.op)));
    const apiCommands = Object.keys(commands).filter((c) => !own.has(c));
    expect(apiCommands.filter((c) => !reached.has(c))).toEqual([]);
    expect([...reached].filter((c) => !apiCommands.includes(c))).toEqual([]);
  });
});
