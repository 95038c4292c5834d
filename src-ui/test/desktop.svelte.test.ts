// @vitest-environment happy-dom
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { givenCredentials } from '../src/lib/client/credentials';
import type { FetchLike, HostCredentials } from '../src/lib/client/rest';
import type { AppError, DesktopState } from '../src/lib/desktop/bindings';
import { isDesktopApp } from '../src/lib/desktop/detect';
import { DesktopError, DesktopStore } from '../src/lib/desktop/desktop.svelte';
import { DesktopShell, followNavigation } from '../src/lib/desktop/shell.svelte';
import type { AppStore } from '../src/lib/store/app.svelte';
import { dailySeries } from '../src/lib/usageSeries';
import DesktopHome from '../src/desktop/DesktopHome.svelte';
import DesktopRoot from '../src/desktop/DesktopRoot.svelte';
import { router } from '../src/lib/router.svelte';
import { storeWithFakes } from './fakes';
import { session, snapshot, usage } from './fixtures';

// Screens are lazy chunks (dynamic imports): on a busy machine (CI runs builds beside the
// tests) one can take longer than vi.waitFor's default second to load.
const LAZY = { timeout: 15_000 };

const ORIGIN = 'http://127.0.0.1:48123';
const KEY = 'desktop-window-key';

function desktopState(over: Partial<DesktopState> = {}): DesktopState {
  return {
    mode: 'setup',
    tray: 'idle',
    summary: 'Choose a repository to start',
    error: null,
    data_dir: '/home/me/.local/share/arcbench',
    repos: [],
    demo: false,
    api_key: { place: 'none', keychain_available: true, env_file: '/home/me/.local/share/arcbench/env' },
    autostart: false,
    connection: null,
    host: { model: null, binds: [], insecure_lan: false, port: null },
    model: null,
    ...over,
  };
}

const running = (over: Partial<DesktopState> = {}) =>
  desktopState({ mode: 'in_process', summary: 'Running', repos: ['/home/me/project'], demo: true, connection: { origin: ORIGIN, key: KEY }, ...over });

/**
 * The desktop app behind Tauri's IPC (mockIPC): answers the commands from its state, refuses
 * what the test tells it to, and emits `desktop-changed` like the real one.
 */
function fakeDesktop(initial: DesktopState) {
  const app = {
    state: initial,
    calls: [] as { cmd: string; args: Record<string, unknown> }[],
    /** What a command is refused with: the app's AppError, or the IPC layer's string or Error. */
    refuse: {} as Record<string, AppError | string | Error>,
    /** Emits a new state, as the app does on every change. */
    async change(next: DesktopState) {
      app.state = next;
      await emit('desktop-changed', next);
    },
  };
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      app.calls.push({ cmd, args });
      const refusal = app.refuse[cmd];
      if (refusal) throw refusal;
      switch (cmd) {
        case 'get_state':
          return app.state;
        case 'choose_repository':
          app.state = { ...app.state, repos: [String(args.path), ...app.state.repos] };
          return app.state;
        case 'save_api_key':
          app.state = { ...app.state, api_key: { ...app.state.api_key, place: args.place as DesktopState['api_key']['place'] } };
          return app.state;
        case 'set_demo':
          app.state = { ...app.state, demo: Boolean(args.on) };
          return app.state;
        case 'set_host_options': {
          const host = args.options as DesktopState['host'];
          app.state = { ...app.state, host, model: host.model ?? 'claude-sonnet-4-5' };
          return app.state;
        }
        case 'start_host':
          app.state = running({ repos: app.state.repos, demo: app.state.demo, api_key: app.state.api_key });
          return app.state;
        case 'plugin:dialog|open':
          return '/home/me/picked';
        case 'create_pairing_code':
          return { code: '7KQ3-M9XD-2HVB', expires_at: new Date(Date.now() + 300_000).toISOString(), links: ['https://desk.example.ts.net:8000/app/#/pair?code=7KQ3-M9XD-2HVB'], qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"/>' };
        case 'open_worktree':
          return null;
        default:
          throw `unknown command ${cmd}`;
      }
    },
    { shouldMockEvents: true },
  );
  return app;
}

