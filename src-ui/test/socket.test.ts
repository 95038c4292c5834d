import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventSocket, type ConnectionInfo } from '../src/lib/client/socket';
import { FakeNetwork, FakeSocket } from './fakes';

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

describe('EventSocket resync (snapshots instead of the log)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function withResync(answers: (() => Promise<number | 'unauthorized'>)[]) {
    const sockets: FakeSocket[] = [];
    const got: number[] = [];
    const reasons: string[] = [];
    const states: ConnectionInfo[] = [];
    const network = new FakeNetwork();
    const es = new EventSocket({
      origin: 'http://host:8000',
      key: 'k',
      resync: (reason) => {
        reasons.push(reason);
        const next = answers.shift();
        return next ? next() : Promise.resolve(0);
      },
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
    return { es, sockets, got, reasons, states, last, info: () => es.info };
  }

  it('resyncs before the first connection and streams from the seq it answers', async () => {
    const t = withResync([async () => 41]);
    t.es.start();
    expect(t.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.reasons).toEqual(['start']);
    expect(t.last().url).toBe('ws://host:8000/ws?since=41');
    t.last().open();
    t.last().deliver(41); // at the snapshot's seq: already in it
    t.last().deliver(42);
    expect(t.got).toEqual([42]);
  });

  it('on 4410 fetches the snapshots again and resumes from their seq, never silently', async () => {
    const t = withResync([async () => 5, async () => 900]);
    t.es.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().open();
    t.last().deliver(6);
    t.last().drop(4410);
    expect(t.info().state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.reasons).toEqual(['start', 'compacted']);
    expect(t.last().url).toContain('since=900');
    expect(t.info().resyncs).toBe(1);
    t.last().open();
    t.last().deliver(901);
    expect(t.got).toEqual([6, 901]);
    expect(t.info().lastSeq).toBe(901);
  });

  it('on 4400 (a seq from the future) resyncs too, and may go back to a lower seq', async () => {
    const t = withResync([async () => 50, async () => 3]);
    t.es.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().open();
    t.last().drop(4400);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.reasons).toEqual(['start', 'ahead']);
    expect(t.last().url).toContain('since=3');
    t.last().open();
    t.last().deliver(4);
    expect(t.got).toEqual([4]);
  });

  it('backs off when the host refuses again right after a resync', async () => {
    const t = withResync([async () => 1, async () => 1, async () => 1]);
    t.es.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().open();
    t.last().drop(4410);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sockets).toHaveLength(2);
    t.last().open();
    t.last().drop(4410);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sockets).toHaveLength(2); // waiting, not looping
    expect(t.info().retryAt).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sockets).toHaveLength(3);
    expect(t.reasons).toEqual(['start', 'compacted', 'compacted']);
  });

  it('retries a failed resync with backoff, and stops when the key is refused', async () => {
    const t = withResync([() => Promise.reject(new Error('host down')), async () => 'unauthorized']);
    t.es.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.info().state).toBe('reconnecting');
    expect(t.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.reasons).toEqual(['start', 'start']);
    expect(t.info().state).toBe('unauthorized');
    expect(t.sockets).toHaveLength(0);
  });

  it('an ordinary drop resumes from the last seq, without a resync', async () => {
    const t = withResync([async () => 10]);
    t.es.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().open();
    t.last().deliver(11);
    t.last().drop(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.last().url).toContain('since=11');
    expect(t.reasons).toEqual(['start']);
  });
});
