import type { Event } from '../bindings';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';

/** Close codes of the host's WebSocket (crates/arcbench-server/src/ws.rs). */
export const CLOSE_RESUME = 4000;
/** Events before our `since` were compacted: start from the snapshots again. */
export const CLOSE_RESYNC = 4410;
/** Our `since` is ahead of the host's newest event (its log is not the one we knew). */
export const CLOSE_BAD_SINCE = 4400;
export const CLOSE_UNAUTHORIZED = 4401;

/**
 * Why the socket asks for a resync: `start` (no seq known yet), `compacted` (4410: the host no
 * longer has the events after our seq) or `ahead` (4400: our seq is past the host's newest).
 */
export type ResyncReason = 'start' | 'compacted' | 'ahead';

/**
 * - `connecting`: the first attempt since start (nothing failed yet).
 * - `online`: socket open and authenticated; events flow.
 * - `reconnecting`: lost the host; a retry is scheduled (`retryAt`).
 * - `offline`: the device itself has no network; we wait for it to come back.
 * - `unauthorized`: the host rejected the key; retrying cannot help.
 */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline' | 'unauthorized';

export interface ConnectionInfo {
  state: ConnectionState;
  /** Highest event seq received; the next connection resumes after it. */
  lastSeq: number;
  /** Failed attempts in a row. */
  attempt: number;
  /** When the next retry is due (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** Times the host sent us back to the snapshots (4410 / 4400). */
  resyncs: number;
}

/** The minimal WebSocket surface we use, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The device's own network state (navigator.onLine and its events in a browser). */
export interface NetworkWatch {
  isOnline(): boolean;
  subscribe(onChange: (online: boolean) => void): () => void;
}

export interface EventSocketOptions {
  /** Host origin, http(s); the socket uses ws(s) on the same host. */
  origin: string;
  key: string;
  /** Resume after this seq. Unset with `resync`: resync first; unset without: 0 (the whole log). */
  since?: number | null;
  /**
   * Brings the client's state up to date without the event log (the snapshots) and answers the
   * seq to stream from; called before the first connection when `since` is unset, and whenever
   * the host refuses our seq (4410, 4400). A rejection is retried with backoff, like a failed
   * connection; `unauthorized` stops as a rejected key does.
   */
  resync?: (reason: ResyncReason) => Promise<number | 'unauthorized'>;
  onEvent: (event: Event) => void;
  onState?: (info: ConnectionInfo) => void;
  createSocket?: (url: string) => SocketLike;
  network?: NetworkWatch;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** A connection that stayed up this long resets the backoff. */
  stableAfterMs?: number;
}

const OPEN = 1;

export function browserNetwork(): NetworkWatch {
  return {
    isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine),
    subscribe(onChange) {
      const up = () => onChange(true);
      const down = () => onChange(false);
      addEventListener('online', up);
      addEventListener('offline', down);
      return () => {
        removeEventListener('online', up);
        removeEventListener('offline', down);
      };
    },
  };
}

/**
 * The live event feed: `WS /ws?since=<last seq>`, authenticated by its first message (a key
 * never goes into a URL), reconnected with backoff and jitter, resumed where it stopped, and
 * deduplicated by seq so each event reaches `onEvent` exactly once and in order.
 */
export class EventSocket {
  readonly #opts: EventSocketOptions;
  readonly #wsUrl: string;
  #socket: SocketLike | null = null;
  #info: ConnectionInfo;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stableTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #unwatch: () => void = () => {};
  /** A gap was seen and we reconnected to fill it; a second gap at the same place is accepted. */
  #gapResyncAt: number | null = null;
  /** Why the next connection must resync first, or null when `lastSeq` can be resumed from. */
  #resyncFor: ResyncReason | null;
  #resyncing = false;
  /** The last close sent us back to the snapshots; a second one in a row waits with backoff. */
  #resyncedLast = false;

  constructor(opts: EventSocketOptions) {
    this.#opts = opts;
    this.#wsUrl = opts.origin.replace(/\/+$/, '').replace(/^http/, 'ws') + '/ws';
    this.#resyncFor = (opts.since === undefined || opts.since === null) && opts.resync ? 'start' : null;
    this.#info = { state: 'connecting', lastSeq: opts.since ?? 0, attempt: 0, retryAt: null, resyncs: 0 };
  }

