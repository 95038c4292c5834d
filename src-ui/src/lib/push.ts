import type { PushDeleted, PushEvent, PushKey, PushSubscriptionInfo, PushSubscriptionRequest } from './bindings';
import { ApiFailure, describeError, isCode } from './client/errors';
import { callHost, type ApiOptions, type HostCredentials } from './client/rest';
import { ALL_PUSH_EVENTS, orderedEvents } from './pushEvents';
import { isRemoteShell } from './remote/detect';

/**
 * Web Push for a paired browser: whether this page can have notifications at all (and why not),
 * and turning them on, choosing their events and turning them off — the browser's side
 * (permission, `PushManager.subscribe` with the host's VAPID key) and the host's
 * (`/push/subscription`, HTTP only: the desktop app notifies natively). The service worker
 * (sw/sw.js) shows what the host pushes. Settings' component only renders this module's state.
 */

/** The browser's subscription, as much of `PushSubscription` as is used here. */
export interface BrowserSubscription {
  readonly endpoint: string;
  readonly options?: { readonly applicationServerKey: ArrayBuffer | null };
  toJSON(): PushSubscriptionJSON;
  unsubscribe(): Promise<boolean>;
}

/** As much of a `ServiceWorkerRegistration` as push needs. */
export interface PushRegistration {
  readonly pushManager: {
    getSubscription(): Promise<BrowserSubscription | null>;
    subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array<ArrayBuffer> }): Promise<BrowserSubscription>;
  };
}

/** What this page has of the browser's push machinery; `browserPush()` is the real one. */
export interface PushBrowser {
  /** A secure context (https, or a loopback address). */
  secure: boolean;
  /** Inside one of the Tauri apps' windows (the desktop app, or the phone app). */
  desktopApp: boolean;
  /** Inside the phone app, which shows its own notifications (mobile/). */
  phoneApp: boolean;
  serviceWorker: boolean;
  /** `PushManager` and `Notification` both exist. */
  webPush: boolean;
  /** Safari on an iPhone or iPad, in a tab: Web Push comes only to the app on the Home Screen. */
  iosTab: boolean;
  permission(): NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  /** The app's active service worker registration; null when there is none. */
  registration(): Promise<PushRegistration | null>;
}

export type UnavailableReason = 'phone-app' | 'desktop-app' | 'not-paired' | 'no-device' | 'insecure' | 'ios-tab' | 'no-service-worker' | 'no-push';

/** Why this page cannot have notifications, and what to do about it. */
export interface Unavailable {
  reason: UnavailableReason;
  text: string;
}

const UNAVAILABLE: Record<UnavailableReason, string> = {
  'phone-app': 'This app shows its own notifications from every paired host while it runs: choose them under “Notifications on this device”.',
  'desktop-app': 'The desktop app tells you itself, with the system’s notifications: nothing to set up here.',
  'not-paired': 'Sign in with a paired device: notifications go to a device paired with a code.',
  'no-device':
    'Sign in with a paired device: this browser uses a key pasted by hand, which belongs to no device. Forget this host, then pair with a code from another device or `arcbench pair`.',
  insecure:
    'Needs HTTPS: browsers allow notifications on secure pages only. Pair over your tailnet name (https://…ts.net) and turn them on there.',
  'ios-tab': 'On iPhone and iPad, only the app on the Home Screen gets notifications: Share → Add to Home Screen, open it from there and pair.',
  'no-service-worker': 'This browser runs no service worker for this page (a private window?), and notifications need one.',
  'no-push': 'This browser has no Web Push, so it cannot get notifications.',
};

/** Null when this page can turn notifications on; otherwise why not. */
export function pushUnavailable(browser: PushBrowser, creds: HostCredentials | null): Unavailable | null {
  const reason = unavailableReason(browser, creds);
  return reason ? { reason, text: UNAVAILABLE[reason] } : null;
}

function unavailableReason(browser: PushBrowser, creds: HostCredentials | null): UnavailableReason | null {
  if (browser.phoneApp) return 'phone-app';
  if (browser.desktopApp) return 'desktop-app';
  if (!creds) return 'not-paired';
  if (!creds.deviceId) return 'no-device';
  // An insecure page has no service worker and no PushManager either: say the cause, not those.
  if (!browser.secure) return 'insecure';
  if (browser.iosTab && !browser.webPush) return 'ios-tab';
  if (!browser.serviceWorker) return 'no-service-worker';
  if (!browser.webPush) return 'no-push';
  return null;
}

