import {
  commands,
  type Code,
  type HostCredentials_Serialize,
  type HostsState_Serialize,
  type NewHost_Deserialize,
  type NoticeSettings,
  type Notice_Serialize,
  type OutboxEntry_Deserialize,
  type OutboxEntry_Serialize,
  type PairedHost_Serialize,
  type Platform,
  type RemoteError,
  type SessionTitle,
} from './bindings';
import type { Event } from '../bindings';

/** The phone app's commands as generated (tests give a fake of the same shape). */
export type RemoteCommands = typeof commands;

export type PairedHost = PairedHost_Serialize;
export type HostsState = HostsState_Serialize;
export type NativeCredentials = HostCredentials_Serialize;
export type { NoticeSettings, Platform };

/**
 * `ipc`: the bridge itself failed (a command missing from the app's capabilities, a panic): the
 * app's fault, not the user's; the text is whatever Tauri said.
 */
export type RemoteFailureCode = Code | 'ipc';

/** A command the phone app refused: `code` to branch on, its message (its own words) to show. */
export class RemoteFailure extends Error {
  readonly code: RemoteFailureCode;

  constructor(code: RemoteFailureCode, message: string) {
    super(message);
    this.name = 'RemoteFailure';
    this.code = code;
  }
}

export function isRemoteCode(e: unknown, code: RemoteFailureCode): boolean {
  return e instanceof RemoteFailure && e.code === code;
}

type Result<T> = { status: 'ok'; data: T } | { status: 'error'; error: RemoteError };

function isRemoteError(e: unknown): e is RemoteError {
  return typeof e === 'object' && e !== null && typeof (e as RemoteError).code === 'string' && typeof (e as RemoteError).message === 'string';
}

/**
 * A command's value, or a `RemoteFailure`. The generated wrapper passes on a rejection that is no
 * Error as the "error" value, so a bare string from the IPC layer can arrive there too.
 */
async function unwrap<T>(call: () => Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await call();
  } catch (e) {
    throw new RemoteFailure('ipc', e instanceof Error ? e.message : String(e));
  }
  if (r.status === 'ok') return r.data;
  const e: unknown = r.error;
  if (isRemoteError(e)) throw new RemoteFailure(e.code, e.message);
  throw new RemoteFailure('ipc', typeof e === 'string' ? e : 'The app did not answer.');
}

/**
 * The phone app's native side, typed: its paired hosts (their keys in the keychain or the app's
 * storage), each host's outbox, and what the platform can do. Everything else goes from the page
 * to the hosts over the network, as in the PWA.
 */
export class NativeRemote {
  readonly #c: RemoteCommands;

  constructor(cmds: RemoteCommands = commands) {
    this.#c = cmds;
  }

  platform(): Promise<Platform> {
    return unwrap(() => this.#c.platform());
  }

  hosts(): Promise<HostsState> {
    return unwrap(() => this.#c.hosts());
  }

  /** Keeps a pairing (key first, then the list) and selects it; the same origin keeps its id. */
  addHost(host: NewHost_Deserialize): Promise<PairedHost> {
    return unwrap(() => this.#c.addHost(host));
  }

  /** Forgets a host on this device: its key and its queued prompts. */
  forgetHost(id: string): Promise<HostsState> {
    return unwrap(() => this.#c.forgetHost(id));
  }

  selectHost(id: string): Promise<HostsState> {
    return unwrap(() => this.#c.selectHost(id));
  }

  renameHost(id: string, name: string): Promise<PairedHost> {
    return unwrap(() => this.#c.renameHost(id, name));
  }

  hostCredentials(id: string): Promise<NativeCredentials> {
    return unwrap(() => this.#c.hostCredentials(id));
  }

  outboxAll(hostId: string): Promise<OutboxEntry_Serialize[]> {
    return unwrap(() => this.#c.outboxAll(hostId));
  }

  outboxPut(hostId: string, entry: OutboxEntry_Deserialize): Promise<void> {
    return unwrap(() => this.#c.outboxPut(hostId, entry)).then(() => undefined);
  }

  outboxRemove(hostId: string, clientId: string): Promise<void> {
    return unwrap(() => this.#c.outboxRemove(hostId, clientId)).then(() => undefined);
  }

  /**
   * A host's events as the socket delivered them: the app folds them (the desktop tray's own
   * reducer) and shows a local notification for each worth one, none about `looking`.
   */
  noteEvents(hostId: string, titles: SessionTitle[], events: Event[], looking: string | null): Promise<Notice_Serialize[]> {
    return unwrap(() => this.#c.noteEvents(hostId, titles, events, looking));
  }

  /** Which kinds of event this device's own notifications are for (every host alike). */
  noticeSettings(): Promise<NoticeSettings> {
    return unwrap(() => this.#c.noticeSettings());
  }

  /** Keeps the choice; answers it as kept (the app's order, each kind once). */
  setNoticeSettings(settings: NoticeSettings): Promise<NoticeSettings> {
    return unwrap(() => this.#c.setNoticeSettings(settings));
  }
}
