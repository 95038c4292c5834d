import type { Prompt } from '../bindings';
import { ApiFailure, describeError, NetworkFailure } from '../client/errors';
import { newClientId } from '../client/ids';
import { getAll, OUTBOX, put, remove } from './db';

/**
 * - `queued`: stored on the device, waiting for the host.
 * - `sending`: on its way; if the app dies now it is sent again on the next start, which is safe:
 *   the host answers a repeated `client_id` with the same prompt and never runs it twice.
 * - `failed`: the host refused it (budget, deleted session…); it waits for the user.
 */
export type OutboxEntryState = 'queued' | 'sending' | 'failed';

export interface OutboxEntry {
  client_id: string;
  session_id: string;
  /** The host it is for: a device re-paired elsewhere must not send old prompts to a new host. */
  origin: string;
  text: string;
  /** Epoch ms; sending order. */
  created_at: number;
  state: OutboxEntryState;
  error: string | null;
  attempts: number;
}

export interface OutboxStorage {
  all(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  remove(clientId: string): Promise<void>;
}

export function idbOutboxStorage(db: Promise<IDBDatabase>): OutboxStorage {
  return {
    all: async () => getAll<OutboxEntry>(await db, OUTBOX),
    put: async (e) => put(await db, OUTBOX, e),
    remove: async (id) => remove(await db, OUTBOX, id),
  };
}

export function memoryOutboxStorage(): OutboxStorage {
  const map = new Map<string, OutboxEntry>();
  return {
    all: async () => [...map.values()].map((e) => ({ ...e })),
    put: async (e) => void map.set(e.client_id, { ...e }),
    remove: async (id) => void map.delete(id),
  };
}

/** Why a flush stopped early; `done` means everything sendable was sent (or failed for good). */
export type FlushResult = 'done' | 'offline' | 'retry_later' | 'unauthorized';

export interface OutboxOptions {
  origin: string;
  storage: OutboxStorage;
  /** Sends one prompt: `POST /sessions/{id}/prompts {text, client_id}`. */
  send: (entry: OutboxEntry) => Promise<Prompt>;
  /** The host took it; called before the entry leaves the outbox so the UI never shows neither. */
  onSent?: (entry: OutboxEntry, prompt: Prompt) => void;
  onChange?: (entries: OutboxEntry[]) => void;
  now?: () => number;
  newId?: () => string;
  /** Cross-tab mutual exclusion (navigator.locks); absent: one tab is assumed. */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

/**
 * Prompts the user wrote, kept on the device until the host has accepted them. Every prompt goes
 * through here, online or not: the write to IndexedDB comes first, so a prompt survives a reload,
 * an app kill or a dropped connection, and its `client_id` makes the eventual send exactly-once.
 */
export class Outbox {
  readonly #o: OutboxOptions;
  #entries: OutboxEntry[] = [];
  readonly #editing = new Set<string>();
  /** Entries this instance is sending right now (others marked `sending` were cut off). */
  readonly #inFlight = new Set<string>();
  #flushing: Promise<FlushResult> | null = null;
  #again = false;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  /** This host's entries, oldest first. */
  get entries(): OutboxEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  async load(): Promise<void> {
    await this.#reload();
  }