/** This browser, as it is. */
export function browserPush(): PushBrowser {
  const g = globalThis as typeof globalThis & { navigator?: Navigator & { standalone?: boolean } };
  const nav = g.navigator;
  const ua = nav?.userAgent ?? '';
  const ios = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && (nav?.maxTouchPoints ?? 0) > 1);
  const standalone = nav?.standalone === true || (typeof matchMedia === 'function' && matchMedia('(display-mode: standalone)').matches);
  return {
    secure: g.isSecureContext === true,
    desktopApp: '__TAURI_INTERNALS__' in g,
    phoneApp: isRemoteShell(),
    serviceWorker: !!nav && 'serviceWorker' in nav,
    webPush: 'PushManager' in g && 'Notification' in g,
    iosTab: ios && !standalone,
    permission: () => ('Notification' in g ? Notification.permission : 'denied'),
    requestPermission: () => Notification.requestPermission(),
    registration: async () => {
      if (!nav || !('serviceWorker' in nav)) return null;
      const now = await nav.serviceWorker.getRegistration(import.meta.env.BASE_URL).catch(() => undefined);
      if (now?.active) return now;
      // The app registers its service worker after the first render (src/lib/pwa.ts, production
      // only): wait a little for it to be active.
      if (!import.meta.env.PROD && !now) return null;
      return Promise.race([nav.serviceWorker.ready, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    },
  };
}

/** The host's push routes, for one device's key. */
export function pushApi(creds: HostCredentials, options: ApiOptions = {}) {
  return {
    key: () => callHost<PushKey>(creds, 'GET', '/push/key', undefined, options),
    /** Null when this device has no subscription on the host. */
    get: async (): Promise<PushSubscriptionInfo | null> => {
      try {
        return await callHost<PushSubscriptionInfo>(creds, 'GET', '/push/subscription', undefined, options);
      } catch (e) {
        if (isCode(e, 'not_found')) return null;
        throw e;
      }
    },
    put: (req: PushSubscriptionRequest) => callHost<PushSubscriptionInfo>(creds, 'PUT', '/push/subscription', req, options),
    remove: () => callHost<PushDeleted>(creds, 'DELETE', '/push/subscription', undefined, options),
  };
}

export type PushApi = ReturnType<typeof pushApi>;

/** What Settings shows. */
export interface PushState {
  /** The host keeps a subscription for this device. */
  on: boolean;
  /** The events that notify (when off: the ones chosen for turning on). */
  events: PushEvent[];
  /**
   * The host's subscription is not this browser's current one (the browser dropped or renewed
   * it): nothing arrives until it is sent again, which choosing events or turning on does.
   */
  stale: boolean;
}

/** A refusal worded for the user. */
export class PushProblem extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PushProblem';
  }
}

/** One line for Settings: ours as they are, the host's with what it said. */
export function describePushError(e: unknown): string {
  if (e instanceof PushProblem) return e.message;
  if (e instanceof ApiFailure && e.code === 'bad_request') return `The host refused: ${e.message}`;
  return describeError(e);
}

/**
 * Whether the host must be sent this browser's subscription again: the host keeps one for this
 * device and the browser now has another (it rotated it, and the service worker, which has no
 * device key, could not tell the host). Without a host copy push is off, and nothing is sent
 * unasked; without a browser one there is nothing to send, and the host drops its dead copy
 * itself when the push service answers 404 or 410.
 */
export function shouldResend(hostEndpoint: string | null, browserEndpoint: string | null): boolean {
  return hostEndpoint !== null && browserEndpoint !== null && hostEndpoint !== browserEndpoint;
}

/**
 * Turning this device's notifications on, choosing, off; each step answers the state to show,
 * or throws something `describePushError` words.
 */
export class PushSetup {
  readonly #browser: PushBrowser;
  readonly #api: PushApi;

  constructor(browser: PushBrowser, api: PushApi) {
    this.#browser = browser;
    this.#api = api;
  }

  /** The host's state for this device, checked against this browser's subscription. */
  async load(): Promise<PushState> {
    const info = await this.#api.get();
    if (!info) return { on: false, events: [...ALL_PUSH_EVENTS], stale: false };
    const reg = await this.#browser.registration();
    const sub = reg ? await reg.pushManager.getSubscription().catch(() => null) : null;
    return { on: true, events: orderedEvents(info.events), stale: sub?.endpoint !== info.endpoint };
  }

  /** Asks for permission, subscribes with the host's key and gives the host the subscription. */
  async enable(events: PushEvent[]): Promise<PushState> {
    const permission = this.#browser.permission() === 'granted' ? 'granted' : await this.#browser.requestPermission();
    if (permission !== 'granted') {
      throw new PushProblem(
        permission === 'denied'
          ? 'Notifications are blocked for this site. Allow them in the browser’s site settings, then turn them on again.'
          : 'Notifications were not allowed (the question was dismissed). Turn them on again to be asked once more.',
      );
    }
    const { sub, fresh } = await this.#subscription();
    try {
      return await this.#send(sub, events);
    } catch (e) {
      // The host refused: keep no subscription in the browser that nothing on the host sends to.
      if (fresh) await sub.unsubscribe().catch(() => false);
      throw e;
    }
  }

