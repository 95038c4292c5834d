// @vitest-environment happy-dom
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Diff, EditProposal, Event, Hunk } from '../src/lib/bindings';
import type { FetchLike } from '../src/lib/client/rest';
import { appContext } from '../src/lib/context';
import Conversation from '../src/components/Conversation.svelte';
import DiffPanel from '../src/components/DiffPanel.svelte';
import type { SessionTab } from '../src/lib/router.svelte';
import SessionRow from '../src/components/SessionRow.svelte';
import SessionScreen from '../src/screens/SessionScreen.svelte';
import { storeWithFakes } from './fakes';
import { fileDiff, hunk as textHunk, prompt, proposal as blockOf, session, snapshot, usage } from './fixtures';

const hunk = (id: string, text: string): Hunk =>
  textHunk(id, { header: '@@ -1 +1 @@', lines: [{ kind: 'del', text: 'old()' }, { kind: 'add', text }] });
const file = fileDiff;
const proposal = (index: number, over: Partial<EditProposal> = {}): EditProposal =>
  blockOf(index, { file: file('src/a.py', [hunk('h1', 'new()')]), block_hunks: ['h1'], ...over });
const BLOCK = 'src/a.py\n```python\n<<<<<<< SEARCH\nold()\n=======\nnew()\n>>>>>>> REPLACE\n```\n';
const MARKERS = /<<<<<<< SEARCH|=======|>>>>>>> REPLACE/;

/** The host: a session with p1 running, and a diff the test changes. */
async function setup({ panels = true } = {}) {
  const host = { diff: { files: [] } as Diff, calls: [] as string[] };
  const fetch: FetchLike = async (url) => {
    const path = url.replace('http://host', '');
    host.calls.push(path);
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    if (path === '/status') return json({ name: 'arcbench', version: '0', demo: false, repos: ['r'], agent: { kind: 'aider', available: true, version: null, state: 'ready' }, sessions_active: 1 });
    if (path === '/sessions') return json({ sessions: [session('s1', { state: 'running' })], last_seq: 1 });
    if (path === '/sessions/s1/snapshot') return json(snapshot({ session: session('s1', { state: 'running' }), prompts: [prompt('p1', { state: 'running' })], last_seq: 1 }));
    if (path === '/sessions/s1/diff') return json(host.diff);
    if (path === '/sessions/s1/history') return json({ rounds: [], pending_notes: [] });
    return json({ code: 'not_found', message: path }, 404);
  };
  const { app, sockets } = storeWithFakes(fetch);
  app.creds = { origin: 'http://host', key: 'k' };
  void app.start('s1');
  await vi.waitFor(() => expect(sockets).toHaveLength(1));
  sockets[0]!.open();
  await vi.waitFor(() => expect(app.online).toBe(true));
  await app.openSession('s1');
  let seq = 1;
  /** Delivers events as the host would and waits until the view has folded them in (batched). */
  const send = async (...bodies: Partial<Event>[]) => {
    for (const b of bodies) sockets[0]!.deliver(++seq, { session_id: 's1', ...b });
    await vi.waitFor(() => expect(app.details.view('s1')?.seq).toBe(seq));
    flushSync();
  };
  const context = appContext(app);
  const mounted: ReturnType<typeof mount>[] = [];
  if (panels) {
    mounted.push(mount(Conversation, { target: document.body.appendChild(document.createElement('div')), props: { sessionId: 's1' }, context }));
    mounted.push(mount(DiffPanel, { target: document.body.appendChild(document.createElement('div')), props: { sessionId: 's1', locked: true }, context }));
  }
  const cards = () => [...document.querySelectorAll<HTMLElement>('[data-testid=proposed-card]')];
  return { app, host, send, cards, context, unmountAll: () => mounted.forEach((m) => unmount(m)) };
}

