import type { Event } from '../bindings';
import { EventSocket, type ConnectionInfo, type EventSocketOptions, type ResyncReason } from '../client/socket';

/** A page hidden this long may hold a dead socket (phone slept): reconnect when it is back. */
const STALE_AFTER_HIDDEN_MS = 30_000;
/** Events are folded in batches, one per frame, so a burst costs one render instead of one each. */
const BATCH_MS = 16;

export interface ConnectionOptions {
  origin: string;
  key: string;
  /** Brings the stores up to date from the snapshots; answers the seq to stream from. */
  resync: (reason: ResyncReason) => Promise<number | 'unauthorized'>;
  /** A batch of new events, in seq order, each exactly once. */
  onEvents: (batch: Event[]) => void;
  /** The connection state changed (`was` is the state before). */
  onChange?: (info: ConnectionInfo, was: ConnectionInfo['state']) => void;
  /** For tests: a fake WebSocket and network. */
  socket?: Pick<EventSocketOptions, 'createSocket' | 'network' | 'backoff' | 'random'>;
  /** How long events gather into one batch (default one frame). */
  batchMs?: number;
}

/**
 * The live link to the host: the event socket's lifecycle (start, resync, reconnect with backoff,
 * wake-up after the page slept) and the connection state the badge shows.
 */
export class Connection {
  info = $state<ConnectionInfo>({ state: 'connecting', lastSeq: 0, attempt: 0, retryAt: null, resyncs: 0 });

  #socket: EventSocket | null = null;
  #pending: Event[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #hiddenAt: number | null = null;
  #unwatch: (() => void) | null = null;

  get state(): ConnectionInfo['state'] {
    return this.info.state;
  }

  get online(): boolean {
    return this.info.state === 'online';
  }

  start(o: ConnectionOptions): void {
    this.stop();
    this.info = { state: 'connecting', lastSeq: 0, attempt: 0, retryAt: null, resyncs: 0 };
    const socket = new EventSocket({
      ...o.socket,
      origin: o.origin,
      key: o.key,
      resync: (reason) => {
        // Events of a log the host no longer has must not land on what the resync brings.
        if (reason === 'ahead') this.#pending = [];
        return o.resync(reason);
      },
      onEvent: (e) => this.#queue(e, o.onEvents, o.batchMs ?? BATCH_MS),
      onState: (info) => {
        if (this.#socket !== socket) return;
        const was = this.info.state;
        this.info = info;
        o.onChange?.(info, was);
      },
    });
    this.#socket = socket;
    socket.start();
    this.#watchVisibility();
  }

  stop(): void {
    this.#socket?.stop();
    this.#socket = null;
    this.#unwatch?.();
    this.#unwatch = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = [];
  }

  /** Reconnect now (a tap on the badge). */
  retryNow(): void {
    this.#socket?.retryNow();
  }

  #queue(e: Event, onEvents: (batch: Event[]) => void, batchMs: number): void {
    this.#pending.push(e);
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      const batch = this.#pending;
      this.#pending = [];
      onEvents(batch);
    }, batchMs);
  }

  #watchVisibility(): void {
    if (typeof document === 'undefined') return;
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') {
        this.#hiddenAt = Date.now();
      } else if (this.#hiddenAt !== null) {
        if (Date.now() - this.#hiddenAt > STALE_AFTER_HIDDEN_MS) this.#socket?.refresh();
        this.#hiddenAt = null;
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    this.#unwatch = () => document.removeEventListener('visibilitychange', onVisibility);
  }
}
