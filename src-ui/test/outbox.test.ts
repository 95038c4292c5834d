import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Prompt } from '../src/lib/bindings';
import { ApiFailure, NetworkFailure } from '../src/lib/client/errors';
import { openDb } from '../src/lib/outbox/db';
import { idbOutboxStorage, memoryOutboxStorage, Outbox, type OutboxEntry, type OutboxStorage } from '../src/lib/outbox/outbox';
import { prompt } from './fixtures';

/** A stand-in host: dedupes by client_id like the real one, and can be down or refuse. */
class FakeHost {
  byClientId = new Map<string, Prompt>();
  runs: string[] = [];
  down = false;
  refuse: ApiFailure | null = null;
  calls = 0;
  send = async (e: OutboxEntry): Promise<Prompt> => {
    this.calls++;
    if (this.down) throw new NetworkFailure('network error');
    if (this.refuse) throw this.refuse;
    const seen = this.byClientId.get(e.client_id);
    if (seen) return seen;
    const p = prompt(`p${this.byClientId.size + 1}`, { client_id: e.client_id, text: e.text });
    this.byClientId.set(e.client_id, p);
    this.runs.push(e.text);
    return p;
  };
}

function makeOutbox(storage: OutboxStorage, host: FakeHost, origin = 'http://h') {
  let id = 0;
  let clock = 1000;
  const sent: string[] = [];
  const outbox = new Outbox({
    origin,
    storage,
    send: host.send,
    onSent: (e) => sent.push(e.text),
    newId: () => `c${++id}`,
    now: () => ++clock,
  });
  return { outbox, sent };
}