describe('a turn as it is written', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('shows blocks as cards (writing, proposed, will not apply), never their markers', async () => {
    const t = await setup();
    await t.send({ type: 'prompt.started', prompt_id: 'p1' }, { type: 'agent.text', prompt_id: 'p1', chunk: 'Renaming it.\n\n' + BLOCK.slice(0, 40) });
    await vi.waitFor(() => expect(t.cards().map((c) => c.dataset.status)).toEqual(['writing']));
    expect(t.cards()[0]!.textContent).toContain('Writing src/a.py');
    expect(document.body.textContent).not.toMatch(MARKERS);

    // The block closes: a placeholder until its proposal comes, then its hunk.
    await t.send({ type: 'agent.text', prompt_id: 'p1', chunk: BLOCK.slice(40) + '\nAnd another:\n' + BLOCK });
    expect(t.cards().map((c) => c.dataset.status)).toEqual(['writing', 'writing']);
    await t.send({ type: 'edit.proposed', proposal: proposal(0) });
    const first = t.cards()[0]!;
    expect(first.dataset.status).toBe('proposed');
    expect(first.dataset.path).toBe('src/a.py');
    expect(first.querySelectorAll('[data-testid=proposed-hunk]')).toHaveLength(1);
    expect(first.textContent).toContain('new()');
    expect(first.querySelector('button')).toBeNull();

    await t.send({ type: 'edit.proposed', proposal: proposal(1, { status: 'will_not_apply', file: null, block_hunks: [], reason: 'the SEARCH text does not match the lines of src/a.py' }) });
    expect(t.cards()[1]!.dataset.status).toBe('will_not_apply');
    expect(t.cards()[1]!.textContent).toContain('Will not apply: the SEARCH text does not match the lines of src/a.py');
    // The prose stays (as Markdown once it is parsed).
    await vi.waitFor(() => expect(document.querySelector('[data-testid=agent-reply]')?.textContent).toContain('And another:'));
    expect(document.body.textContent).not.toMatch(MARKERS);

    // A retry withdraws them: the blocks of the new answer start over.
    await t.send({ type: 'agent.text_discarded', prompt_id: 'p1', reason: 'retry' }, { type: 'agent.text', prompt_id: 'p1', chunk: BLOCK });
    expect(t.cards().map((c) => c.dataset.status)).toEqual(['writing']);
    t.unmountAll();
  });

  it('shows the estimate while the reply streams, marked, then the exact figures', async () => {
    const t = await setup();
    await t.send({ type: 'prompt.started', prompt_id: 'p1' }, { type: 'usage.estimated', prompt_id: 'p1', model: 'm', usage: usage(0.0093, 1000, 40), estimated: true });
    const shown = () => document.querySelector<HTMLElement>('[data-testid=prompt-usage]');
    expect(shown()?.dataset.estimated).toBe('true');
    expect(shown()?.textContent).toBe('≈ 1.0k in · 40 out · $0.0093 · est.');
    await t.send({ type: 'usage.updated', prompt_id: 'p1', model: 'm', usage: usage(0.013, 1000, 44), session_total: usage(0.013), today_total: usage(0.013) });
    expect(shown()?.dataset.estimated).toBe('false');
    expect(shown()?.textContent).toContain('$0.013');
    t.unmountAll();
  });

  it('after the turn, a proposed card says the agent wrote it; one that will not apply still says why', async () => {
    const t = await setup();
    await t.send(
      { type: 'prompt.started', prompt_id: 'p1' },
      { type: 'agent.text', prompt_id: 'p1', chunk: BLOCK + '\nAnd another:\n' + BLOCK },
      { type: 'edit.proposed', proposal: proposal(0) },
      { type: 'edit.proposed', proposal: proposal(1, { status: 'will_not_apply', file: null, block_hunks: [], reason: 'no match' }) },
    );
    const chip = (c: HTMLElement) => c.querySelector('.head .chip')?.textContent;
    // While it runs: a proposal.
    expect(t.cards().map((c) => [c.dataset.status, c.dataset.final])).toEqual([
      ['proposed', 'false'],
      ['will_not_apply', 'false'],
    ]);
    expect(chip(t.cards()[0]!)).toBe('Proposed');

    await t.send({ type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage(0.02, 1000, 50) });
    // The status stays for whoever reads it; the card says what happened.
    expect(t.cards().map((c) => [c.dataset.status, c.dataset.final])).toEqual([
      ['proposed', 'true'],
      ['will_not_apply', 'true'],
    ]);
    expect(chip(t.cards()[0]!)).toBe('Written');
    expect(t.cards()[0]!.textContent).not.toContain('Proposed');
    expect(t.cards()[0]!.querySelectorAll('[data-testid=proposed-hunk]')).toHaveLength(1);
    expect(chip(t.cards()[1]!)).toBe('Will not apply');
    expect(t.cards()[1]!.textContent).toContain('Will not apply: no match');
    t.unmountAll();
  });

  it('a stopped turn: its proposed cards are final too', async () => {
    const t = await setup();
    await t.send({ type: 'prompt.started', prompt_id: 'p1' }, { type: 'agent.text', prompt_id: 'p1', chunk: BLOCK }, { type: 'edit.proposed', proposal: proposal(0) });
    await t.send({ type: 'prompt.finished', prompt_id: 'p1', state: 'cancelled', usage: usage(), reason: 'stopped' });
    expect(t.cards().map((c) => [c.dataset.status, c.dataset.final])).toEqual([['proposed', 'true']]);
    expect(t.cards()[0]!.textContent).toContain('Written');
    t.unmountAll();
  });

  it('the session total moves with the running prompt estimate, marked, then is exact again', async () => {
    const t = await setup({ panels: false });
    const screen = mount(SessionScreen, { target: document.body.appendChild(document.createElement('div')), props: { id: 's1', tab: 'chat' }, context: t.context });
    const row = mount(SessionRow, { target: document.body.appendChild(document.createElement('div')), props: { session: session('s1', { state: 'running' }) }, context: t.context });
    const total = () => document.querySelector<HTMLElement>('[data-testid=session-usage]')!;
    const cost = () => document.querySelector<HTMLElement>('[data-testid=session-cost]')!;

    // Earlier prompts cost $0.04; p1's first request $0.01: the host's session total is $0.05.
    await t.send(
      { type: 'prompt.started', prompt_id: 'p1' },
      { type: 'usage.updated', prompt_id: 'p1', model: 'm', usage: usage(0.01, 1000, 20), session_total: usage(0.05, 5000, 200), today_total: usage(0.05) },
    );
    expect(total().dataset.estimated).toBe('false');
    expect(total().textContent).toBe('5.0k in · 200 out · $0.050');
    expect(cost().textContent).toBe('$0.050');

    // p1 so far: its exact $0.01 plus $0.004 in flight. Only the $0.004 is new to the session.
    await t.send({ type: 'usage.estimated', prompt_id: 'p1', model: 'm', usage: usage(0.014, 1000, 120), estimated: true });
    expect(total().dataset.estimated).toBe('true');
    expect(total().textContent).toBe('≈ 5.0k in · 300 out · $0.054 · est.');
    expect(cost().dataset.estimated).toBe('true');
    expect(cost().textContent).toBe('≈ $0.054 est.');

    // The request ends: the exact figures replace the estimate.
    await t.send({ type: 'usage.updated', prompt_id: 'p1', model: 'm', usage: usage(0.006, 1100, 110), session_total: usage(0.056, 6100, 310), today_total: usage(0.056) });
    expect(total().dataset.estimated).toBe('false');
    expect(total().textContent).toBe('6.1k in · 310 out · $0.056');
    expect(cost().dataset.estimated).toBe('false');
    expect(cost().textContent).toBe('$0.056');
    unmount(row);
    unmount(screen);
  });

  it('Changes: the files being written, then the real hunks in the same elements, reviewable', async () => {
    const t = await setup();
    await t.send({ type: 'prompt.started', prompt_id: 'p1' }, { type: 'agent.text', prompt_id: 'p1', chunk: BLOCK }, { type: 'edit.proposed', proposal: proposal(0) });
    const written = document.querySelector<HTMLElement>('[data-testid=being-written]');
    expect(written?.dataset.path).toBe('src/a.py');
    const before = written!.querySelector('[data-testid=hunk][data-hunk-id=h1]');
    expect(before).not.toBeNull();
    expect(written!.querySelector('button[data-testid=approve-hunk], [data-testid=approve-file]')).toBeNull();

    // The turn ends; the host wrote the file: the diff after it has the same hunk.
    t.host.diff = { files: [file('src/a.py', [hunk('h1', 'new()')])] };
    await t.send({ type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage(0.02, 1000, 50) }, { type: 'diff.updated', files: 1, hunks: 1, approved: 0 });
    await vi.waitFor(() => expect(document.querySelector('[data-testid=being-written]')).toBeNull());
    flushSync();
    const after = document.querySelector('[data-testid=file-diff] [data-testid=hunk][data-hunk-id=h1]');
    expect(after).toBe(before);
    expect(after!.querySelector('[data-testid=approve-hunk]')).not.toBeNull();
    t.unmountAll();
  });

  it('a tab change keeps the session open: the being-written hunk is the element the diff reuses', async () => {
    const t = await setup({ panels: false });
    // As App passes them: read through the route, a new object on every tab change.
    let route = $state.raw<{ id: string; tab: SessionTab }>({ id: 's1', tab: 'changes' });
    const screen = mount(SessionScreen, {
      target: document.body,
      props: {
        get id() {
          return route.id;
        },
        get tab() {
          return route.tab;
        },
      },
      context: t.context,
    });
    await t.send({ type: 'prompt.started', prompt_id: 'p1' }, { type: 'agent.text', prompt_id: 'p1', chunk: BLOCK }, { type: 'edit.proposed', proposal: proposal(0) });
    const before = document.querySelector('[data-testid=being-written] [data-hunk-id=h1]');
    expect(before).not.toBeNull();
    route = { id: 's1', tab: 'chat' };
    flushSync();
    route = { id: 's1', tab: 'changes' };
    flushSync();
    t.host.diff = { files: [file('src/a.py', [hunk('h1', 'new()')])] };
    await t.send({ type: 'prompt.finished', prompt_id: 'p1', state: 'done', usage: usage() }, { type: 'diff.updated', files: 1, hunks: 1, approved: 0 });
    await vi.waitFor(() => expect(document.querySelector('[data-testid=file-diff] [data-hunk-id=h1]')).toBe(before));
    // Opened once: the tab changes fetched nothing again.
    expect(t.host.calls.filter((c) => c === '/sessions/s1/snapshot')).toHaveLength(1);
    unmount(screen);
  });
});
