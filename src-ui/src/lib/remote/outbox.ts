import type { OutboxEntry, OutboxStorage } from '../outbox/outbox';
import type { NativeRemote } from './native';

/**
 * One paired host's outbox in the phone app's own files (the PWA keeps it in IndexedDB): the same
 * records, filed under the host's id, so each host's queued prompts stay its own.
 */
export function nativeOutboxStorage(native: NativeRemote, hostId: string): OutboxStorage {
  return {
    all: async () =>
      (await native.outboxAll(hostId)).map((e) => ({
        ...e,
        // Written by this page, always with a time; a record without one sorts first.
        created_at: e.created_at ?? 0,
      })),
    put: (e: OutboxEntry) => native.outboxPut(hostId, { ...e }),
    remove: (clientId) => native.outboxRemove(hostId, clientId),
  };
}
