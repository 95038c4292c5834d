// @vitest-environment happy-dom
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Diff, Status } from '../src/lib/bindings';
import { givenCredentials, type CredentialStore } from '../src/lib/client/credentials';
import { describePairingError } from '../src/lib/client/pairing';
import type { FetchLike, HostCredentials } from '../src/lib/client/rest';
import type { OutboxEntry } from '../src/lib/outbox/outbox';
import { HostsStore } from '../src/lib/remote/hosts.svelte';
import { NativeRemote, RemoteFailure, type RemoteCommands } from '../src/lib/remote/native';
import { NoticeChoices } from '../src/lib/remote/notices.svelte';
import { nativeOutboxStorage } from '../src/lib/remote/outbox';
import type { AppStore } from '../src/lib/store/app.svelte';
import type { ReviewFeedback } from '../src/lib/store/review.svelte';
import { router } from '../src/lib/router.svelte';
import RemoteRoot from '../src/remote/RemoteRoot.svelte';
import { storeWithFakes, type FakeSocket } from './fakes';
import { session } from './fixtures';
import { FakeRemoteApp } from './remoteFakes';

const A = 'http://a.test:8000';
const B = 'http://b.test:8000';
const C = 'http://c.test:8000';
const CODE = '7KQ3-M9XD-2HVB';

function status(active: number): Status {
  return {
    name: 'arcbench',
    version: '0',
    demo: false,
    repos: ['r'],
    agent: { kind: 'aider', available: true, version: null, state: 'ready' },
    sessions_active: active,
    transcriber: { state: 'off', model: 'bundled', detail: null },
    mesh: { tailscale: 'absent', dns_name: null, ips: [], https_url: null, urls: [], hint: null },
  };
}

/**
 * Hosts behind fetch, by origin: each knows its keys, answers /status with its active sessions,
 * redeems pairing codes, and can be down (no answer at all).
 */
function fakeHosts() {
  const hosts = new Map<string, { keys: Set<string>; active: number; down: boolean; revokedDevices: string[] }>();
  const add = (origin: string, key: string, active = 0) => hosts.set(origin, { keys: new Set([key]), active, down: false, revokedDevices: [] });
  const fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    const host = hosts.get(u.origin);
    if (!host || host.down) throw new TypeError('Failed to fetch');
    const json = (s: number, body: unknown) => new Response(JSON.stringify(body), { status: s });
    if (u.pathname === '/pair') {
      const key = `key-for-${u.host}-${host.keys.size}`;
      host.keys.add(key);
      return json(201, { device: { id: 'dev-phone', name: 'Phone', created_at: 't', last_seen_at: null }, key });
    }
    const auth = ((init.headers ?? {}) as Record<string, string>).Authorization?.replace('Bearer ', '') ?? '';
    if (!host.keys.has(auth)) return json(401, { code: 'unauthorized', message: 'unknown or revoked key' });
    if (u.pathname === '/status') return json(200, status(host.active));
    if (u.pathname === '/sessions') return json(200, { sessions: [session('s1')], last_seq: 1 });
    if (u.pathname.startsWith('/devices/') && init.method === 'DELETE') {
      host.revokedDevices.push(u.pathname.slice('/devices/'.length));
      host.keys.delete(auth);
      return json(200, { id: 'dev-phone', name: 'Phone', created_at: 't', last_seen_at: null });
    }
    return json(404, { code: 'not_found', message: u.pathname });
  };
  return { hosts, add, fetch };
}

/** The phone app: its native side (fake), the hosts on the network, and the HostsStore over both. */
function phone(seed: (native: FakeRemoteApp, net: ReturnType<typeof fakeHosts>) => void) {
  const native = new FakeRemoteApp();
  const net = fakeHosts();
  seed(native, net);
  const made: { app: AppStore; sockets: FakeSocket[] }[] = [];
  const switched = vi.fn();
  const remote = new NativeRemote(native);
  const hosts = new HostsStore({
    native: remote,
    fetch: net.fetch,
    onSwitched: switched,
    makeApp: (credentials) => {
      const t = storeWithFakes(net.fetch, {
        credentials,
        outboxStorage: async () => nativeOutboxStorage(remote, credentials.hostId ?? 'none'),
      });
      made.push(t);
      return t.app;
    },
  });
  return { native, remote, net, hosts, made, switched, last: () => made[made.length - 1]! };
}

