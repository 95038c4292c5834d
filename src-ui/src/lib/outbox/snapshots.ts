import type { Diff, Session, Status } from '../bindings';
import type { SessionView } from '../store/sessionView';
import { get, put, SNAPSHOTS } from './db';

/**
 * The last answers seen for the session list and each opened session, kept in IndexedDB so the
 * app opens with content even when the host cannot be reached (phone on the train, host asleep).
 * These are the app's own records, shown as "last synced" — the service worker never caches API
 * answers. Keys carry the host origin so a re-paired device never shows another host's data.
 */
export interface SavedSession {
  /** The session as last shown: its prompts carry their replies. */
  view: SessionView;
  diff: Diff | null;
  savedAt: number;
}

export interface Snapshots {
  status(): Promise<Status | undefined>;
  saveStatus(status: Status): Promise<void>;
  sessions(): Promise<Session[] | undefined>;
  saveSessions(list: Session[]): Promise<void>;
  session(id: string): Promise<SavedSession | undefined>;
  saveSession(id: string, snap: SavedSession): Promise<void>;
}

export function idbSnapshots(db: Promise<IDBDatabase>, origin: string): Snapshots {
  const k = (name: string) => `${origin}|${name}`;
  // Snapshots are a convenience: a failed write (quota, private mode) must never break the app.
  const quiet = (p: Promise<void>) => p.catch(() => undefined);
  return {
    status: async () => get<Status>(await db, SNAPSHOTS, k('status')).catch(() => undefined),
    saveStatus: async (status) => quiet(put(await db, SNAPSHOTS, plainCopy(status), k('status'))),
    sessions: async () => get<Session[]>(await db, SNAPSHOTS, k('sessions')).catch(() => undefined),
    saveSessions: async (list) => quiet(put(await db, SNAPSHOTS, plainCopy(list), k('sessions'))),
    // Saved by an older version of the app (before views): not shown rather than misread.
    session: async (id) => {
      const saved = await get<SavedSession>(await db, SNAPSHOTS, k(`session:${id}`)).catch(() => undefined);
      return saved?.view ? saved : undefined;
    },
    saveSession: async (id, snap) => quiet(put(await db, SNAPSHOTS, plainCopy(snap), k(`session:${id}`))),
  };
}

/** Plain copies: Svelte's state proxies cannot be structured-cloned into IndexedDB. */
function plainCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
