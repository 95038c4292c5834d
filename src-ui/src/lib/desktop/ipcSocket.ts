import { Channel } from '@tauri-apps/api/core';
import type { SocketLike } from '../client/socket';
import { commands, type FeedMessage } from './bindings';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * The event feed of a host inside the desktop app, over the app's IPC (`follow_events`), handed
 * to `EventSocket` as if it were the WebSocket: the same events in the same order, ended by the
 * same close codes (4000 resume, 4410 resync, 4400 bad since, 1001 host stopped). So resume,
 * resync and backoff stay written once, in client/socket.ts.
 */
export class IpcSocket implements SocketLike {
  readyState = CONNECTING;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly #since: number;
  #feed: Promise<number | null> | null = null;

  /** `url`: the WebSocket URL EventSocket would open; only its `since` matters here. */
  constructor(url: string) {
    this.#since = Number(new URL(url).searchParams.get('since') ?? 0);
    // Like a WebSocket: open a moment later, once the caller has set its handlers.
    queueMicrotask(() => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.onopen?.({});
    });
  }

  /** The only message a client sends is its key (`_auth`), which the app's IPC does not need: it starts the feed. */
  send(_auth: string): void {
    if (this.#feed || this.readyState !== OPEN) return;
    const channel = new Channel<FeedMessage>();
    channel.onmessage = (m) => {
      if (this.readyState === CLOSED) return;
      if (m.type === 'event') this.onmessage?.({ data: JSON.stringify(m.event) });
      else this.#closed(m.code, m.reason);
    };
    this.#feed = commands.followEvents({ since: this.#since }, channel).then(
      (r) => {
        if (r.status === 'error') {
          this.#closed(1011, r.error.message);
          return null;
        }
        // Closed while the app was starting it: end it there too.
        if (this.readyState === CLOSED) void commands.unfollowEvents(r.data);
        return r.data;
      },
      (e: unknown) => {
        this.#closed(1011, e instanceof Error ? e.message : String(e));
        return null;
      },
    );
  }

  close(code = 1000, reason = ''): void {
    const feed = this.#feed;
    this.#closed(code, reason);
    void feed?.then((id) => (id === null ? undefined : commands.unfollowEvents(id)));
  }

  #closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }
}