const entry = (id: string, origin: string, at: number): OutboxEntry => ({
  client_id: id,
  session_id: 's1',
  origin,
  text: `prompt ${id}`,
  created_at: at,
  state: 'queued',
  error: null,
  attempts: 0,
});

/** Queues a prompt once the store's outbox is open (its start opens it, unawaited by the shell). */
const queue = (app: AppStore, text: string) => vi.waitFor(() => app.outbox.send('s1', text));

afterEach(() => vi.useRealTimers());

describe('the native adapter', () => {
  it('answers the value, and refusals as RemoteFailure with the app’s code and words', async () => {
    const app = new FakeRemoteApp();
    const native = new NativeRemote(app);
    expect((await native.platform()).haptics).toBe(true);
    app.refuse.hosts = { code: 'storage', message: 'The disk is full.' };
    const e = await native.hosts().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteFailure);
    expect(e).toMatchObject({ code: 'storage', message: 'The disk is full.' });
    const missing = await native.hostCredentials('nope').catch((x: unknown) => x);
    expect(missing).toMatchObject({ code: 'not_found' });
  });

  it('a failure of the bridge itself is an `ipc` failure, whatever shape it came in', async () => {
    const thrown = { ...new FakeRemoteApp(), hosts: async () => Promise.reject(new Error('command hosts not allowed')) } as unknown as RemoteCommands;
    await expect(new NativeRemote(thrown).hosts()).rejects.toMatchObject({ code: 'ipc', message: 'command hosts not allowed' });
    const bare = { hosts: async () => ({ status: 'error', error: 'ipc went away' }) } as unknown as RemoteCommands;
    await expect(new NativeRemote(bare).hosts()).rejects.toMatchObject({ code: 'ipc', message: 'ipc went away' });
  });
});

describe('the native outbox', () => {
  it('keeps each host’s prompts apart, oldest first, and removes them', async () => {
    const app = new FakeRemoteApp();
    const a = app.seed(A, 'ka');
    const b = app.seed(B, 'kb');
    const native = new NativeRemote(app);
    const sa = nativeOutboxStorage(native, a.id);
    const sb = nativeOutboxStorage(native, b.id);
    await sa.put(entry('p2', A, 20));
    await sa.put(entry('p1', A, 10));
    await sb.put(entry('q1', B, 5));
    expect((await sa.all()).map((e) => e.client_id)).toEqual(['p1', 'p2']);
    expect(await sb.all()).toEqual([entry('q1', B, 5)]);
    await sa.put({ ...entry('p1', A, 10), state: 'failed', error: 'budget', attempts: 1 });
    expect((await sa.all())[0]).toMatchObject({ state: 'failed', error: 'budget', attempts: 1 });
    await sa.remove('p1');
    expect((await sa.all()).map((e) => e.client_id)).toEqual(['p2']);
  });

  it('a prompt for another host is refused, typed', async () => {
    const app = new FakeRemoteApp();
    const a = app.seed(A, 'ka');
    const err = await nativeOutboxStorage(new NativeRemote(app), a.id)
      .put(entry('x', B, 1))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_request' });
    expect(err).toBeInstanceOf(RemoteFailure);
  });

  it('the AppStore queues prompts in the shown host’s native outbox', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    const app = t.last().app;
    await queue(app, 'hello from the phone');
    const kept = [...(t.native.outboxes.get('h1')?.values() ?? [])];
    expect(kept.map((e) => [e.text, e.origin])).toEqual([['hello from the phone', A]]);
  });
});