/** A host behind fetch for the dashboard's store: answers by route, records the Authorization header. */
function fakeHost(agent: { state: string; detail: string } = { state: 'installing', detail: 'Collecting aider-chat' }) {
  const seen: { url: string; auth: string | null }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    seen.push({ url, auth: headers.Authorization ?? null });
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    if (url.endsWith('/sessions')) return json(200, { sessions: [session('s1')], last_seq: 0 });
    if (url.endsWith('/sessions/s1/snapshot')) return json(200, snapshot({ last_seq: 0 }));
    if (url.endsWith('/sessions/s1/diff')) return json(200, { files: [] });
    if (url.endsWith('/sessions/s1/history')) return json(200, { rounds: [], pending_notes: [] });
    if (url.endsWith('/devices')) return json(200, { devices: [] });
    if (url.endsWith('/status')) {
      return json(200, { name: 'arcbench', version: '0', demo: true, repos: ['/home/me/project'], agent: { kind: 'aider', available: false, version: null, ...agent }, sessions_active: 0 });
    }
    return json(404, { code: 'not_found', message: url });
  };
  return { seen, fetch };
}

function shellOver(made: HostCredentials[] = [], host = fakeHost()) {
  const apps: AppStore[] = [];
  /** Per store made: whether the host ran in the app (its IPC client) or not (HTTP). */
  const inProcess: boolean[] = [];
  const shell = new DesktopShell(new DesktopStore(), {
    makeApp: (creds, inApp) => {
      made.push(creds);
      inProcess.push(inApp);
      const { app } = storeWithFakes(host.fetch, { credentials: givenCredentials(creds) });
      vi.spyOn(app, 'start');
      vi.spyOn(app, 'stop');
      apps.push(app);
      return app;
    },
  });
  return { shell, host, apps, made, inProcess };
}

const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
/** The set-up screen's error line next to one control. */
const errorFor = (control: string) => document.querySelector<HTMLElement>(`[data-testid=setup-error][data-for="${control}"]`);

afterEach(() => {
  clearMocks();
  localStorage.clear();
  document.body.innerHTML = '';
});

describe('DesktopStore', () => {
  it('reads the state, follows desktopChanged, and turns refusals into typed errors', async () => {
    const app = fakeDesktop(desktopState());
    const desktop = new DesktopStore();
    await desktop.start();
    expect(desktop.state?.mode).toBe('setup');

    await app.change(desktopState({ mode: 'starting' }));
    await vi.waitFor(() => expect(desktop.state?.mode).toBe('starting'), LAZY);

    app.refuse.save_api_key = { code: 'invalid_api_key', message: 'That is not an Anthropic API key (they start with sk-ant-).' };
    const refused = await desktop.saveApiKey('  nonsense ', 'keychain').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DesktopError);
    expect((refused as DesktopError).code).toBe('invalid_api_key');
    expect((refused as DesktopError).message).toMatch(/not an Anthropic API key/);
    expect(app.calls.find((c) => c.cmd === 'save_api_key')?.args).toEqual({ key: 'nonsense', place: 'keychain' });

    // The IPC layer's own refusals are bare strings: still a DesktopError, never a crash.
    app.refuse.pause_host = 'command pause_host not allowed by ACL';
    const broken = await desktop.pauseHost().catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(DesktopError);
    expect((broken as DesktopError).code).toBe('internal');
    expect((broken as DesktopError).message).toBe('command pause_host not allowed by ACL');
    app.refuse.set_demo = new Error('the IPC bridge is gone');
    const gone = await desktop.setDemo(true).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(DesktopError);
    expect((gone as DesktopError).code).toBe('internal');
  });

  it('keeps an event that overtook a command’s answer', async () => {
    fakeDesktop(desktopState());
    const desktop = new DesktopStore();
    await desktop.start();
    // The command answers `setup` + the repo; meanwhile the app already said it is starting.
    const answer = desktop.chooseRepository('/home/me/project');
    await emit('desktop-changed', desktopState({ mode: 'starting', repos: ['/home/me/project'] }));
    await answer;
    expect(desktop.state?.mode).toBe('starting');
  });
});

