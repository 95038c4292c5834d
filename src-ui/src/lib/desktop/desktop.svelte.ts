import type { UnlistenFn } from '@tauri-apps/api/event';
import { ApiFailure } from '../client/errors';
import { commands, events, type ApiError, type AppError, type Code, type DesktopState, type HostOptions, type KeyPlace, type PairingCode } from './bindings';

/** What every generated command answers (tauri-specta's result mode). */
type CommandResult<T> = { status: 'ok'; data: T } | { status: 'error'; error: AppError };

/** A command the desktop app refused: `code` to branch on, the message (its own words) to show. */
export class DesktopError extends Error {
  readonly code: Code;

  constructor(error: AppError) {
    super(error.message);
    this.name = 'DesktopError';
    this.code = error.code;
  }
}

/**
 * A command's result as a value or a `DesktopError`. The IPC layer itself fails with a bare
 * string or an Error (a command missing from the capability, a panic): that is the app's fault,
 * not the user's, and becomes an `internal` error with the text Tauri gave.
 */
export async function unwrap<T>(call: Promise<CommandResult<T>>): Promise<T> {
  let r: CommandResult<T>;
  try {
    r = await call;
  } catch (e) {
    throw new DesktopError({ code: 'internal', message: e instanceof Error ? e.message : String(e) });
  }
  if (r.status === 'ok') return r.data;
  const e: unknown = r.error;
  if (typeof e === 'object' && e !== null && 'code' in e && 'message' in e) throw new DesktopError(e as AppError);
  throw new DesktopError({ code: 'internal', message: typeof e === 'string' ? e : 'The desktop app did not answer.' });
}

/**
 * A host API command's result (the generated commands over the host's API): its value, or the
 * same `ApiFailure` the HTTP client throws, with the API's own code.
 */
export async function unwrapApi<T>(call: Promise<{ status: 'ok'; data: T } | { status: 'error'; error: ApiError }>): Promise<T> {
  let r;
  try {
    r = await call;
  } catch (e) {
    throw new ApiFailure(0, { code: 'internal', message: e instanceof Error ? e.message : String(e) });
  }
  if (r.status === 'ok') return r.data;
  throw new ApiFailure(0, r.error);
}

export function isDesktopCode(e: unknown, code: Code): boolean {
  return e instanceof DesktopError && e.code === code;
}

/**
 * The desktop app's side of the window: its state (host mode, first-run choices, the host's
 * loopback connection) from `getState` and every `desktopChanged`, and its commands. Each command
 * answers the new state, which is kept unless a `desktopChanged` came in while it ran: the app
 * emits every change in order, so an event is never older than an answer it overtook.
 */
export class DesktopStore {
  state = $state.raw<DesktopState | null>(null);
  /** `getState` failed: the window cannot reach its own app (a broken build, not a user error). */
  failure = $state<string | null>(null);

  /** Counts `desktopChanged` events: a command's answer is stale when one arrived meanwhile. */
  #events = 0;
  #unlisten: Promise<UnlistenFn> | null = null;
  #watchers: ((state: DesktopState) => void)[] = [];

  /** Follows the app's state: listening first, so no change between the read and the listen is lost. */
  async start(): Promise<void> {
    this.#unlisten ??= events.desktopChanged.listen((e) => {
      this.#events++;
      this.#set(e.payload);
    });
    await this.#unlisten;
    const seen = this.#events;
    try {
      const state = await unwrap(commands.getState());
      if (this.#events === seen) this.#set(state);
      this.failure = null;
    } catch (e) {
      this.failure = e instanceof Error ? e.message : String(e);
    }
  }

  stop(): void {
    void this.#unlisten?.then((f) => f());
    this.#unlisten = null;
  }

  /** Calls `fn` with every new state (the desktop shell starts and stops the dashboard on it). */
  watch(fn: (state: DesktopState) => void): () => void {
    this.#watchers.push(fn);
    return () => (this.#watchers = this.#watchers.filter((w) => w !== fn));
  }

  /** Adds a repository (the first one is the default); `not_a_git_repo` when it is none. */
  chooseRepository(path: string): Promise<DesktopState> {
    return this.#update(() => commands.chooseRepository(path.trim()));
  }

  removeRepository(path: string): Promise<DesktopState> {
    return this.#update(() => commands.removeRepository(path));
  }

  /** Keeps the Anthropic key in the OS keychain, or the private env file (`invalid_api_key`, `keychain_unavailable`). */
  saveApiKey(key: string, place: Extract<KeyPlace, 'keychain' | 'env_file'>): Promise<DesktopState> {
    return this.#update(() => commands.saveApiKey(key.trim(), place));
  }

  setDemo(on: boolean): Promise<DesktopState> {
    return this.#update(() => commands.setDemo(on));
  }

  /** The host's model, addresses and port (`bad_request`, `config`, `conflict` while a prompt runs, `attached`). */
  setHostOptions(options: HostOptions): Promise<DesktopState> {
    return this.#update(() => commands.setHostOptions(options));
  }

  /** Finishes the first run, or resumes a paused (or failed) host. */
  startHost(): Promise<DesktopState> {
    return this.#update(() => commands.startHost());
  }

  /** `attached` when the host is the user's service, which the app does not stop. */
  pauseHost(): Promise<DesktopState> {
    return this.#update(() => commands.pauseHost());
  }

  setAutostart(on: boolean): Promise<DesktopState> {
    return this.#update(() => commands.setAutostart(on));
  }

  async openWorktree(sessionId: string): Promise<void> {
    await unwrap(commands.openWorktree(sessionId));
  }

  /** A single-use code for another device (the host API's command: the host function `POST /pairing-codes` calls). */
  pairingCode(): Promise<PairingCode> {
    return unwrapApi(commands.createPairingCode());
  }

  async #update(call: () => Promise<CommandResult<DesktopState>>): Promise<DesktopState> {
    const seen = this.#events;
    const state = await unwrap(call());
    if (this.#events === seen) this.#set(state);
    return this.state ?? state;
  }

  #set(state: DesktopState): void {
    this.state = state;
    for (const fn of this.#watchers) fn(state);
  }
}
