import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Event } from '../src/lib/bindings';
import { EventSocket, type ConnectionInfo, type NetworkWatch, type SocketLike } from '../src/lib/client/socket';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed: { code?: number } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code?: number) {
    this.closed = { code };
    this.readyState = 3;
  }
  // host side
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(seq: number, extra: Partial<Event> = {}) {
    const e = { seq, ts: 'now', session_id: 's', type: 'agent.text', prompt_id: 'p', chunk: `#${seq}`, ...extra };
    this.onmessage?.({ data: JSON.stringify(e) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

class FakeNetwork implements NetworkWatch {
  online = true;
  listeners: ((online: boolean) => void)[] = [];
  isOnline = () => this.online;
  subscribe(f: (online: boolean) => void) {
    this.listeners.push(f);
    return () => (this.listeners = this.listeners.filter((l) => l !== f));
  }
  set(online: boolean) {
    this.online = online;
    this.listeners.forEach((l) => l(online));
  }
}

function setup(since = 0) {
  const sockets: FakeSocket[] = [];
  const got: number[] = [];
  const states: ConnectionInfo[] = [];
  const network = new FakeNetwork();
  const es = new EventSocket({
    origin: 'https://host:8000',
    key: 'the-key',
    since,
    onEvent: (e) => got.push(e.seq),
    onState: (i) => states.push(i),
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    network,
    random: () => 0.5,
    backoff: { baseMs: 100, capMs: 1000 },
  });
  const last = () => sockets[sockets.length - 1]!;
  return { es, sockets, got, states, network, last, state: () => states[states.length - 1]?.state };
}

describe('EventSocket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('authenticates in the first message, never in the URL', () => {
    const t = setup(7);
    t.es.start();
    expect(t.last().url).toBe('wss://host:8000/ws?since=7');
    expect(t.last().url).not.toContain('the-key');
    t.last().open();
    expect(JSON.parse(t.last().sent[0]!)).toEqual({ type: 'auth', token: 'the-key' });
    expect(t.state()).toBe('online');
  });

  it('delivers each event once, in order, and resumes after the last seq', () => {
    const t = setup();
    t.es.start();
    t.last().open();
    [1, 2, 3].forEach((s) => t.last().deliver(s));
    t.last().drop();
    expect(t.state()).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    expect(t.last().url).toBe('wss://host:8000/ws?since=3');
    t.last().open();
    // The host replays from since; anything at or below it again is a duplicate.
    [2, 3, 4, 5].forEach((s) => t.last().deliver(s));
    expect(t.got).toEqual([1, 2, 3, 4, 5]);
    expect(t.es.info.lastSeq).toBe(5);
  });

  it('backs off exponentially with jitter while the host is down, and resets once stable', () => {
    const t = setup();
    t.es.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      t.last().drop();
      const info = t.states[t.states.length - 1]!;
      delays.push(info.retryAt! - Date.now());
      vi.advanceTimersByTime(info.retryAt! - Date.now());
    }
    // random() = 0.5 → three quarters of each step: 75, 150, 300, 600, then the 1000 cap → 750.
    expect(delays).toEqual([75, 150, 300, 600, 750]);
    t.last().open();
    vi.advanceTimersByTime(10_000);
    expect(t.es.info.attempt).toBe(0);
  });

  it('stops on a rejected key (4401) and resumes at once when asked to (4000)', () => {
    const t = setup();
    t.es.start();
    t.last().open();
    t.last().deliver(1);
    t.last().drop(4000);
    vi.advanceTimersByTime(60);
    expect(t.sockets).toHaveLength(2);
    expect(t.last().url).toContain('since=1');
    t.last().drop(4401);
    expect(t.state()).toBe('unauthorized');
    vi.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(2);
  });

  it('waits while the device is offline and reconnects as soon as it is back', () => {
    const t = setup();
    t.es.start();
    t.last().open();
    t.network.set(false);
    expect(t.state()).toBe('offline');
    expect(t.sockets[0]!.closed).not.toBeNull();
    vi.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
    t.network.set(true);
    expect(t.sockets).toHaveLength(2);
    t.last().open();
    expect(t.state()).toBe('online');
  });

  it('starts offline without trying when the device has no network', () => {
    const t = setup();
    t.network.online = false;
    t.es.start();
    expect(t.state()).toBe('offline');
    expect(t.sockets).toHaveLength(0);
  });

  it('refills a gap in the seqs by resuming from the last one it has', () => {
    const t = setup();
    t.es.start();
    t.last().open();
    t.last().deliver(1);
    t.last().deliver(3);
    expect(t.got).toEqual([1]);
    expect(t.last().url).toContain('since=1');
    t.last().open();
    t.last().deliver(2);
    t.last().deliver(3);
    expect(t.got).toEqual([1, 2, 3]);
  });

  it('ignores frames that are not events', () => {
    const t = setup();
    t.es.start();
    t.last().open();
    t.last().onmessage?.({ data: 'not json' });
    t.last().onmessage?.({ data: JSON.stringify({ hello: 1 }) });
    t.last().deliver(1);
    expect(t.got).toEqual([1]);
  });

  it('stop() closes the socket and schedules nothing more', () => {
    const t = setup();
    t.es.start();
    t.last().open();
    t.es.stop();
    expect(t.sockets[0]!.closed).not.toBeNull();
    vi.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
  });
});
