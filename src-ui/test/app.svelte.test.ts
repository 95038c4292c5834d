// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Event, SessionSnapshot } from '../src/lib/bindings';
import type { FetchLike } from '../src/lib/client/rest';
import type { AppStore } from '../src/lib/store/app.svelte';
import { storeWithFakes } from './fakes';
import { prompt, session, snapshot, usage } from './fixtures';

const usageReport = {
  total: usage(),
  today: usage(0.25),
  sessions: [{ id: 's1', ...usage(0.1) }],
  models: [],
  days: [],
  budget: { session_limit_usd: null, daily_limit_usd: 10, warning_ratio: 0.8, today_spent_usd: 0.25 },
};

/** A host behind fetch: answers by route, records every request. */
function fakeHost() {
  const state = {
    lastSeq: 100,
    snapshots: [] as SessionSnapshot[],
    calls: [] as string[],
  };
  const fetch: FetchLike = async (url, init) => {
    const path = url.replace('http://host', '');
    state.calls.push(`${init.method} ${path}`);
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    if (path === '/status') return json(200, { name: 'arcbench', version: '0', demo: false, repos: ['r'], agent: { kind: 'aider', available: true, version: null, state: 'ready' }, sessions_active: 1 });
    if (path === '/sessions') return json(200, { sessions: [session('s1')], last_seq: state.lastSeq });
    if (path === '/usage') return json(200, usageReport);
    if (path === '/sessions/s1/snapshot') return json(200, state.snapshots.shift() ?? snapshot({ last_seq: state.lastSeq }));
    if (path === '/sessions/s1/diff') return json(200, { files: [] });
    if (path === '/sessions/s1/history') return json(200, { rounds: [], pending_notes: [] });
    if (path === '/sessions/s1/prompts' && init.method === 'POST') {
      const body = JSON.parse(String(init.body)) as { text: string; client_id: string };
      return json(202, prompt('p9', { text: body.text, client_id: body.client_id, created_at: '2026-11-24T10:00:00.000Z' }));
    }
    return json(404, { code: 'not_found', message: path });
  };
  return { state, fetch };
}

function setup(options: Parameters<typeof storeWithFakes>[1] = {}) {
  const host = fakeHost();
  const { app, sockets } = storeWithFakes(host.fetch, options);
  app.creds = { origin: 'http://host', key: 'k' };
  const last = () => sockets[sockets.length - 1]!;
  const send = (seq: number, body: Partial<Event>) => last().deliver(seq, { session_id: 's1', ...body });
  return { app, host, sockets, last, send };
}

const reply = (app: AppStore, id: string) => app.details.view('s1')?.prompts.find((p) => p.id === id)?.reply;

