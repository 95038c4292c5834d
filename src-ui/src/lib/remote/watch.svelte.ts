import { untrack } from 'svelte';
import type { Event } from '../bindings';
import { ApiFailure } from '../client/errors';
import { ArcbenchApi, type FetchLike } from '../client/rest';
import type { BackoffPolicy } from '../client/backoff';
import type { EventSocketOptions } from '../client/socket';
import { Connection } from '../store/connection.svelte';
import type { NativeCredentials, NativeRemote, PairedHost } from './native';

/** A host that does not answer is tried again after 2 s, then 4 s, … at most every minute. */
export const WATCH_BACKOFF: BackoffPolicy = { baseMs: 2_000, capMs: 60_000 };
/** Notices need no frame-by-frame latency: a streaming reply's events go over in few calls. */
const WATCH_BATCH_MS = 250;
const SESSIONS_TIMEOUT_MS = 10_000;

export interface HostWatchersOptions {
  native: Pick<NativeRemote, 'hostCredentials' | 'noteEvents'>;
  /** For tests: the network under `GET /sessions`. */
  fetch?: FetchLike;
  /** For tests: a fake WebSocket and network, fast reconnects. */
  socket?: Pick<EventSocketOptions, 'createSocket' | 'network' | 'random'>;
  backoff?: BackoffPolicy;
  batchMs?: number;
  /** A watched host refused this device's key: it is watched no more (until paired again). */
  onRefused?: (hostId: string) => void;
}

/** Why a host is no longer watched: its key refused (401, 4401), or gone from this device. */
type GiveUp = 'refused' | 'no_key';

/** What pairing a host again changes: a new pairing is watched again even after a refusal. */
function pairingOf(h: PairedHost): string {
  return `${h.origin}\n${h.device_id ?? ''}\n${h.paired_at}`;
}

/**
 * One paired host that is not on screen, followed for its notices only: its live events (from
 * its `last_seq` when watching began, never its history) go to the app's notices with its
 * session titles. The socket, its resume and backoff are the dashboard's own (`Connection`).
 */
class HostWatch {
  readonly pairing: string;
  readonly #id: string;
  readonly #o: HostWatchersOptions;
  readonly #giveUp: (why: GiveUp) => void;
  #connection: Connection | null = null;
  #stopped = false;
  /** The host's sessions by id: their titles, as `GET /sessions` and later events name them. */
  #titles = new Map<string, string>();

  constructor(host: PairedHost, o: HostWatchersOptions, giveUp: (why: GiveUp) => void) {
    this.#id = host.id;
    this.pairing = pairingOf(host);
    this.#o = o;
    this.#giveUp = giveUp;
  }

  /** The seq the feed resumes after (for tests). */
  get lastSeq(): number | null {
    return this.#connection?.info.lastSeq ?? null;
  }

  async start(): Promise<void> {
    let creds: NativeCredentials;
    try {
      creds = await this.#o.native.hostCredentials(this.#id);
    } catch {
      // Its key is gone from this device (the host list says so): nothing to watch with.
      if (!this.#stopped) this.#giveUp('no_key');
      return;
    }
    if (this.#stopped) return;
    const api = new ArcbenchApi({ origin: creds.origin, key: creds.key, deviceId: creds.device_id }, { fetch: this.#o.fetch, timeoutMs: SESSIONS_TIMEOUT_MS });
    const connection = new Connection();
    this.#connection = connection;
    connection.start({
      origin: api.origin,
      key: creds.key,
      // No seq yet (`start`), or the host can no longer resume ours (`compacted`, `ahead`): from
      // its newest event on, so nothing old is told as news.
      resync: async () => {
        try {
          const { sessions, last_seq } = await api.sessions();
          this.#titles = new Map(sessions.map((s) => [s.id, s.title || s.branch]));
          return last_seq;
        } catch (e) {
          if (e instanceof ApiFailure && e.status === 401) return 'unauthorized';
          throw e;
        }
      },
      onEvents: (batch) => this.#note(batch),
      onChange: (info) => {
        if (info.state === 'unauthorized' && this.#connection === connection) {
          this.stop();
          this.#giveUp('refused');
        }
      },
      socket: { ...this.#o.socket, backoff: this.#o.backoff ?? WATCH_BACKOFF },
      batchMs: this.#o.batchMs ?? WATCH_BATCH_MS,
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#connection?.stop();
    this.#connection = null;
  }

  #note(batch: Event[]): void {
    const titles = [...this.#titles].map(([id, title]) => ({ id, title }));
    // Nobody looks at a host that is not on screen. A notice that failed disturbs nothing.
    void this.#o.native.noteEvents(this.#id, titles, batch, null).catch(() => undefined);
    for (const e of batch) {
      if ((e.type === 'session.created' || e.type === 'session.updated') && e.session) this.#titles.set(e.session.id, e.session.title || e.session.branch);
      else if (e.type === 'session.deleted' && e.session_id) this.#titles.delete(e.session_id);
    }
  }
}

/**
 * The phone app's notices from the paired hosts other than the one on screen (whose own store
 * hands its events over): one event socket per such host, nothing polled. `update` is told the
 * list and the host on screen whenever either changes; `stop` ends every watch.
 */
export class HostWatchers {
  readonly #o: HostWatchersOptions;
  // Bookkeeping, not state: nothing renders from these.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #watches = new Map<string, HostWatch>();
  /** Hosts that refused this device's key (or whose key is gone), by the pairing refused. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #refused = new Map<string, string>();
  #stopped = false;

  constructor(options: HostWatchersOptions) {
    this.#o = options;
  }

  /** The ids watched now, in the list's order of starting. */
  get watched(): string[] {
    return [...this.#watches.keys()];
  }

  /** The seq a host's feed resumes after, when it is watched (for tests). */
  lastSeqOf(id: string): number | null {
    return this.#watches.get(id)?.lastSeq ?? null;
  }

  /** Watches every host of `list` but `shownId`: new ones from their newest event, gone ones no more. */
  update(list: readonly PairedHost[], shownId: string | null): void {
    if (this.#stopped) return;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const wanted = new Map(list.filter((h) => h.id !== shownId).map((h) => [h.id, h]));
    for (const [id, watch] of this.#watches) {
      const host = wanted.get(id);
      if (!host || pairingOf(host) !== watch.pairing) {
        watch.stop();
        this.#watches.delete(id);
      }
    }
    for (const id of this.#refused.keys()) {
      if (!list.some((h) => h.id === id)) this.#refused.delete(id);
    }
    for (const [id, host] of wanted) {
      if (this.#watches.has(id)) continue;
      const pairing = pairingOf(host);
      if (this.#refused.get(id) === pairing) continue;
      this.#refused.delete(id);
      const watch: HostWatch = new HostWatch(host, this.#o, (why) => {
        if (this.#watches.get(id) !== watch) return;
        watch.stop();
        this.#watches.delete(id);
        this.#refused.set(id, pairing);
        if (why === 'refused') this.#o.onRefused?.(id);
      });
      this.#watches.set(id, watch);
      void watch.start();
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const watch of this.#watches.values()) watch.stop();
    this.#watches.clear();
  }
}

/**
 * Keeps `watchers` on the hosts `source` reads (reactive: the hosts list and the host on screen),
 * until the answer is called, which stops them all.
 */
export function followHosts(source: () => { list: readonly PairedHost[]; shownId: string | null }, watchers: HostWatchers): () => void {
  const end = $effect.root(() => {
    $effect(() => {
      const { list, shownId } = source();
      untrack(() => watchers.update(list, shownId));
    });
  });
  return () => {
    end();
    watchers.stop();
  };
}