describe('HostsStore', () => {
  it('shows the selected host with its credentials, and probes every host', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      n.seed(C, 'kc');
      n.state.selected = 'h2';
      net.add(A, 'ka', 2);
      net.add(B, 'other-key'); // this phone's key was revoked there
      net.add(C, 'kc');
      net.hosts.get(C)!.down = true;
    });
    await t.hosts.start();
    expect(t.hosts.list.map((h) => h.origin)).toEqual([A, B, C]);
    expect(t.hosts.selected).toBe('h2');
    expect(t.hosts.app?.creds).toEqual({ origin: B, key: 'kb', deviceId: null });
    await vi.waitFor(() => expect(Object.keys(t.hosts.states)).toHaveLength(3));
    expect(t.hosts.stateOf('h1')).toEqual({ kind: 'reachable', active: 2 });
    expect(t.hosts.stateOf('h2')).toEqual({ kind: 'revoked' });
    expect(t.hosts.stateOf('h3')).toEqual({ kind: 'unreachable' });
    // A probe never unpairs: the host stays listed and its key kept.
    expect(t.native.keys.get('h2')).toBe('kb');
  });

  it('switches: selected natively, the old store stopped, a new one for the other host', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      net.add(A, 'ka');
      net.add(B, 'kb', 1);
    });
    await t.hosts.start();
    const first = t.last().app;
    const stop = vi.spyOn(first, 'stop');
    await t.hosts.select('h2');
    expect(t.native.state.selected).toBe('h2');
    expect(stop).toHaveBeenCalled();
    expect(t.hosts.app).not.toBe(first);
    expect(t.hosts.app?.creds?.origin).toBe(B);
    expect(t.switched).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(t.hosts.stateOf('h2')).toEqual({ kind: 'reachable', active: 1 }));
  });

  it('a switch the app refuses leaves the store as it was and says why', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    const first = t.hosts.app;
    t.native.refuse.selectHost = { code: 'storage', message: 'The app’s storage is read-only.' };
    await t.hosts.select('h2');
    expect(t.hosts.app).toBe(first);
    expect(t.hosts.selected).toBe('h1');
    expect(t.hosts.error).toBe('The app’s storage is read-only.');
  });

  it('renames a host: kept natively, listed with the app’s answer, the store on screen untouched', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    const shown = t.hosts.app;
    expect(await t.hosts.rename('h2', '  Build box  ')).toBe(true);
    expect(t.native.state.hosts.find((h) => h.id === 'h2')?.name).toBe('Build box');
    expect(t.hosts.list.map((h) => h.name)).toEqual(['a.test', 'Build box']);
    expect(t.hosts.app).toBe(shown);
    expect(t.switched).not.toHaveBeenCalled();
    expect(t.hosts.error).toBeNull();
    expect(t.hosts.busy).toBe(false);
  });

  it('a name the app refuses changes nothing and says why in its words', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    expect(await t.hosts.rename('h1', '   ')).toBe(false);
    expect(t.hosts.error).toBe("A host's name is 1 to 60 characters, on one line.");
    expect(t.hosts.list.map((h) => h.name)).toEqual(['a.test']);
    expect(await t.hosts.rename('gone', 'X')).toBe(false);
    expect(t.hosts.error).toBe('This device is not paired with that host (any more).');
    // The next action clears it.
    expect(await t.hosts.rename('h1', 'Desk')).toBe(true);
    expect(t.hosts.error).toBeNull();
  });

  it('forgets a host: revoked on the host, gone natively, and the next host shown', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka', { device_id: 'dev-phone' });
      n.seed(B, 'kb');
      net.add(A, 'ka');
      net.add(B, 'kb');
    });
    await t.hosts.start();
    await t.hosts.forget('h1');
    expect(t.net.hosts.get(A)!.revokedDevices).toEqual(['dev-phone']);
    expect(t.native.state.hosts.map((h) => h.id)).toEqual(['h2']);
    expect(t.native.keys.has('h1')).toBe(false);
    expect(t.hosts.list.map((h) => h.id)).toEqual(['h2']);
    expect(t.hosts.app?.creds?.origin).toBe(B);
    expect(t.hosts.states.h1).toBeUndefined();
    expect(t.switched).toHaveBeenCalled();
  });

  it('forgetting the last host leaves the pair screen', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    expect(await t.hosts.forget('h1')).toBe(true);
    expect(t.hosts.list).toEqual([]);
    expect(t.hosts.app?.paired).toBe(false);
  });

  it('pairs another host: listed and selected once the app kept it, with its own outbox', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      net.add(A, 'ka');
      net.add(B, 'unused');
    });
    await t.hosts.start();
    t.hosts.pairAnother();
    expect(t.hosts.pairing).toBe(true);
    const app = t.hosts.app!;
    expect(app.paired).toBe(false);
    await app.pair({ kind: 'code', origin: B, code: CODE }, 'Phone');
    expect(app.paired).toBe(true);
    expect(app.creds).toMatchObject({ origin: B, deviceId: 'dev-phone' });
    expect(t.native.state.hosts.map((h) => h.origin)).toEqual([A, B]);
    expect(t.hosts.list.map((h) => h.origin)).toEqual([A, B]);
    expect(t.hosts.selected).toBe('h2');
    expect(t.hosts.pairing).toBe(false);
    expect(t.hosts.app).toBe(app);
    await queue(app, 'for B');
    expect(t.native.outboxes.get('h2')?.size).toBe(1);
    expect(t.native.outboxes.get('h1')).toBeUndefined();
  });

  it('a pairing the app cannot keep is no pairing: nothing listed, the app’s words shown', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      net.add(A, 'ka');
      net.add(B, 'unused');
    });
    await t.hosts.start();
    t.hosts.pairAnother();
    const app = t.hosts.app!;
    t.native.refuse.addHost = { code: 'storage', message: 'The keychain is locked: unlock the phone and pair again.' };
    const err = await app.pair({ kind: 'code', origin: B, code: CODE }, 'Phone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFailure);
    expect(describePairingError(err, B)).toBe('The keychain is locked: unlock the phone and pair again.');
    expect(app.paired).toBe(false);
    expect(t.last().sockets).toHaveLength(0);
    expect(t.native.state.hosts.map((h) => h.origin)).toEqual([A]);
    expect(t.hosts.list.map((h) => h.origin)).toEqual([A]);
    expect(t.hosts.pairing).toBe(true);
    await t.hosts.cancelPairing();
    expect(t.hosts.app?.creds?.origin).toBe(A);
  });

  it('the host on screen revoking its key keeps it listed (shown revoked) with its queued prompts', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    await queue(t.hosts.app!, 'queued before the revoke');
    t.net.hosts.get(A)!.keys.clear();
    await t.hosts.app!.devices.load();
    expect(t.hosts.app?.revoked).toEqual({ origin: A });
    expect(t.hosts.stateOf('h1')).toEqual({ kind: 'revoked' });
    expect(t.native.state.hosts).toHaveLength(1);
    expect(t.native.outboxes.get('h1')?.size).toBe(1);
  });

  it('a host whose key is gone from the phone opens the pair screen with the reason', async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.keys.delete('h1');
      net.add(A, 'ka');
    });
    await t.hosts.start();
    expect(t.hosts.app?.paired).toBe(false);
    expect(t.hosts.error).toMatch(/gone from this device/);
  });
});

