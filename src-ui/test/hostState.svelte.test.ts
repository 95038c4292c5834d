// @vitest-environment happy-dom
// (a DOM environment makes Vitest compile runes for the client: real proxies and effects)
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { applyEvent, createHostState, promptsOf, type HostState } from '../src/lib/store/hostState';
import { events, prompt } from './fixtures';

// The app keeps HostState inside Svelte's $state; the fold must work through its proxies too
// (assigning a fresh array into a proxy stores a proxied copy, not the array itself).
describe('HostState inside $state', () => {
  it('folds events reactively', () => {
    const s: HostState = $state(createHostState());
    let seen: string[] = [];
    const stop = $effect.root(() => {
      $effect(() => {
        seen = promptsOf(s, 's1').map((p) => `${p.id}:${p.state}:${s.replies[p.id] ?? ''}`);
      });
    });
    for (const e of events([
      { type: 'prompt.queued', prompt: prompt('p1') },
      { type: 'prompt.started', prompt_id: 'p1' },
      { type: 'agent.text', prompt_id: 'p1', chunk: 'hi' },
      { type: 'agent.log', prompt_id: 'p1', level: 'info', line: 'x' },
      { type: 'commit.created', commit: { sha: 'c', message: 'm' } },
    ]))
      applyEvent(s, e);
    flushSync();
    expect(seen).toEqual(['p1:running:hi']);
    expect(s.activity.p1).toHaveLength(1);
    expect(s.commits.s1).toHaveLength(1);
    stop();
  });
});