  get info(): ConnectionInfo {
    return { ...this.#info };
  }

  start(): void {
    const network = this.#opts.network ?? browserNetwork();
    this.#unwatch = network.subscribe((online) => (online ? this.retryNow() : this.#goOffline()));
    if (network.isOnline()) this.#connect();
    else this.#set({ state: 'offline' });
  }

  stop(): void {
    this.#stopped = true;
    this.#unwatch();
    this.#clearTimers();
    this.#drop();
  }

  /** Reconnect at once (a tap on "reconnecting", the network coming back, the app waking up). */
  retryNow(): void {
    if (this.#stopped || this.#info.state === 'unauthorized' || this.#resyncing) return;
    if (this.#info.state === 'online' && this.#socket?.readyState === OPEN) return;
    this.#clearTimers();
    this.#drop();
    this.#connect();
  }

  /**
   * Drop the connection and open a new one (resuming), even if it looks open: after a phone
   * sleeps, a socket can look open while the network under it is long gone.
   */
  refresh(): void {
    if (this.#stopped || this.#info.state === 'unauthorized' || this.#resyncing) return;
    this.#clearTimers();
    this.#drop();
    this.#connect();
  }

  #connect(): void {
    if (this.#stopped) return;
    const network = this.#opts.network ?? browserNetwork();
    if (!network.isOnline()) {
      this.#goOffline();
      return;
    }
    if (this.#info.state !== 'connecting') this.#set({ state: 'reconnecting', retryAt: null });
    if (this.#resyncFor) {
      this.#resync(this.#resyncFor);
      return;
    }
    const url = `${this.#wsUrl}?since=${this.#info.lastSeq}`;
    let socket: SocketLike;
    try {
      socket = this.#opts.createSocket ? this.#opts.createSocket(url) : (new WebSocket(url) as unknown as SocketLike);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      socket.send(JSON.stringify({ type: 'auth', token: this.#opts.key }));
      // The host says nothing on success; a wrong key closes the socket with 4401 at once.
      this.#set({ state: 'online', retryAt: null });
      this.#stableTimer = setTimeout(() => {
        this.#resyncedLast = false;
        this.#set({ attempt: 0 });
      }, this.#opts.stableAfterMs ?? 10_000);
    };
    socket.onmessage = (ev) => {
      if (this.#socket !== socket) return;
      this.#resyncedLast = false;
      this.#receive(ev.data);
    };
    socket.onerror = () => {
      // Always followed by onclose, which decides what to do.
    };
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#stableTimer) clearTimeout(this.#stableTimer);
      if (ev.code === CLOSE_UNAUTHORIZED) {
        this.#set({ state: 'unauthorized', retryAt: null });
        return;
      }
      if (ev.code === CLOSE_RESUME) {
        // We fell behind; the host asks us to resume from what we have. No penalty.
        this.#set({ state: 'reconnecting' });
        this.#timer = setTimeout(() => this.#connect(), 50);
        return;
      }
      if ((ev.code === CLOSE_RESYNC || ev.code === CLOSE_BAD_SINCE) && this.#opts.resync) {
        // The host cannot resume from our seq: never a silent gap, start from the snapshots.
        this.#resyncFor = ev.code === CLOSE_RESYNC ? 'compacted' : 'ahead';
        this.#set({ state: 'reconnecting', resyncs: this.#info.resyncs + 1 });
        if (this.#resyncedLast) this.#scheduleRetry();
        else this.#timer = setTimeout(() => this.#connect(), 0);
        this.#resyncedLast = true;
        return;
      }
      this.#scheduleRetry();
    };
  }

  /** One resync at a time; when it is done, the connection opens from the seq it answered. */
  #resync(reason: ResyncReason): void {
    if (this.#resyncing || !this.#opts.resync) return;
    this.#resyncing = true;
    this.#opts.resync(reason).then(
      (since) => {
        this.#resyncing = false;
        if (this.#stopped) return;
        if (since === 'unauthorized') {
          this.#set({ state: 'unauthorized', retryAt: null });
          return;
        }
        this.#resyncFor = null;
        this.#gapResyncAt = null;
        this.#info.lastSeq = since;
        this.#clearTimers();
        this.#connect();
      },
      () => {
        this.#resyncing = false;
        if (!this.#stopped) this.#scheduleRetry();
      },
    );
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let event: Event;
    try {
      event = JSON.parse(data) as Event;
    } catch {
      return;
    }
    if (typeof event.seq !== 'number') return;
    const last = this.#info.lastSeq;
    if (event.seq <= last) return; // replayed twice across a reconnect: already applied
    if (event.seq > last + 1 && this.#gapResyncAt !== last) {
      // The log is gapless; a hole means we missed something. Resume from what we have once.
      this.#gapResyncAt = last;
      this.refresh();
      return;
    }
    this.#gapResyncAt = null;
    this.#info.lastSeq = event.seq;
    this.#opts.onEvent(event);
    this.#emit();
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    const network = this.#opts.network ?? browserNetwork();
    if (!network.isOnline()) {
      this.#goOffline();
      return;
    }
    const delay = backoffDelay(this.#info.attempt, this.#opts.backoff ?? DEFAULT_BACKOFF, this.#opts.random);
    this.#set({ state: 'reconnecting', attempt: this.#info.attempt + 1, retryAt: Date.now() + delay });
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #goOffline(): void {
    if (this.#stopped || this.#info.state === 'unauthorized') return;
    this.#clearTimers();
    this.#drop();
    this.#set({ state: 'offline', retryAt: null });
  }

  #drop(): void {
    const s = this.#socket;
    this.#socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(1000, 'client closing');
      } catch {
        // already closed
      }
    }
  }

  #clearTimers(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#timer = this.#stableTimer = null;
  }

  #set(patch: Partial<ConnectionInfo>): void {
    Object.assign(this.#info, patch);
    this.#emit();
  }

  #emit(): void {
    this.#opts.onState?.(this.info);
  }
}
