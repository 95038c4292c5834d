import type { CredentialStore } from '../client/credentials';
import type { HostCredentials } from '../client/rest';
import type { NativeRemote, PairedHost } from './native';

/** What the hosts list hears from one AppStore's credentials. */
export interface HostCredentialEvents {
  /** Pairing kept a host (new, or the same origin again with a new key); it is the selected one now. */
  saved(host: PairedHost): void;
  /** Forgetting it natively failed, or worked (`error` null). */
  forgotten(id: string, error: unknown): void;
}

/** One AppStore's credentials in the phone app, with the id the app files the host under. */
export interface RemoteCredentialStore extends CredentialStore {
  /** The host's id in the app's list; null until pairing kept one. */
  readonly hostId: string | null;
}

/**
 * The credentials of the host an AppStore shows, read from the app before the store is made
 * (`hostCredentials`), so its first screen is right at once. Pairing keeps the new host natively
 * (`addHost`) and only then counts as paired; forgetting drops it natively.
 */
export function remoteCredentials(
  native: NativeRemote,
  initial: { id: string; creds: HostCredentials } | null,
  events: HostCredentialEvents,
): RemoteCredentialStore {
  let id = initial?.id ?? null;
  let current = initial?.creds ?? null;
  return {
    get hostId() {
      return id;
    },
    load: () => current,
    async save(creds) {
      const host = await native.addHost({ origin: creds.origin, key: creds.key, device_id: creds.deviceId ?? null, name: null });
      id = host.id;
      // The app's spelling of the address: the outbox it keeps checks each prompt's origin by it.
      current = { ...creds, origin: host.origin };
      events.saved(host);
    },
    forget() {
      current = null;
      const gone = id;
      if (!gone) return;
      native.forgetHost(gone).then(
        () => events.forgotten(gone, null),
        (e: unknown) => events.forgotten(gone, e),
      );
    },
    // Revoked on the host: listed still (the switcher says so), and its queued prompts wait for
    // a new pairing of the same address, which keeps them.
    refused() {
      current = null;
    },
  };
}
