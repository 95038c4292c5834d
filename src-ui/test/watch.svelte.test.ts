// @vitest-environment happy-dom
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Event, Session } from '../src/lib/bindings';
import type { FetchLike } from '../src/lib/client/rest';
import { NativeRemote, type PairedHost } from '../src/lib/remote/native';
import { followHosts, HostWatchers } from '../src/lib/remote/watch.svelte';
import { fakeSockets } from './fakes';
import { session } from './fixtures';
import { FakeRemoteApp } from './remoteFakes';

const A = 'http://a.test:8000';
const B = 'http://b.test:8000';
const C = 'http://c.test:8000';

/** Hosts behind fetch, by origin: their keys, sessions and newest seq; one can be down. */
function fakeHosts() {
  const hosts = new Map<string, { key: string; sessions: Session[]; lastSeq: number; down: boolean }>();
  const asked: string[] = [];
  const add = (origin: string, key: string, lastSeq = 0, sessions: Session[] = []) => hosts.set(origin, { key, sessions, lastSeq, down: false });
  const fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    asked.push(`${u.origin}${u.pathname}`);
    const host = hosts.get(u.origin);
    if (!host || host.down) throw new TypeError('Failed to fetch');
    const json = (s: number, body: unknown) => new Response(JSON.stringify(body), { status: s });
    const auth = ((init.headers ?? {}) as Record<string, string>).Authorization?.replace('Bearer ', '') ?? '';
    if (auth !== host.key) return json(401, { code: 'unauthorized', message: 'unknown or revoked key' });
    if (u.pathname === '/sessions') return json(200, { sessions: host.sessions, last_seq: host.lastSeq });
    return json(404, { code: 'not_found', message: u.pathname });
  };
  return { hosts, asked, add, fetch };
}

function setup(seed: (native: FakeRemoteApp, net: ReturnType<typeof fakeHosts>) => void) {
  const native = new FakeRemoteApp();
  const net = fakeHosts();
  seed(native, net);
  const { sockets, options: socket } = fakeSockets();
  const refused: string[] = [];
  const watchers = new HostWatchers({
    native: new NativeRemote(native),
    fetch: net.fetch,
    socket,
    backoff: { baseMs: 10, capMs: 50 },
    batchMs: 0,
    onRefused: (id) => refused.push(id),
  });
  /** The newest socket to `origin`. */
  const socketOf = (origin: string) => sockets.filter((s) => s.url.startsWith(origin.replace(/^http/, 'ws'))).at(-1);
  /** The open sockets, by origin. */
  const open = () => sockets.filter((s) => s.closed === null && s.readyState !== 3).map((s) => new URL(s.url.replace(/^ws/, 'http')).origin).sort();
  return { native, net, watchers, sockets, socketOf, open, refused, list: () => native.state.hosts };
}

let stopAll: (() => void)[] = [];
afterEach(() => {
  stopAll.forEach((f) => f());
  stopAll = [];
});

function threeHosts() {
  const t = setup((n, net) => {
    n.seed(A, 'ka');
    n.seed(B, 'kb');
    n.seed(C, 'kc');
    net.add(A, 'ka', 5);
    net.add(B, 'kb', 41, [session('s1', { title: 'Fix the login' })]);
    net.add(C, 'kc', 7);
  });
  stopAll.push(() => t.watchers.stop());
  return t;
}

const prompt = (seq: number, sessionId = 's1'): Partial<Event> =>
  ({
    session_id: sessionId,
    type: 'prompt.finished',
    prompt_id: 'p1',
    state: 'done',
    usage: { input_tokens: 1, output_tokens: 1, cost_usd: 0 },
    seq,
  }) as unknown as Partial<Event>;