describe('DesktopShell: the window’s start-up', () => {
  it('shows the desktop screen while there is no connection, and makes no store', async () => {
    fakeDesktop(desktopState());
    const t = shellOver();
    expect(t.shell.view).toBe('loading');
    await t.shell.start();
    expect(t.shell.view).toBe('home');
    expect(t.made).toEqual([]);
    expect(isDesktopApp()).toBe(true);
  });

  it('starts the dashboard’s store with the connection’s credentials, kept nowhere', async () => {
    const app = fakeDesktop(desktopState({ repos: ['/home/me/project'], demo: true }));
    const t = shellOver();
    await t.shell.start();
    await app.change(running());
    await vi.waitFor(() => expect(t.shell.view).toBe('dashboard'), LAZY);
    expect(t.made).toEqual([{ origin: ORIGIN, key: KEY, deviceId: null }]);
    const store = t.apps[0]!;
    expect(store.creds).toEqual({ origin: ORIGIN, key: KEY, deviceId: null });
    expect(store.start).toHaveBeenCalledTimes(1);
    // The same REST client the phone uses, against the loopback host, with the app's key.
    await vi.waitFor(() => expect(t.host.seen.some((r) => r.url === `${ORIGIN}/sessions`)).toBe(true), LAZY);
    expect(t.host.seen.every((r) => r.auth === `Bearer ${KEY}`)).toBe(true);
    // Never written to this webview's storage: the app hands them over at every start.
    expect(localStorage.length).toBe(0);
  });

  it('stops on pause, resumes the same store, and makes a new one for a new connection', async () => {
    const app = fakeDesktop(running());
    const t = shellOver();
    await t.shell.start();
    expect(t.shell.view).toBe('dashboard');
    const first = t.apps[0]!;

    await app.change(running({ mode: 'paused', tray: 'paused', connection: null }));
    await vi.waitFor(() => expect(t.shell.view).toBe('home'), LAZY);
    expect(first.stop).toHaveBeenCalled();

    await app.change(running());
    await vi.waitFor(() => expect(t.shell.view).toBe('dashboard'), LAZY);
    expect(t.apps).toHaveLength(1);
    expect(first.start).toHaveBeenCalledTimes(2);

    await app.change(running({ connection: { origin: 'http://127.0.0.1:50000', key: 'another-key' } }));
    await vi.waitFor(() => expect(t.apps).toHaveLength(2), LAZY);
    expect(t.made[1]).toEqual({ origin: 'http://127.0.0.1:50000', key: 'another-key', deviceId: null });
    expect(t.shell.app).toBe(t.apps[1]);

    // The same address, now a service the app attached to: a new store, over HTTP this time.
    await app.change(running({ mode: 'attached', connection: { origin: 'http://127.0.0.1:50000', key: 'another-key' } }));
    await vi.waitFor(() => expect(t.apps).toHaveLength(3), LAZY);
    expect(t.inProcess).toEqual([true, true, false]);
  });

  it('goes where the tray and notifications say', async () => {
    fakeDesktop(desktopState());
    const went: string[] = [];
    const off = await followNavigation((hash) => went.push(hash));
    await emit('show-pairing', null);
    await emit('open-session', { session_id: 's 1' });
    await vi.waitFor(() => expect(went).toEqual(['#/pair', '#/s/s%201']), LAZY);
    off();
  });
});

