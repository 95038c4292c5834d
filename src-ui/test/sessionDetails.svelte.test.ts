// @vitest-environment happy-dom
// (a DOM environment makes Vitest compile runes for the client: real proxies and effects)
import { flushSync } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import { ApiFailure, NetworkFailure } from '../src/lib/client/errors';
import type { SavedSession, Snapshots } from '../src/lib/outbox/snapshots';
import { SessionDetails } from '../src/lib/store/sessionDetails.svelte';
import { viewFromSnapshot, type SessionView } from '../src/lib/store/sessionView';
import { events, prompt, snapshot } from './fixtures';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

const text = (seq: number, chunk: string, sid = 's1') => events([{ type: 'agent.text', prompt_id: 'p1', chunk }], sid, seq)[0]!;

describe('SessionDetails', () => {
  it('folds the events that arrive while the snapshot is on the way, skipping those it has', async () => {
    const answer = deferred<SessionView>();
    let calls = 0;
    const d = new SessionDetails(() => (calls++, answer.promise));
    const opened = d.open('s1');
    void d.load('s1'); // a second caller shares the fetch
    // The snapshot is read at seq 5 on the host while these are on the wire.
    for (const e of [text(4, 'b'), text(5, 'c'), text(6, 'd'), text(7, '?', 's2')]) d.apply(e);
    answer.resolve(viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running', reply: 'abc' })], last_seq: 5 })));
    await opened;
    expect(calls).toBe(1);
    expect(d.view('s1')?.prompts[0]?.reply).toBe('abcd');
    expect(d.view('s1')?.seq).toBe(6);
    d.apply(text(8, 'e'));
    expect(d.view('s1')?.prompts[0]?.reply).toBe('abcde');
  });

  it('keeps only sessions on screen: a closed one is dropped, a late answer for it too', async () => {
    const answer = deferred<SessionView>();
    const d = new SessionDetails(() => answer.promise);
    const opened = d.open('s1');
    d.close('s1');
    answer.resolve(viewFromSnapshot(snapshot({ last_seq: 3 })));
    await opened;
    expect(d.view('s1')).toBeUndefined();
    expect(d.openIds()).toEqual([]);
  });

  it('answers null for a session the host no longer has', async () => {
    const d = new SessionDetails(async () => {
      throw new ApiFailure(404, { code: 'not_found' });
    });
    d.want('s1');
    expect(await d.load('s1')).toBeNull();
    expect(d.view('s1')).toBeUndefined();
  });

  it("shows this device's copy without the host, not fed with events, until loaded again", async () => {
    const saved: SavedSession = { view: viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'done', reply: 'kept' })], last_seq: 9 })), diff: null, savedAt: 1 };
    const device = { session: async () => saved } as unknown as Snapshots;
    let online = false;
    const d = new SessionDetails(
      async () => {
        if (!online) throw new NetworkFailure('offline');
        return viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'done', reply: 'fresh' })], last_seq: 20 }));
      },
      async () => device,
    );
    await d.open('s1');
    expect(d.view('s1')?.stale).toBe(true);
    expect(d.view('s1')?.prompts[0]?.reply).toBe('kept');
    d.apply(text(21, '!'));
    expect(d.view('s1')?.prompts[0]?.reply).toBe('kept');
    expect(d.needingLoad()).toEqual(['s1']);
    online = true;
    await d.load('s1');
    expect(d.view('s1')?.stale).toBeUndefined();
    expect(d.view('s1')?.prompts[0]?.reply).toBe('fresh');
    expect(d.needingLoad()).toEqual([]);
  });

  it('restores a copy saved before proposals existed with none, and saves no live-only detail', async () => {
    const { proposals: _p, estimates: _e, writing: _w, ...old } = viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'done', reply: 'kept' })], last_seq: 9 }));
    const saves: SavedSession[] = [];
    const device = { session: async () => ({ view: old, diff: null, savedAt: 1 }), saveSession: async (_id: string, s: SavedSession) => void saves.push(s) } as unknown as Snapshots;
    const d = new SessionDetails(async () => {
      throw new NetworkFailure('offline');
    }, async () => device);
    await d.open('s1');
    expect(d.view('s1')).toMatchObject({ stale: true, proposals: {}, estimates: {}, writing: null });

    const live = new SessionDetails(async () => viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running' })], last_seq: 1 })), async () => device);
    await live.open('s1');
    live.apply(events([{ type: 'usage.estimated', prompt_id: 'p1', model: 'm', usage: prompt('x').usage, estimated: true }], 's1', 2)[0]!);
    expect(live.view('s1')?.estimates.p1).toBeDefined();
    live.saveToDevice('s1', null);
    await vi.waitFor(() => expect(saves).toHaveLength(1));
    expect(saves[0]!.view).toMatchObject({ estimates: {}, writing: null });
  });

  it('is reactive: a streamed chunk re-renders what reads the reply', async () => {
    const d = new SessionDetails(async () => viewFromSnapshot(snapshot({ prompts: [prompt('p1', { state: 'running', reply: 'hi' })], last_seq: 1 })));
    await d.open('s1');
    let seen = '';
    const stop = $effect.root(() => {
      $effect(() => {
        seen = (d.view('s1')?.prompts ?? []).map((p) => `${p.id}:${p.state}:${p.reply}`).join();
      });
    });
    flushSync();
    expect(seen).toBe('p1:running:hi');
    d.apply(text(2, ' there'));
    d.apply(events([{ type: 'agent.log', prompt_id: 'p1', level: 'info', line: 'x' }], 's1', 3)[0]!);
    flushSync();
    expect(seen).toBe('p1:running:hi there');
    expect(d.view('s1')?.activity.p1).toHaveLength(1);
    stop();
  });
});