describe('NoticeChoices', () => {
  it('reads the app’s choice, and saves each change at once in the host’s order', async () => {
    const app = new FakeRemoteApp();
    const choices = new NoticeChoices(new NativeRemote(app));
    expect(choices.events).toBeNull();
    await choices.load();
    expect(choices.events).toEqual(['turn_finished', 'needs_you', 'budget']);
    await choices.choose('needs_you', false);
    expect(app.notices.events).toEqual(['turn_finished', 'budget']);
    await choices.choose('needs_you', true);
    expect(app.calls.at(-1)).toBe('setNoticeSettings');
    expect(app.notices.events).toEqual(['turn_finished', 'needs_you', 'budget']);
    expect(choices.has('needs_you')).toBe(true);
  });

  it('choosing none is allowed: that is how the app’s notifications are turned off', async () => {
    const app = new FakeRemoteApp();
    app.notices = { events: ['budget'] };
    const choices = new NoticeChoices(new NativeRemote(app));
    await choices.load();
    await choices.choose('budget', false);
    expect(app.notices.events).toEqual([]);
    expect(choices.events).toEqual([]);
  });

  it('a refused save keeps the choice as the app has it, and says why', async () => {
    const app = new FakeRemoteApp();
    const choices = new NoticeChoices(new NativeRemote(app));
    await choices.load();
    app.refuse.setNoticeSettings = { code: 'storage', message: 'The app’s storage is read-only.' };
    await choices.choose('budget', false);
    expect(choices.events).toEqual(['turn_finished', 'needs_you', 'budget']);
    expect(choices.error).toBe('The app’s storage is read-only.');
    expect(choices.busy).toBe(false);
  });

  it('a failed read says why, and choosing waits for one', async () => {
    const app = new FakeRemoteApp();
    app.refuse.noticeSettings = { code: 'storage', message: 'The disk is full.' };
    const choices = new NoticeChoices(new NativeRemote(app));
    await choices.load();
    expect(choices.error).toBe('The disk is full.');
    await choices.choose('budget', false);
    expect(app.calls).toEqual(['noticeSettings']);
  });
});

