import { idbOutboxStorage, memoryOutboxStorage, type OutboxStorage } from './outbox';
import { idbSnapshots, type Snapshots } from './snapshots';

/**
 * This device's storage for one host, once the database is open: the outbox (in memory when the
 * browser keeps no IndexedDB, so prompts still go out, only not across a reload) and the saved
 * copies (none then).
 */
export function deviceStorage(db: Promise<IDBDatabase>, origin: string): { outbox: Promise<OutboxStorage>; snapshots: Promise<Snapshots | null> } {
  return {
    outbox: db.then(() => idbOutboxStorage(db)).catch(() => memoryOutboxStorage()),
    snapshots: db.then(() => idbSnapshots(db, origin)).catch(() => null),
  };
}