describe('the desktop set-up / status screen', () => {
  async function screen(initial: DesktopState) {
    const app = fakeDesktop(initial);
    const t = shellOver();
    await t.shell.start();
    const component = mount(DesktopHome, { target: document.body, props: { shell: t.shell } });
    flushSync();
    return { app, ...t, component };
  }

  const click = (id: string) => {
    const el = byTestId(id);
    if (!el) throw new Error(`no [data-testid=${id}] on screen`);
    el.click();
  };

  const type = (id: string, text: string) => {
    const el = byTestId(id) as HTMLInputElement;
    el.value = text;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  };

  it('shows the first run’s form without a connection (not the pair screen)', async () => {
    const t = await screen(desktopState());
    expect(byTestId('desktop-setup')).not.toBeNull();
    for (const id of ['repo-choose', 'repo-path', 'repo-add', 'api-key', 'api-key-save', 'demo-toggle', 'start-host']) expect(byTestId(id), id).not.toBeNull();
    expect(byTestId('desktop-status')).toBeNull();
    expect(document.body.textContent).toContain('Try the demo (no API key; a local stand-in answers, no Claude calls)');

    // Not a repository: the app's words next to the path, the path kept for an edit.
    t.app.refuse.choose_repository = { code: 'not_a_git_repo', message: '/tmp/notes is not a git repository (git init, then commit once).' };
    type('repo-path', '/tmp/notes');
    click('repo-add');
    await vi.waitFor(() => expect(errorFor('repo')?.textContent).toMatch(/not a git repository/), LAZY);
    expect(errorFor('repo')?.dataset.code).toBe('not_a_git_repo');
    expect((byTestId('repo-path') as HTMLInputElement).value).toBe('/tmp/notes');
    delete t.app.refuse.choose_repository;

    click('repo-choose');
    await vi.waitFor(() => expect(t.app.calls.filter((c) => c.cmd === 'choose_repository').at(-1)?.args).toEqual({ path: '/home/me/picked' }), LAZY);
    await vi.waitFor(() => expect(byTestId('repo-list')?.textContent).toContain('/home/me/picked'), LAZY);
    unmount(t.component);
  });

  it('shows a refused key’s message next to the key, and keeps working', async () => {
    const t = await screen(desktopState({ repos: ['/home/me/project'] }));
    t.app.refuse.save_api_key = { code: 'invalid_api_key', message: 'That is not an Anthropic API key (they start with sk-ant-).' };
    type('api-key', 'hello');
    click('api-key-save');
    await vi.waitFor(() => expect(errorFor('api-key')?.textContent).toBe('That is not an Anthropic API key (they start with sk-ant-).'), LAZY);
    expect(document.querySelectorAll('[data-testid=setup-error]')).toHaveLength(1);

    // The next try goes through; the error goes, the field is emptied.
    delete t.app.refuse.save_api_key;
    type('api-key', 'sk-ant-api03-good');
    click('api-key-save');
    await vi.waitFor(() => expect(errorFor('api-key')).toBeNull(), LAZY);
    expect((byTestId('api-key') as HTMLInputElement).value).toBe('');
    expect(t.app.calls.filter((c) => c.cmd === 'save_api_key').at(-1)?.args).toEqual({ key: 'sk-ant-api03-good', place: 'keychain' });

    // Start refused: its message beside Start.
    t.app.refuse.start_host = { code: 'port_taken', message: 'Port 8000 is used by another program.' };
    click('start-host');
    await vi.waitFor(() => expect(errorFor('start-host')?.textContent).toBe('Port 8000 is used by another program.'), LAZY);
    unmount(t.component);
  });

  it('offers the private env file when there is no keychain', async () => {
    const t = await screen(desktopState({ api_key: { place: 'none', keychain_available: false, env_file: '/home/me/.local/share/arcbench/env' } }));
    expect(byTestId('api-key-save')).toBeNull();
    expect(byTestId('no-keychain')).not.toBeNull();
    expect(byTestId('api-key-env-file')?.textContent).toContain('/home/me/.local/share/arcbench/env');
    type('api-key', 'sk-ant-api03-good');
    click('api-key-env-file');
    await vi.waitFor(() => expect(t.app.calls.find((c) => c.cmd === 'save_api_key')?.args).toEqual({ key: 'sk-ant-api03-good', place: 'env_file' }), LAZY);
    unmount(t.component);
  });

  it('shows Paused with Resume when the app says so, and resumes', async () => {
    const t = await screen(running());
    await t.app.change(running({ mode: 'paused', tray: 'paused', summary: 'Paused', connection: null }));
    await vi.waitFor(() => expect(byTestId('desktop-status')?.dataset.mode).toBe('paused'), LAZY);
    expect(byTestId('desktop-status')?.textContent).toContain('Paused');
    expect(byTestId('desktop-setup')).toBeNull();
    click('resume-host');
    await vi.waitFor(() => expect(t.app.calls.some((c) => c.cmd === 'start_host')).toBe(true), LAZY);
    await vi.waitFor(() => expect(t.shell.view).toBe('dashboard'), LAZY);
    unmount(t.component);
  });

  it('shows why the host failed, with the form to fix it', async () => {
    const t = await screen(desktopState({ mode: 'failed', repos: ['/home/me/project'], error: { code: 'config', message: 'config.toml: unknown key `prot`' } }));
    expect(byTestId('host-error')?.textContent).toBe('config.toml: unknown key `prot`');
    expect(byTestId('desktop-setup')).not.toBeNull();
    unmount(t.component);
  });
});