describe('Outbox', () => {
  it('stores first, then sends in order, exactly once', async () => {
    const host = new FakeHost();
    const storage = memoryOutboxStorage();
    const { outbox, sent } = makeOutbox(storage, host);
    await outbox.add('s1', 'first');
    await outbox.add('s1', 'second');
    expect((await storage.all()).map((e) => e.text)).toEqual(['first', 'second']);
    expect(await outbox.flush()).toBe('done');
    expect(host.runs).toEqual(['first', 'second']);
    expect(sent).toEqual(['first', 'second']);
    expect(await storage.all()).toEqual([]);
    expect(await outbox.flush()).toBe('done');
    expect(host.calls).toBe(2);
  });

  it('keeps prompts while the host is unreachable and sends them when it is back', async () => {
    const host = new FakeHost();
    host.down = true;
    const { outbox } = makeOutbox(memoryOutboxStorage(), host);
    await outbox.add('s1', 'a');
    await outbox.add('s1', 'b');
    expect(await outbox.flush()).toBe('offline');
    expect(outbox.entries.map((e) => [e.text, e.state])).toEqual([
      ['a', 'queued'],
      ['b', 'queued'],
    ]);
    host.down = false;
    expect(await outbox.flush()).toBe('done');
    expect(host.runs).toEqual(['a', 'b']);
  });

  it('survives an app kill mid-send: the next start resends, and the host runs it once', async () => {
    const host = new FakeHost();
    const storage = memoryOutboxStorage();
    const first = makeOutbox(storage, host);
    await first.outbox.add('s1', 'only once');
    // The host got it, but the app died before hearing back: the entry is still "sending".
    const [entry] = await storage.all();
    await host.send(entry!);
    await storage.put({ ...entry!, state: 'sending' });

    const second = makeOutbox(storage, host);
    await second.outbox.load();
    expect(second.outbox.entries[0]?.state).toBe('queued');
    expect(await second.outbox.flush()).toBe('done');
    expect(host.runs).toEqual(['only once']);
    expect(await storage.all()).toEqual([]);
  });

  it('edits and cancels only what is not yet sent; an edit holds back what follows', async () => {
    const host = new FakeHost();
    host.down = true;
    const { outbox } = makeOutbox(memoryOutboxStorage(), host);
    const a = await outbox.add('s1', 'draft a');
    const b = await outbox.add('s1', 'b');
    const c = await outbox.add('s2', 'other session');
    host.down = false;
    expect(outbox.beginEdit(a.client_id)).toBe(true);
    await outbox.flush();
    // s1 waits behind the edit, in order; s2 is independent.
    expect(host.runs).toEqual(['other session']);
    await outbox.edit(a.client_id, 'final a');
    await outbox.flush();
    expect(host.runs).toEqual(['other session', 'final a', 'b']);
    expect(outbox.entries).toEqual([]);
    await expect(outbox.edit(b.client_id, 'late')).rejects.toThrow(/already sent/);
    await outbox.cancel(c.client_id); // gone already: no-op
  });

  it('cancel removes a queued prompt for good', async () => {
    const host = new FakeHost();
    host.down = true;
    const storage = memoryOutboxStorage();
    const { outbox } = makeOutbox(storage, host);
    const a = await outbox.add('s1', 'never mind');
    await outbox.cancel(a.client_id);
    host.down = false;
    await outbox.flush();
    expect(host.runs).toEqual([]);
    expect(await storage.all()).toEqual([]);
  });

  it('marks a refused prompt failed with a readable reason, and goes on with the rest', async () => {
    const host = new FakeHost();
    const { outbox } = makeOutbox(memoryOutboxStorage(), host);
    host.refuse = new ApiFailure(402, { code: 'budget_exceeded', message: 'daily limit $5.00 reached' });
    await outbox.add('s1', 'expensive');
    expect(await outbox.flush()).toBe('done');
    expect(outbox.entries[0]).toMatchObject({ state: 'failed' });
    expect(outbox.entries[0]?.error).toMatch(/spending limit.*daily limit/);
    host.refuse = null;
    await outbox.retry(outbox.entries[0]!.client_id);
    await outbox.flush();
    expect(host.runs).toEqual(['expensive']);
  });

  it('stops on a host error worth retrying, keeping the prompt queued', async () => {
    const host = new FakeHost();
    const { outbox } = makeOutbox(memoryOutboxStorage(), host);
    host.refuse = new ApiFailure(503, null);
    await outbox.add('s1', 'later');
    expect(await outbox.flush()).toBe('retry_later');
    expect(outbox.entries[0]?.state).toBe('queued');
    host.refuse = new ApiFailure(401, { code: 'unauthorized', message: 'bad key' });
    expect(await outbox.flush()).toBe('unauthorized');
    expect(outbox.entries[0]?.state).toBe('queued');
  });

  it('one flush at a time: concurrent calls never send a prompt twice', async () => {
    const host = new FakeHost();
    const { outbox } = makeOutbox(memoryOutboxStorage(), host);
    for (const t of ['1', '2', '3']) await outbox.add('s1', t);
    await Promise.all([outbox.flush(), outbox.flush(), outbox.flush()]);
    expect(host.calls).toBe(3);
    expect(host.runs).toEqual(['1', '2', '3']);
  });

  it('sends only the paired host’s prompts', async () => {
    const host = new FakeHost();
    const storage = memoryOutboxStorage();
    const old = makeOutbox(storage, host, 'http://old');
    host.down = true;
    await old.outbox.add('s1', 'for the old host');
    host.down = false;
    const now = makeOutbox(storage, host, 'http://new');
    await now.outbox.load();
    expect(now.outbox.entries).toEqual([]);
    await now.outbox.flush();
    expect(host.runs).toEqual([]);
  });

  it('persists in IndexedDB across instances (a reload)', async () => {
    const factory = new IDBFactory();
    const host = new FakeHost();
    host.down = true;
    const first = makeOutbox(idbOutboxStorage(openDb(factory, 'test')), host);
    await first.outbox.add('s1', 'written offline');
    await first.outbox.add('s1', 'and another');
    await first.outbox.flush();

    const db2 = openDb(factory, 'test');
    const second = makeOutbox(idbOutboxStorage(db2), host);
    await second.outbox.load();
    expect(second.outbox.entries.map((e) => [e.text, e.state])).toEqual([
      ['written offline', 'queued'],
      ['and another', 'queued'],
    ]);
    host.down = false;
    await second.outbox.flush();
    expect(host.runs).toEqual(['written offline', 'and another']);
    expect(await idbOutboxStorage(db2).all()).toEqual([]);
  });
});