describe('AppStore.pair with a store that keeps credentials asynchronously', () => {
  function hostFetch(): FetchLike {
    const net = fakeHosts();
    net.add(A, 'ka');
    return net.fetch;
  }

  it('is paired only once the credentials are kept', async () => {
    let keep!: () => void;
    const kept: HostCredentials[] = [];
    const store: CredentialStore = {
      load: () => kept.at(-1) ?? null,
      save: (c) => new Promise<void>((ok) => (keep = () => (kept.push(c), ok()))),
      forget: () => undefined,
    };
    const { app } = storeWithFakes(hostFetch(), { credentials: store });
    let done = false;
    const pairing = app.pair({ kind: 'code', origin: A, code: CODE }, 'Phone').then(() => (done = true));
    await vi.waitFor(() => expect(keep).toBeTypeOf('function'));
    expect(done).toBe(false);
    expect(app.paired).toBe(false);
    keep();
    await pairing;
    expect(app.paired).toBe(true);
    expect(app.creds?.origin).toBe(A);
  });

  it('a failing save is a failed pairing', async () => {
    const store: CredentialStore = {
      load: () => null,
      save: async () => {
        throw new Error('Could not keep the key.');
      },
      forget: () => undefined,
    };
    const { app, sockets } = storeWithFakes(hostFetch(), { credentials: store });
    await expect(app.pair({ kind: 'key', origin: A, key: 'ka' })).rejects.toThrow('Could not keep the key.');
    expect(app.paired).toBe(false);
    expect(app.status).toBeNull();
    expect(sockets).toHaveLength(0);
  });

  it('the synchronous stores pair as before', async () => {
    const store = givenCredentials({ origin: C, key: 'x' });
    const { app } = storeWithFakes(hostFetch(), { credentials: store });
    await app.pair({ kind: 'key', origin: A, key: 'ka' });
    expect(store.load()).toEqual({ origin: A, key: 'ka', deviceId: null });
    expect(app.creds?.origin).toBe(A);
  });
});

describe('review feedback', () => {
  it('ticks once the host took an approval or a rejection, never for a refused one', async () => {
    const ticks: ReviewFeedback[] = [];
    const net = fakeHosts();
    net.add(A, 'ka');
    const diff: Diff = { files: [] } as unknown as Diff;
    let refuse = false;
    const fetch: FetchLike = async (url, init) => {
      if (url.includes('/hunks/')) {
        return refuse ? new Response(JSON.stringify({ code: 'hunk_stale', message: 'moved' }), { status: 409 }) : new Response(JSON.stringify(diff), { status: 200 });
      }
      return net.fetch(url, init);
    };
    const { app } = storeWithFakes(fetch, { credentials: givenCredentials({ origin: A, key: 'ka' }), feedback: (w) => ticks.push(w) });
    await app.start();
    expect(await app.review.approve('s1', ['h1'])).toBe(true);
    expect(await app.review.reject('s1', ['h2'])).toBe(true);
    refuse = true;
    expect(await app.review.approve('s1', ['h3'])).toBe(false);
    expect(ticks).toEqual(['approve', 'reject']);
    app.stop();
  });
});

describe('the phone app’s page', () => {
  const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);

  it('lists the hosts with their state, switches, and pairs another by the native scanner', { timeout: 30_000 }, async () => {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      net.add(A, 'ka', 3);
      net.hosts.set(B, { keys: new Set(), active: 0, down: false, revokedDevices: [] });
    });
    const scans = ['https://example.com/not-arcbench', `${C}/app/#/pair?code=${CODE}`];
    const scan = vi.fn(async () => scans.shift() ?? null);
    router.replace('#/');
    await t.hosts.start();
    const component = mount(RemoteRoot, { target: document.body, props: { hosts: t.hosts, native: t.remote, scan } });
    flushSync();
    await vi.waitFor(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="remote-host"]')];
      expect(rows.map((r) => [r.dataset.hostId, r.dataset.state])).toEqual([
        ['h1', 'reachable'],
        ['h2', 'revoked'],
      ]);
    });
    expect(document.querySelector('[data-host-id="h1"]')?.textContent).toContain('3 active sessions');

    document.querySelector<HTMLButtonElement>('[data-host-id="h2"] [data-testid="remote-host-switch"]')!.click();
    // Its key was revoked there: the store says so on the pair screen, the host stays listed.
    await vi.waitFor(() => expect(byTestId('unpaired')?.textContent).toContain(B));
    expect(t.hosts.selected).toBe('h2');
    expect(t.switched).toHaveBeenCalled();
    expect(byTestId('remote-host-bar')).not.toBeNull();

    // The phone app's webview has Tauri's bridge: a link for another host pairs from there.
    Object.assign(globalThis, { __TAURI_INTERNALS__: {} });
    onTestFinished(() => void Reflect.deleteProperty(globalThis, '__TAURI_INTERNALS__'));
    byTestId('remote-pair-another')!.click();
    await vi.waitFor(() => expect(byTestId('pair-scan')).not.toBeNull());
    byTestId('pair-scan')!.click();
    await vi.waitFor(() => expect(byTestId('pair-error')?.textContent).toBe('The link has no pairing code.'));
    expect(byTestId('qr-scanner')).toBeNull(); // the page's camera never opened
    byTestId('pair-scan')!.click();
    await vi.waitFor(() => expect(byTestId('pair-code')?.textContent).toBe(CODE));
    expect(scan).toHaveBeenCalledTimes(2);

    unmount(component);
    t.hosts.stop();
    router.replace('#/');
  });
});

