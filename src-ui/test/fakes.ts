import type { Event } from '../src/lib/bindings';
import type { FetchLike } from '../src/lib/client/rest';
import type { NetworkWatch, SocketLike } from '../src/lib/client/socket';
import { AppStore, type AppOptions } from '../src/lib/store/app.svelte';

/** A WebSocket the test plays the host of. */
export class FakeSocket implements SocketLike {
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

/** The device's network, switched by the test. */
export class FakeNetwork implements NetworkWatch {
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

/**
 * Sockets for a client under test: each one it opens is a [`FakeSocket`] kept in `sockets`
 * (newest last), on a fake network, with deterministic jitter.
 */
export function fakeSockets() {
  const sockets: FakeSocket[] = [];
  const options = {
    createSocket: (url: string) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    network: new FakeNetwork(),
    random: () => 0.5,
  };
  return { sockets, options };
}

/**
 * An AppStore talking to a fake host: `fetch` answers REST, every socket it opens is a
 * [`FakeSocket`] the test plays the host of (`sockets`, newest `last()`), with no IndexedDB and
 * fast, deterministic reconnects. `options`: more of the store's options (its credentials, outbox).
 */
export function storeWithFakes(fetch: FetchLike, options: Pick<AppOptions, 'credentials' | 'outboxStorage' | 'feedback' | 'onEvents'> = {}) {
  const { sockets, options: socket } = fakeSockets();
  const app = new AppStore({
    ...options,
    fetch,
    openDb: () => Promise.reject(new Error('no IndexedDB in this test')),
    socket: { ...socket, backoff: { baseMs: 10, capMs: 50 } },
  });
  return { app, sockets, last: () => sockets[sockets.length - 1]! };
}