  /** Sends the chosen events (with this browser's current subscription, renewed if need be). */
  async setEvents(events: PushEvent[]): Promise<PushState> {
    if (this.#browser.permission() !== 'granted') return this.enable(events);
    const { sub } = await this.#subscription();
    return this.#send(sub, events);
  }

  /**
   * Sends the browser's current subscription when the host keeps an older one for this device
   * (`shouldResend`), with the events the host had; answers whether it sent. The browser is
   * asked first: a device that never turned push on costs the host no request.
   */
  async resync(): Promise<boolean> {
    const reg = await this.#browser.registration();
    const sub = reg ? await reg.pushManager.getSubscription().catch(() => null) : null;
    if (!sub) return false;
    const info = await this.#api.get();
    if (!info || !shouldResend(info.endpoint, sub.endpoint)) return false;
    await this.#send(sub, info.events);
    return true;
  }

  /** The host forgets this device's subscription, and the browser drops it. */
  async disable(events: PushEvent[]): Promise<PushState> {
    let failure: unknown = null;
    await this.#api.remove().catch((e: unknown) => (failure = e));
    const reg = await this.#browser.registration();
    const sub = reg ? await reg.pushManager.getSubscription().catch(() => null) : null;
    await sub?.unsubscribe().catch(() => false);
    if (failure) throw failure;
    return { on: false, events: orderedEvents(events), stale: false };
  }

  async #send(sub: BrowserSubscription, events: PushEvent[]): Promise<PushState> {
    const json = sub.toJSON();
    const p256dh = json.keys?.p256dh;
    const auth = json.keys?.auth;
    if (!p256dh || !auth) throw new PushProblem('The browser’s subscription has no encryption keys, so the host could not send to it.');
    const info = await this.#api.put({ endpoint: json.endpoint ?? sub.endpoint, keys: { p256dh, auth }, events: orderedEvents(events) });
    return { on: true, events: orderedEvents(info.events), stale: false };
  }

  /** This browser's subscription for the host's key: the current one, or a new one. */
  async #subscription(): Promise<{ sub: BrowserSubscription; fresh: boolean }> {
    const reg = await this.#browser.registration();
    if (!reg) throw new PushProblem('The app’s service worker is not running, and notifications need it. Reload the page and try again.');
    const { public_key: key } = await this.#api.key();
    const serverKey = fromBase64Url(key);
    const current = await reg.pushManager.getSubscription().catch(() => null);
    if (current) {
      const had = current.options?.applicationServerKey;
      // Subscribed for another key (the host's was made anew): the browser refuses a second one.
      if (!had || sameBytes(new Uint8Array(had), serverKey)) return { sub: current, fresh: false };
      await current.unsubscribe().catch(() => false);
    }
    try {
      return { sub: await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey }), fresh: true };
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      if (name === 'NotAllowedError') {
        throw new PushProblem('Notifications are blocked for this site. Allow them in the browser’s site settings, then turn them on again.', { cause: e });
      }
      const message = e instanceof Error ? e.message : '';
      const detail = message ? ` (${message})` : '';
      // Chrome's words when it has no Web Push in this window (incognito, guest).
      if (/permission denied/i.test(message)) {
        throw new PushProblem(`This browser refused a push subscription${detail}: private, incognito and guest windows get no notifications.`, { cause: e });
      }
      throw new PushProblem(`The browser could not subscribe with its push service${detail}. Is this device online?`, { cause: e });
    }
  }
}

/** What the service worker posts after the browser rotated the push subscription (sw/sw.js). */
export const SUBSCRIPTION_CHANGED = 'push-subscription-changed';

/**
 * Keeps the host's copy of this browser's subscription current (`PushSetup.resync`): at once,
 * since the browser may have rotated it while no page was open, and whenever the service worker
 * says it did. The worker cannot do it: it has no device key. Quiet: a host that does not answer
 * is asked again at the next start or change, and Settings shows the subscription as stale.
 */
export function keepSubscriptionCurrent(creds: () => HostCredentials | null, browser: PushBrowser = browserPush()): void {
  const sync = () => {
    const c = creds();
    if (!c || pushUnavailable(browser, c)) return;
    void new PushSetup(browser, pushApi(c)).resync().catch(() => false);
  };
  sync();
  if (!browser.serviceWorker) return;
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent<unknown>) => {
    if ((e.data as { type?: unknown } | null)?.type === SUBSCRIPTION_CHANGED) sync();
  });
  navigator.serviceWorker.startMessages();
}

/** base64url (padded or not) to bytes. */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
