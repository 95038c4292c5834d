/**
 * Pairing links. Today the host has one API key, so a link carries the host's origin and that key:
 *
 *   https://<host>:8000/app/#/pair?key=<key>        — opened on the phone, or scanned as a QR code
 *   arcbench://pair?host=<origin>&key=<key>          — the deep link the Tauri apps register
 *
 * The key sits in the fragment (or a custom scheme), which browsers never send to a server or
 * write into access logs. A later issue adds single-use codes (`code=<code>`, redeemed with
 * `POST /pair` for a per-device key); they parse here already and `redeem` is where they go.
 */

export type PairingRequest =
  | { kind: 'key'; origin: string; key: string }
  | { kind: 'code'; origin: string; code: string };

export class PairingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PairingError';
  }
}

const DEEP_LINK_SCHEME = 'arcbench:';

/**
 * Reads whatever the user pasted or scanned: a pairing link, a deep link, or a bare key (for the
 * host this page came from — what `arcbench serve` prints on first start).
 */
export function parsePairing(input: string, currentOrigin: string): PairingRequest {
  const text = input.trim();
  if (!text) throw new PairingError('Paste the pairing link or key first.');
  if (/^[^\s:/?#]{16,}$/.test(text)) return { kind: 'key', origin: currentOrigin, key: text };

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PairingError('That is not a pairing link. It should start with https:// or arcbench://.');
  }

  let params: URLSearchParams;
  let origin: string;
  if (url.protocol === DEEP_LINK_SCHEME) {
    // arcbench://pair?host=…: the "host" of a custom-scheme URL is the action ("pair").
    params = url.searchParams;
    const host = params.get('host');
    if (!host) throw new PairingError('The deep link names no host.');
    origin = normaliseOrigin(host);
  } else if (url.protocol === 'https:' || url.protocol === 'http:') {
    // The parameters live in the fragment: "#/pair?key=…".
    const fragment = url.hash.replace(/^#/, '');
    const query = fragment.includes('?') ? fragment.slice(fragment.indexOf('?') + 1) : '';
    params = new URLSearchParams(query || url.search);
    origin = url.origin;
  } else {
    throw new PairingError(`Links starting with ${url.protocol} are not pairing links.`);
  }
  return fromParams(params, origin);
}

/** The `#/pair?…` route's own parameters (the page was opened from a pairing link). */
export function parsePairingRoute(query: URLSearchParams, currentOrigin: string): PairingRequest | null {
  if (!query.get('key') && !query.get('code')) return null;
  const host = query.get('host');
  return fromParams(query, host ? normaliseOrigin(host) : currentOrigin);
}

function fromParams(params: URLSearchParams, origin: string): PairingRequest {
  const key = params.get('key')?.trim();
  if (key) return { kind: 'key', origin, key };
  const code = params.get('code')?.trim();
  if (code) return { kind: 'code', origin, code };
  throw new PairingError('The link has neither a key nor a pairing code.');
}

export function normaliseOrigin(host: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `https://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new PairingError(`“${host}” is not a host address.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PairingError(`“${host}” is not an http(s) address.`);
  }
  return url.origin;
}

/** The link another device opens (or scans) to pair with this host. */
export function pairingLink(origin: string, key: string): string {
  return `${origin}/app/#/pair?key=${encodeURIComponent(key)}`;
}

/** The same as a deep link, for the Tauri apps. */
export function deepLink(origin: string, key: string): string {
  return `arcbench://pair?host=${encodeURIComponent(origin)}&key=${encodeURIComponent(key)}`;
}
