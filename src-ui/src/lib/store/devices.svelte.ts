import type { Device, Event, PairingCode } from '../bindings';
import { describeError } from '../client/errors';
import type { HostApi } from '../client/host';

/** How long a pairing code works, by the contract (the host's `expires_at` says exactly when). */
export const CODE_LIFETIME_MS = 5 * 60_000;

/** Oldest first: the list reads as the order devices were paired in. */
export function sortDevices(list: Device[]): Device[] {
  return [...list].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/**
 * Folds one event into a device list: `device.paired` adds (or replaces) the device,
 * `device.revoked` removes it; anything else leaves the list as it is. Both are idempotent, so
 * events that raced a `GET /devices` can be folded onto its answer again.
 */
export function foldDevices(list: Device[], e: Event): Device[] {
  if (e.type === 'device.paired') return sortDevices([...list.filter((d) => d.id !== e.device.id), e.device]);
  if (e.type === 'device.revoked') return list.some((d) => d.id === e.device_id) ? list.filter((d) => d.id !== e.device_id) : list;
  return list;
}

/**
 * When a fresh code stops working, on this device's clock: the host's `expires_at`, unless this
 * clock disagrees with the host's so much that it would put a code just made already in the past
 * (or more than five minutes ahead); then five minutes from now.
 */
export function codeDeadline(expiresAt: string, now: number): number {
  const left = Date.parse(expiresAt) - now;
  return Number.isFinite(left) && left > 0 && left <= CODE_LIFETIME_MS + 30_000 ? now + left : now + CODE_LIFETIME_MS;
}

export interface DevicesDeps {
  api: () => HostApi;
  /** This device's id on the host (from pairing with a code), null when it has none. */
  selfId: () => string | null;
  /** This device's own key was revoked (seen as an event, or done from here). */
  onSelfRevoked: () => void;
}

/**
 * The devices paired with the host (`GET /devices`, then `device.paired` / `device.revoked`
 * events), revoking one, and pairing codes for another device to redeem.
 */
export class DevicesStore {
  /** Null until loaded (the list is fetched when Settings opens, not at start). */
  list = $state<Device[] | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** The pairing code on screen for another device, and when it stops working (epoch ms). */
  code = $state<{ code: PairingCode; deadline: number } | null>(null);

  readonly #d: DevicesDeps;
  /** Events seen while a `GET /devices` is on its way: folded onto its answer. */
  #raced: Event[] | null = null;

  constructor(deps: DevicesDeps) {
    this.#d = deps;
  }

  get selfId(): string | null {
    return this.#d.selfId();
  }

  /** Fetches the list; a failure shows in `error` (the host may simply be out of reach). */
  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    const raced: Event[] = [];
    this.#raced = raced;
    try {
      const devices = await this.#d.api().devices();
      if (this.#raced !== raced) return; // reset, or a newer load, meanwhile
      this.list = raced.reduce(foldDevices, sortDevices(devices));
    } catch (e) {
      if (this.#raced === raced) this.error = describeError(e);
    } finally {
      if (this.#raced === raced) {
        this.#raced = null;
        this.loading = false;
      }
    }
  }

  apply(e: Event): void {
    if (e.type !== 'device.paired' && e.type !== 'device.revoked') return;
    this.#raced?.push(e);
    if (this.list) this.list = foldDevices(this.list, e);
    if (e.type === 'device.revoked' && e.device_id === this.#d.selfId()) this.#d.onSelfRevoked();
  }

  /** Revokes a device's key on the host; revoking this device's own unpairs it. */
  async revoke(id: string): Promise<Device> {
    const device = await this.#d.api().revokeDevice(id);
    if (this.list) this.list = this.list.filter((d) => d.id !== id);
    if (id === this.#d.selfId()) this.#d.onSelfRevoked();
    return device;
  }

  /** Asks the host for a new single-use code (the one shown before is left to expire). */
  async newCode(now = Date.now()): Promise<PairingCode> {
    const code = await this.#d.api().createPairingCode();
    this.code = { code, deadline: codeDeadline(code.expires_at, now) };
    return code;
  }

  clearCode(): void {
    this.code = null;
  }

  reset(): void {
    this.list = null;
    this.loading = false;
    this.error = null;
    this.code = null;
    this.#raced = null;
  }
}