  async add(sessionId: string, text: string): Promise<OutboxEntry> {
    const body = text.trim();
    if (!body) throw new Error('Write a prompt first.');
    const entry: OutboxEntry = {
      client_id: (this.#o.newId ?? newClientId)(),
      session_id: sessionId,
      origin: this.#o.origin,
      text: body,
      // Strictly increasing, so two prompts in the same millisecond keep their order.
      created_at: Math.max((this.#o.now ?? Date.now)(), (this.#entries.at(-1)?.created_at ?? 0) + 1),
      state: 'queued',
      error: null,
      attempts: 0,
    };
    await this.#o.storage.put(entry);
    this.#entries.push(entry);
    this.#changed();
    return { ...entry };
  }

  /** Holds an entry back from sending while the user edits it (and everything after it). */
  beginEdit(clientId: string): boolean {
    const e = this.#find(clientId);
    if (!e || e.state === 'sending') return false;
    this.#editing.add(clientId);
    return true;
  }

  endEdit(clientId: string): void {
    this.#editing.delete(clientId);
  }

  isEditing(clientId: string): boolean {
    return this.#editing.has(clientId);
  }

  /** New text for an entry not yet sent; it keeps its client_id (the host has never seen it). */
  async edit(clientId: string, text: string): Promise<void> {
    const e = this.#find(clientId);
    const body = text.trim();
    if (!e) throw new Error('That prompt was already sent.');
    if (e.state === 'sending') throw new Error('That prompt is being sent right now.');
    if (!body) throw new Error('A prompt cannot be empty; cancel it instead.');
    const next = { ...e, text: body, state: 'queued' as const, error: null };
    await this.#o.storage.put(next);
    Object.assign(e, next);
    this.#editing.delete(clientId);
    this.#changed();
  }

  /** Drops an entry the host has not accepted. */
  async cancel(clientId: string): Promise<void> {
    const e = this.#find(clientId);
    if (!e) return;
    if (e.state === 'sending') throw new Error('That prompt is being sent right now.');
    await this.#o.storage.remove(clientId);
    this.#entries = this.#entries.filter((x) => x.client_id !== clientId);
    this.#editing.delete(clientId);
    this.#changed();
  }

  /** Puts a failed entry back in line. */
  async retry(clientId: string): Promise<void> {
    const e = this.#find(clientId);
    if (!e || e.state !== 'failed') return;
    const next = { ...e, state: 'queued' as const, error: null };
    await this.#o.storage.put(next);
    Object.assign(e, next);
    this.#changed();
  }

  /**
   * Sends everything queued for this host, oldest first. One flush at a time; a call during a
   * flush runs another pass after it (something may have been queued meanwhile).
   */
  flush(): Promise<FlushResult> {
    if (this.#flushing) {
      this.#again = true;
      return this.#flushing;
    }
    const run = async (): Promise<FlushResult> => {
      let result: FlushResult;
      do {
        this.#again = false;
        const lock = this.#o.lock ?? ((_name, fn) => fn());
        result = await lock('arcbench-outbox', () => this.#pass());
      } while (this.#again && result === 'done');
      return result;
    };
    this.#flushing = run().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #pass(): Promise<FlushResult> {
    // Storage is the truth: another tab may have sent (and removed) entries since we looked.
    await this.#reload();
    const blocked = new Set<string>();
    for (const entry of this.#entries.filter((e) => e.state === 'queued')) {
      if (blocked.has(entry.session_id)) continue;
      if (this.#editing.has(entry.client_id)) {
        // Keep the order within a session: nothing after an entry being edited goes first.
        blocked.add(entry.session_id);
        continue;
      }
      entry.state = 'sending';
      entry.attempts += 1;
      this.#inFlight.add(entry.client_id);
      await this.#o.storage.put(entry);
      this.#changed();
      try {
        const prompt = await this.#o.send({ ...entry });
        this.#o.onSent?.({ ...entry }, prompt);
        await this.#o.storage.remove(entry.client_id);
        this.#entries = this.#entries.filter((x) => x.client_id !== entry.client_id);
        this.#changed();
      } catch (err) {
        const stop = classify(err);
        entry.state = stop ? 'queued' : 'failed';
        entry.error = stop ? null : describeError(err);
        await this.#o.storage.put(entry);
        this.#changed();
        if (stop) return stop;
      } finally {
        this.#inFlight.delete(entry.client_id);
      }
    }
    return 'done';
  }

  async #reload(): Promise<void> {
    const all = await this.#o.storage.all();
    this.#entries = all
      .filter((e) => e.origin === this.#o.origin)
      // "sending" left over from a killed app: it goes again (the host dedupes by client_id).
      .map((e) => (e.state === 'sending' && !this.#inFlight.has(e.client_id) ? { ...e, state: 'queued' as const } : e))
      .sort((a, b) => a.created_at - b.created_at);
    this.#changed();
  }

  #find(clientId: string): OutboxEntry | undefined {
    return this.#entries.find((e) => e.client_id === clientId);
  }

  #changed(): void {
    this.#o.onChange?.(this.entries);
  }
}

/** A failure that stops the flush (try again later), or null when only this entry failed. */
function classify(err: unknown): Exclude<FlushResult, 'done'> | null {
  if (err instanceof NetworkFailure) return 'offline';
  if (err instanceof ApiFailure) {
    if (err.code === 'unauthorized') return 'unauthorized';
    if (err.retryable) return 'retry_later';
    return null;
  }
  return 'retry_later';
}

/** navigator.locks when the browser has it. */
export function browserLock(): OutboxOptions['lock'] {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return undefined;
  return async function lock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    let out: { value: T } | null = null;
    await locks.request(name, async () => {
      out = { value: await fn() };
    });
    if (!out) throw new Error('lock callback did not run');
    return (out as { value: T }).value;
  };
}