describe('AppStore: start from snapshots, then the live feed', () => {
  afterEach(() => vi.useRealTimers());

  it('starts in O(session): status, list, usage and the snapshot, then /ws after the list seq', async () => {
    const t = setup();
    t.host.state.snapshots.push(snapshot({ prompts: [prompt('p1', { state: 'done', reply: 'Earlier answer.' })], last_seq: 100 }));
    void t.app.start('s1');
    void t.app.openSession('s1');
    await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
    expect(t.last().url).toBe('ws://host/ws?since=100');
    expect(t.host.state.calls.some((c) => c.includes('/events'))).toBe(false);
    expect(t.host.state.calls.filter((c) => c.endsWith('/snapshot'))).toHaveLength(1);
    expect(reply(t.app, 'p1')).toBe('Earlier answer.');
    expect(t.app.status?.agent.state).toBe('ready');
    expect(t.app.usage.today?.cost_usd).toBe(0.25);

    t.last().open();
    t.send(101, { type: 'prompt.queued', prompt: prompt('p2', { created_at: '2026-11-24T09:30:00.000Z' }) });
    t.send(102, { type: 'prompt.started', prompt_id: 'p2' });
    t.send(103, { type: 'agent.text', prompt_id: 'p2', chunk: 'Hel' });
    t.send(104, { type: 'agent.text', prompt_id: 'p2', chunk: 'lo' });
    await vi.waitFor(() => expect(reply(t.app, 'p2')).toBe('Hello'));
    expect(t.app.connection.info.lastSeq).toBe(104);
    t.send(105, { type: 'agent.text_discarded', prompt_id: 'p2', reason: 'retry' });
    t.send(106, { type: 'agent.text', prompt_id: 'p2', chunk: 'Again' });
    await vi.waitFor(() => expect(reply(t.app, 'p2')).toBe('Again'));
  });

  it('fetches a snapshot again when it was read before the list, so no event falls between', async () => {
    const t = setup();
    t.host.state.snapshots.push(snapshot({ last_seq: 97 }), snapshot({ prompts: [prompt('p1', { state: 'done', reply: 'all of it' })], last_seq: 100 }));
    void t.app.start('s1');
    await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
    expect(t.last().url).toContain('since=100');
    expect(t.host.state.calls.filter((c) => c.endsWith('/snapshot'))).toHaveLength(2);
    expect(reply(t.app, 'p1')).toBe('all of it');
  });

  it('on 4410 refetches the list and the open snapshot and resumes from the new seq', async () => {
    const t = setup();
    t.host.state.snapshots.push(snapshot({ prompts: [prompt('p1', { state: 'running', reply: 'half' })], last_seq: 100 }));
    void t.app.start('s1');
    void t.app.openSession('s1');
    await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
    t.last().open();
    // The host restarted, finished and compacted what we never saw.
    t.host.state.lastSeq = 500;
    t.host.state.snapshots.push(snapshot({ prompts: [prompt('p1', { state: 'interrupted', reply: 'half, and the rest' })], last_seq: 500 }));
    t.last().drop(4410);
    await vi.waitFor(() => expect(t.sockets).toHaveLength(2));
    expect(t.last().url).toContain('since=500');
    expect(t.app.connection.info.resyncs).toBe(1);
    expect(reply(t.app, 'p1')).toBe('half, and the rest');
    expect(t.app.details.view('s1')?.prompts[0]?.state).toBe('interrupted');
    t.last().open();
    // The diff on screen is fetched again: the events that would have said so are gone.
    await vi.waitFor(() => expect(t.host.state.calls.filter((c) => c.endsWith('/diff')).length).toBeGreaterThanOrEqual(2));
    t.send(500, { type: 'agent.text', prompt_id: 'p1', chunk: 'DUPLICATE' });
    t.send(501, { type: 'session.updated', session: session('s1', { title: 'renamed' }) });
    await vi.waitFor(() => expect(t.app.sessions.get('s1')?.title).toBe('renamed'));
    expect(reply(t.app, 'p1')).toBe('half, and the rest');
  });

  it('sends a prompt through the outbox once online; the conversation shows the host’s prompt', async () => {
    const t = setup();
    void t.app.start('s1');
    void t.app.openSession('s1');
    await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
    t.last().open();
    await t.app.outbox.send('s1', 'Rename the thing');
    await vi.waitFor(() => expect(t.app.details.view('s1')?.prompts.map((p) => p.text)).toEqual(['Rename the thing']));
    await vi.waitFor(() => expect(t.app.outbox.entries).toEqual([]));
    expect(t.host.state.calls.filter((c) => c === 'POST /sessions/s1/prompts')).toHaveLength(1);
  });

  it('turns a fresh budget event into a toast and refreshes the limits', async () => {
    const t = setup();
    void t.app.start();
    await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
    t.last().open();
    const usageCalls = () => t.host.state.calls.filter((c) => c === 'GET /usage').length;
    const before = usageCalls();
    t.last().deliver(101, { type: 'budget.exceeded', scope: 'daily', spent_usd: 10.5, limit_usd: 10, ts: new Date().toISOString(), session_id: null } as Partial<Event>);
    await vi.waitFor(() => expect(t.app.toasts.list.map((x) => x.text)).toContain('Daily budget reached: $10.50 of $10.00. New prompts wait until it is raised.'));
    await vi.waitFor(() => expect(usageCalls()).toBe(before + 1));
  });

  it('hands each delivered batch on once the store took it in (the phone app notifies from it)', async () => {
    const seen: { types: string[]; title: string | undefined }[] = [];
    const t = setup({ onEvents: (batch, app) => seen.push({ types: batch.map((e) => e.type), title: app.sessions.get('s1')?.title }) });
    void t.app.start();
    await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
    t.last().open();
    t.send(101, { type: 'prompt.started', prompt_id: 'p2' });
    await vi.waitFor(() => expect(seen.flatMap((s) => s.types)).toEqual(['prompt.started']));
    // Handed on after ingestion: the store already knows what the batch said.
    expect(seen[0]!.title).toBe(t.app.sessions.get('s1')?.title);
  });
});