describe('HostWatchers', () => {
  it('watches every paired host but the one on screen, each from its newest event', async () => {
    const t = threeHosts();
    t.watchers.update(t.list(), 'h1');
    expect(t.watchers.watched).toEqual(['h2', 'h3']);
    await vi.waitFor(() => expect(t.open()).toEqual([B, C]));
    // Streams start after the seq `GET /sessions` answered: nothing of the history is told.
    expect(t.socketOf(B)!.url).toBe('ws://b.test:8000/ws?since=41');
    expect(t.socketOf(C)!.url).toBe('ws://c.test:8000/ws?since=7');
  });

  it('follows the host on screen and the list: shown or forgotten is watched no more', async () => {
    const t = threeHosts();
    t.watchers.update(t.list(), 'h1');
    await vi.waitFor(() => expect(t.open()).toEqual([B, C]));
    // B comes on screen: its own store covers it; A, no longer shown, is watched from its newest event.
    t.net.hosts.get(A)!.lastSeq = 9;
    t.watchers.update(t.list(), 'h2');
    expect(t.watchers.watched.sort()).toEqual(['h1', 'h3']);
    await vi.waitFor(() => expect(t.open()).toEqual([A, C]));
    expect(t.socketOf(A)!.url).toBe('ws://a.test:8000/ws?since=9');
    // C is forgotten.
    t.watchers.update(
      t.list().filter((h) => h.id !== 'h3'),
      'h2',
    );
    expect(t.watchers.watched).toEqual(['h1']);
    expect(t.open()).toEqual([A]);
    // No host on screen (pairing another): all are watched.
    t.watchers.update(t.list(), null);
    await vi.waitFor(() => expect(t.open()).toEqual([A, B, C]));
    // The same list again changes nothing.
    const made = t.sockets.length;
    t.watchers.update(structuredClone(t.list()), null);
    expect(t.sockets.length).toBe(made);
    t.watchers.stop();
    expect(t.open()).toEqual([]);
    t.watchers.update(t.list(), null);
    expect(t.watchers.watched).toEqual([]);
  });

  it('hands live events to the app’s notices with the host’s id and titles, looking at nothing', async () => {
    const t = threeHosts();
    t.watchers.update(t.list(), 'h1');
    await vi.waitFor(() => expect(t.socketOf(B)).toBeDefined());
    const b = t.socketOf(B)!;
    b.open();
    expect(JSON.parse(b.sent[0]!)).toEqual({ type: 'auth', token: 'kb' });
    b.deliver(42, prompt(42));
    await vi.waitFor(() => expect(t.native.noted).toHaveLength(1));
    expect(t.native.noted[0]).toMatchObject({ hostId: 'h2', titles: [{ id: 's1', title: 'Fix the login' }], looking: null });
    expect(t.native.noted[0]!.events.map((e) => e.seq)).toEqual([42]);
    // A session made later is named in the next batches too.
    b.deliver(43, { session_id: 's2', type: 'session.created', session: session('s2', { title: 'Add a test' }) } as Partial<Event>);
    await vi.waitFor(() => expect(t.native.noted).toHaveLength(2));
    b.deliver(44, prompt(44, 's2'));
    await vi.waitFor(() => expect(t.native.noted).toHaveLength(3));
    expect(t.native.noted[2]!.titles).toEqual([
      { id: 's1', title: 'Fix the login' },
      { id: 's2', title: 'Add a test' },
    ]);
    // C's events are C's.
    const c = t.socketOf(C)!;
    c.open();
    c.deliver(8);
    await vi.waitFor(() => expect(t.native.noted).toHaveLength(4));
    expect(t.native.noted[3]).toMatchObject({ hostId: 'h3', titles: [], looking: null });
  });

  it('stops watching a host that refuses the key, until it is paired again', async () => {
    const t = threeHosts();
    t.net.hosts.get(C)!.key = 'another';
    t.watchers.update(t.list(), 'h1');
    // C answers `GET /sessions` with 401: no socket, not retried.
    await vi.waitFor(() => expect(t.refused).toEqual(['h3']));
    expect(t.watchers.watched).toEqual(['h2']);
    // B revokes the key while watched: the socket closes with 4401.
    await vi.waitFor(() => expect(t.socketOf(B)).toBeDefined());
    t.socketOf(B)!.open();
    t.socketOf(B)!.drop(4401);
    expect(t.watchers.watched).toEqual([]);
    expect(t.refused).toEqual(['h3', 'h2']);
    // The list changing otherwise does not bring them back.
    t.watchers.update(structuredClone(t.list()), 'h1');
    expect(t.watchers.watched).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(t.sockets.filter((s) => s.url.startsWith('ws://c.test'))).toEqual([]);
    expect(t.sockets.filter((s) => s.url.startsWith('ws://b.test'))).toHaveLength(1);
    // C paired again (a new pairing of the same address, the same id): watched again.
    t.net.hosts.get(C)!.key = 'kc2';
    await new NativeRemote(t.native).addHost({ origin: C, key: 'kc2', device_id: 'dev-2', name: null });
    t.watchers.update(t.list(), 'h1');
    expect(t.watchers.watched).toEqual(['h3']);
    await vi.waitFor(() => expect(t.open()).toEqual([C]));
  });

  it('reconnects with backoff and resumes after the last seq seen', async () => {
    const t = threeHosts();
    t.watchers.update(t.list(), 'h1');
    await vi.waitFor(() => expect(t.socketOf(B)).toBeDefined());
    const first = t.socketOf(B)!;
    first.open();
    first.deliver(42);
    first.deliver(43);
    await vi.waitFor(() => expect(t.native.noted.flatMap((n) => n.events.map((e) => e.seq))).toEqual([42, 43]));
    // The host goes away, then answers again: the feed resumes after 43 (replayed events are news).
    t.net.hosts.get(B)!.lastSeq = 50;
    first.drop(1006);
    await vi.waitFor(() => expect(t.socketOf(B)).not.toBe(first));
    expect(t.socketOf(B)!.url).toBe('ws://b.test:8000/ws?since=43');
    t.socketOf(B)!.open();
    t.socketOf(B)!.deliver(44);
    await vi.waitFor(() => expect(t.native.noted.flatMap((n) => n.events.map((e) => e.seq))).toEqual([42, 43, 44]));
    expect(t.watchers.lastSeqOf('h2')).toBe(44);
  });

  it('retries a host that does not answer, then starts from its newest event', async () => {
    const t = setup((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      net.add(A, 'ka');
      net.add(B, 'kb', 3);
    });
    stopAll.push(() => t.watchers.stop());
    t.net.hosts.get(B)!.down = true;
    t.watchers.update(t.list(), 'h1');
    await vi.waitFor(() => expect(t.net.asked.filter((a) => a === `${B}/sessions`).length).toBeGreaterThanOrEqual(2));
    expect(t.sockets).toEqual([]);
    expect(t.watchers.watched).toEqual(['h2']);
    t.net.hosts.get(B)!.lastSeq = 12;
    t.net.hosts.get(B)!.down = false;
    await vi.waitFor(() => expect(t.socketOf(B)?.url).toBe('ws://b.test:8000/ws?since=12'));
  });

  it('starts again from the newest event when the host compacted past the last seq', async () => {
    const t = threeHosts();
    t.watchers.update(t.list(), 'h1');
    await vi.waitFor(() => expect(t.socketOf(B)).toBeDefined());
    const first = t.socketOf(B)!;
    first.open();
    t.net.hosts.get(B)!.lastSeq = 900;
    first.drop(4410);
    await vi.waitFor(() => expect(t.socketOf(B)?.url).toBe('ws://b.test:8000/ws?since=900'));
    expect(t.native.noted).toEqual([]);
  });
});

describe('followHosts', () => {
  it('keeps the watchers on the list and the host on screen, and stops them all at the end', async () => {
    const t = threeHosts();
    let shown = $state.raw<{ list: PairedHost[]; shownId: string | null }>({ list: [], shownId: null });
    const end = followHosts(() => shown, t.watchers);
    stopAll.push(end);
    flushSync();
    expect(t.watchers.watched).toEqual([]);
    shown = { list: t.list(), shownId: 'h1' };
    flushSync();
    expect(t.watchers.watched).toEqual(['h2', 'h3']);
    shown = { list: t.list(), shownId: 'h3' };
    flushSync();
    expect(t.watchers.watched.sort()).toEqual(['h1', 'h2']);
    await vi.waitFor(() => expect(t.open()).toEqual([A, B]));
    end();
    expect(t.watchers.watched).toEqual([]);
    expect(t.open()).toEqual([]);
  });
});