describe('the phone app’s Settings', () => {
  const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  const inSettings = (id: string) => document.querySelector<HTMLElement>(`[data-testid="remote-hosts"] [data-testid="${id}"]`);

  async function settings() {
    const t = phone((n, net) => {
      n.seed(A, 'ka');
      n.seed(B, 'kb');
      net.add(A, 'ka');
      net.add(B, 'kb');
    });
    await t.hosts.start();
    router.replace('#/settings');
    const component = mount(RemoteRoot, { target: document.body, props: { hosts: t.hosts, native: t.remote } });
    onTestFinished(() => {
      unmount(component);
      t.hosts.stop();
      router.replace('#/');
    });
    flushSync();
    await vi.waitFor(() => expect(byTestId('remote-hosts')).not.toBeNull());
    return t;
  }

  it('chooses which events the app notifies of, saved as each box changes', { timeout: 30_000 }, async () => {
    const t = await settings();
    const box = (kind: string) => byTestId(`remote-notice-${kind}`) as HTMLInputElement;
    await vi.waitFor(() => expect(box('turn_finished').checked).toBe(true));
    expect(byTestId('remote-notices')?.textContent).toContain('Notifications on this device');
    // The same words as the host's Web Push settings.
    expect(byTestId('remote-notices')?.textContent).toContain('The agent needs you');
    box('budget').click();
    await vi.waitFor(() => expect(t.native.notices.events).toEqual(['turn_finished', 'needs_you']));
    expect(box('budget').checked).toBe(false);

    t.native.refuse.setNoticeSettings = { code: 'storage', message: 'The app’s storage is read-only.' };
    box('needs_you').click();
    await vi.waitFor(() => expect(byTestId('remote-notices-error')?.textContent).toBe('The app’s storage is read-only.'));
    // Refused: the box shows what the app kept.
    expect(box('needs_you').checked).toBe(true);
  });

  it('renames a host inline: Enter saves, Escape cancels, a refusal is shown', { timeout: 30_000 }, async () => {
    const t = await settings();
    const row = () => document.querySelector<HTMLElement>('[data-testid="remote-hosts"] [data-host-id="h2"]')!;
    const rename = () => row().querySelector<HTMLButtonElement>('[data-testid="remote-host-rename"]')!;
    const input = () => row().querySelector<HTMLInputElement>('[data-testid="remote-host-name-input"]');
    const type = (value: string) => {
      input()!.value = value;
      input()!.dispatchEvent(new Event('input', { bubbles: true }));
    };

    rename().click();
    flushSync();
    expect(input()?.value).toBe('b.test');
    expect(document.activeElement).toBe(input());
    type('Nope');
    input()!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    flushSync();
    expect(input()).toBeNull();
    expect(t.native.calls).not.toContain('renameHost');

    rename().click();
    flushSync();
    type(' ');
    row().querySelector<HTMLButtonElement>('[data-testid="remote-host-name-save"]')!.click();
    await vi.waitFor(() => expect(inSettings('remote-hosts-error')?.textContent).toBe("A host's name is 1 to 60 characters, on one line."));
    expect(input()).not.toBeNull();

    type('Build box');
    // Enter in the field submits its form.
    input()!.form!.requestSubmit();
    await vi.waitFor(() => expect(input()).toBeNull());
    expect(row().querySelector('strong')?.textContent).toBe('Build box');
    expect(t.native.state.hosts.find((h) => h.id === 'h2')?.name).toBe('Build box');
    expect(inSettings('remote-hosts-error')).toBeNull();
  });
});
