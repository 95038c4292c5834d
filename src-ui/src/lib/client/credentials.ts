import type { HostCredentials } from './rest';

/**
 * Where the paired host's credentials live: localStorage, deliberately.
 * - It is read synchronously at start-up, so the first screen (pair or sessions) is right without
 *   a flash; IndexedDB would make every start wait on an async open first.
 * - It is per-origin like IndexedDB and no less safe: any script able to read one can read the
 *   other, so the real protections are the CSP, same-origin serving and sanitised Markdown.
 * - The desktop app keeps none: its window gets the credentials of the host it runs from the app
 *   at every start (`givenCredentials`), so nothing here outlives the app's own settings.
 * The key is this device's own (from `POST /pair`), revocable on the host without touching any
 * other device; `deviceId` names it in the host's device list. The host's master key never comes
 * here unless someone pastes it by hand.
 */
const STORAGE_KEY = 'arcbench.host';

export interface Storage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function defaultStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled (private mode in some browsers)
  }
}

export function loadCredentials(storage: Storage | null = defaultStorage()): HostCredentials | null {
  const raw = storage?.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<HostCredentials>;
    if (typeof v.origin === 'string' && typeof v.key === 'string' && v.key) {
      return { origin: v.origin, key: v.key, deviceId: typeof v.deviceId === 'string' ? v.deviceId : null };
    }
  } catch {
    // fall through: a damaged entry is the same as none
  }
  return null;
}

export function saveCredentials(creds: HostCredentials, storage: Storage | null = defaultStorage()): void {
  storage?.setItem(STORAGE_KEY, JSON.stringify({ origin: creds.origin, key: creds.key, deviceId: creds.deviceId ?? null }));
}

export function forgetCredentials(storage: Storage | null = defaultStorage()): void {
  storage?.removeItem(STORAGE_KEY);
}

/**
 * Where an AppStore finds its host's credentials and keeps the ones pairing gave it: this
 * device's localStorage in the browser, (the desktop app) only memory, or (the phone app) the
 * app's own host list and the platform's keychain.
 */
export interface CredentialStore {
  load(): HostCredentials | null;
  /**
   * Keeps what pairing gave. May answer a promise (the phone app stores natively): pairing
   * succeeds only once it is kept, and fails with its error.
   */
  save(creds: HostCredentials): void | Promise<void>;
  /** The user forgets the host on this device. */
  forget(): void;
  /**
   * The host refused the key (revoked there): what to drop. Absent: the same as `forget`. The
   * phone app keeps the host listed (shown revoked) so pairing it again keeps its queued prompts.
   */
  refused?(): void;
}

/** This device's localStorage (the phone and the browser). */
export const deviceCredentials: CredentialStore = {
  load: () => loadCredentials(),
  save: (creds) => saveCredentials(creds),
  forget: () => forgetCredentials(),
};

/**
 * Credentials handed over for this run only and never written anywhere: the desktop app gets its
 * host's loopback address and key from the app at every start. Pairing the window elsewhere
 * lasts until the window reloads; forgetting drops them for this run.
 */
export function givenCredentials(creds: HostCredentials): CredentialStore {
  let current: HostCredentials | null = creds;
  return {
    load: () => current,
    save: (c) => void (current = c),
    forget: () => void (current = null),
  };
}