describe('the dashboard in the desktop window', () => {
  it('has the desktop pieces: agent install, settings, pairing by the app, Open worktree', { timeout: 60_000 }, async () => {
    const app = fakeDesktop(running());
    const t = shellOver();
    await t.shell.start();
    router.replace('#/');
    const component = mount(DesktopRoot, { target: document.body, props: { shell: t.shell } });
    flushSync();
    expect(byTestId('desktop-setup')).toBeNull();
    expect(document.querySelector('.topbar')).not.toBeNull();
    // The host's agent is installing: said on every screen, with the host's progress line.
    await vi.waitFor(() => expect(byTestId('agent-state')?.dataset.state).toBe('installing'), LAZY);
    expect(byTestId('agent-state')?.textContent).toContain('Collecting aider-chat');

    router.replace('#/settings');
    await vi.waitFor(() => expect(byTestId('desktop-settings')).not.toBeNull(), LAZY);
    expect(byTestId('pause-host')).not.toBeNull();
    expect(byTestId('autostart-toggle')).not.toBeNull();
    expect(document.body.textContent).not.toContain('Forget this host');

    router.replace('#/pair');
    await vi.waitFor(() => expect(byTestId('desktop-pair-code')?.textContent).toBe('7KQ3-M9XD-2HVB'), LAZY);
    expect(byTestId('desktop-pair')?.querySelector('img.qr')).not.toBeNull();

    router.replace('#/s/s1');
    await vi.waitFor(() => expect(byTestId('open-worktree')).not.toBeNull(), LAZY);
    byTestId('open-worktree')!.click();
    await vi.waitFor(() => expect(app.calls.find((c) => c.cmd === 'open_worktree')?.args).toEqual({ sessionId: 's1' }), LAZY);

    unmount(component);
    router.replace('#/');
  });

  it('says when the agent could not be installed, with why, and keeps working', { timeout: 60_000 }, async () => {
    fakeDesktop(running());
    const t = shellOver([], fakeHost({ state: 'failed', detail: 'pip: no matching distribution for aider-chat==0.86.2' }));
    await t.shell.start();
    router.replace('#/');
    const component = mount(DesktopRoot, { target: document.body, props: { shell: t.shell } });
    await vi.waitFor(() => expect(byTestId('agent-state')?.dataset.state).toBe('failed'), LAZY);
    expect(byTestId('agent-state')?.textContent).toContain('could not be installed');
    expect(byTestId('agent-state')?.textContent).toContain('no matching distribution');
    // The dashboard is still there to use (sessions, settings).
    expect(byTestId('new-session')).not.toBeNull();
    unmount(component);
  });

  it('sets the host’s model, addresses and port; a refusal is shown and nothing is lost', { timeout: 60_000 }, async () => {
    const app = fakeDesktop(running({ model: 'claude-sonnet-4-5' }));
    const t = shellOver();
    await t.shell.start();
    router.replace('#/settings');
    const component = mount(DesktopRoot, { target: document.body, props: { shell: t.shell } });
    await vi.waitFor(() => expect(byTestId('host-options')).not.toBeNull(), LAZY);
    expect(byTestId('host-model-now')?.textContent).toBe('claude-sonnet-4-5');
    const set = (id: string, value: string) => {
      const field = byTestId(id) as HTMLInputElement | HTMLTextAreaElement;
      field.value = value;
      field.dispatchEvent(new Event('input', { bubbles: true }));
    };
    const submit = () => (byTestId('host-options') as HTMLFormElement).requestSubmit();

    // A port that is none: said next to the form, nothing sent.
    set('host-port', '70000');
    flushSync();
    submit();
    await vi.waitFor(() => expect(byTestId('host-options-error')?.textContent).toContain('70000'));
    expect(app.calls.some((c) => c.cmd === 'set_host_options')).toBe(false);

    // The host's rules refuse a LAN address: the app's message, the fields kept.
    app.refuse.set_host_options = { code: 'config', message: 'refusing to listen on 192.0.2.7: it is neither loopback nor a tailnet address' };
    set('host-port', '');
    set('host-model', ' claude-haiku-4-5 ');
    set('host-binds', '127.0.0.1, 192.0.2.7');
    flushSync();
    submit();
    await vi.waitFor(() => expect(byTestId('host-options-error')?.textContent).toContain('192.0.2.7'));
    expect((byTestId('host-binds') as HTMLTextAreaElement).value).toBe('127.0.0.1, 192.0.2.7');

    delete app.refuse.set_host_options;
    set('host-binds', '127.0.0.1\n100.64.0.7');
    flushSync();
    submit();
    await vi.waitFor(() => expect(byTestId('host-options-saved')).not.toBeNull());
    expect(app.calls.at(-1)).toEqual({
      cmd: 'set_host_options',
      args: { options: { model: 'claude-haiku-4-5', binds: ['127.0.0.1', '100.64.0.7'], insecure_lan: false, port: null } },
    });
    expect(byTestId('host-options-error')).toBeNull();
    unmount(component);
    router.replace('#/');
  });
});

describe('usage per day for the chart', () => {
  it('fills the days without usage and puts today’s live total last', () => {
    const now = Date.UTC(2026, 10, 24, 15);
    const s = dailySeries([{ id: '2026-11-22', ...usage(1.5, 1000, 200) }, { id: '2026-11-24', ...usage(0.1) }], usage(0.4, 10, 5), now, 3);
    expect(s.x.map((x) => new Date(x * 1000).toISOString().slice(0, 10))).toEqual(['2026-11-22', '2026-11-23', '2026-11-24']);
    expect(s.cost).toEqual([1.5, 0, 0.4]);
    expect(s.tokens).toEqual([1200, 0, 15]);
  });
});
