import type { ErrorCode } from '../bindings';
import { ApiFailure, NetworkFailure } from './errors';

/**
 * Pairing links. A host never puts a key in a link: it issues single-use pairing codes (valid
 * five minutes; `arcbench pair`, or "Pair another device" in Settings), and a device redeems
 * one with `POST /pair` for a key of its own, which the host can revoke alone:
 *
 *   https://<host>:8000/app/#/pair?code=7KQ3-M9XD-2HVB     — opened on the phone, or scanned
 *   arcbench://pair?host=<origin>&code=7KQ3-M9XD-2HVB       — the deep link the Tauri apps register
 *
 * The code sits in the fragment (or a custom scheme), which browsers never send to a server or
 * write into access logs. Links that carry a key (`key=`, from before codes) are refused; a bare
 * key pasted by hand (scripts, manual set-ups) is still taken for the host this page came from.
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

/** A code is 12 Crockford base32 characters; people see it grouped by dashes. */
const CODE_LENGTH = 12;
const CODE_EXAMPLE = '7KQ3-M9XD-2HVB';

export const KEY_LINK_REFUSED =
  'Links with keys are no longer used: on the host run `arcbench pair` and scan its code (or open its link).';

/**
 * Reads whatever the user pasted or scanned: a pairing link, a deep link, a bare pairing code, or
 * a bare key (for the host this page came from).
 */
/**
 * Where no host serves the page (the Tauri apps: their pages come from the app), a code or key
 * alone names no host: it needs its link or QR code.
 */
const NO_HOST_FOR_CODE =
  'A code alone does not say which host it is for here: paste the whole pairing link (arcbench pair prints it), or scan its QR code.';

/** `currentOrigin`: the host serving this page, or null where no host does (the Tauri apps). */
export function parsePairing(input: string, currentOrigin: string | null): PairingRequest {
  const text = input.trim();
  if (!text) throw new PairingError('Paste the pairing link or code first.');
  if (looksLikeCode(text)) return { kind: 'code', origin: pageHost(currentOrigin), code: checkCode(text) };
  if (/^[^\s:/?#]{16,}$/.test(text)) return { kind: 'key', origin: pageHost(currentOrigin), key: text };

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PairingError(
      `That is neither a pairing link nor a code. A link starts with https:// (or arcbench://); a code looks like ${CODE_EXAMPLE}.`,
    );
  }

  let params: URLSearchParams;
  let origin: string;
  if (url.protocol === DEEP_LINK_SCHEME) {
    // arcbench://pair?host=…: the "host" of a custom-scheme URL is the action ("pair").
    params = url.searchParams;
    if (params.has('key')) throw new PairingError(KEY_LINK_REFUSED);
    const host = params.get('host');
    if (!host) throw new PairingError('The deep link names no host.');
    origin = normaliseOrigin(host);
  } else if (url.protocol === 'https:' || url.protocol === 'http:') {
    // The parameters live in the fragment: "#/pair?code=…".
    const fragment = url.hash.replace(/^#/, '');
    const query = fragment.includes('?') ? fragment.slice(fragment.indexOf('?') + 1) : '';
    params = new URLSearchParams(query || url.search);
    origin = url.origin;
  } else {
    throw new PairingError(`Links starting with ${url.protocol} are not pairing links.`);
  }
  return fromParams(params, origin);
}

/**
 * The `#/pair?…` route's own parameters (the page was opened from a pairing link): null when
 * it has none; a key link throws.
 */
export function parsePairingRoute(query: URLSearchParams, currentOrigin: string | null): PairingRequest | null {
  if (!query.has('key') && !query.get('code')) return null;
  const host = query.get('host');
  return fromParams(query, host ? normaliseOrigin(host) : pageHost(currentOrigin));
}

function pageHost(currentOrigin: string | null): string {
  if (currentOrigin === null) throw new PairingError(NO_HOST_FOR_CODE);
  return currentOrigin;
}

function fromParams(params: URLSearchParams, origin: string): PairingRequest {
  if (params.has('key')) throw new PairingError(KEY_LINK_REFUSED);
  const code = params.get('code')?.trim();
  if (code) return { kind: 'code', origin, code: checkCode(code) };
  throw new PairingError('The link has no pairing code.');
}

/** Case, spaces and dashes do not count (the host ignores them too). */
export function normaliseCode(code: string): string {
  return code.replace(/[\s-]+/g, '').toUpperCase();
}

/** `7KQ3M9XD2HVB` → `7KQ3-M9XD-2HVB`, as the host shows it. */
export function formatCode(code: string): string {
  const n = normaliseCode(code);
  return n.length === CODE_LENGTH ? (n.match(/.{4}/g) ?? [n]).join('-') : code.trim();
}

/**
 * Letters, digits, spaces and dashes, and either spaced out or shorter than a key: meant as a
 * code (checked by `checkCode`, so a typo gets a readable reason rather than "not a key").
 */
function looksLikeCode(text: string): boolean {
  return /^[0-9a-z\s-]+$/i.test(text) && (/\s/.test(text) || normaliseCode(text).length < 16);
}

/** Refuses what cannot be a code (with a readable reason); the host has the last word. */
function checkCode(code: string): string {
  const n = normaliseCode(code);
  if (!/^[0-9A-Z]*$/.test(n)) {
    throw new PairingError(`A pairing code has only letters and digits, like ${CODE_EXAMPLE}.`);
  }
  if (n.length !== CODE_LENGTH) {
    throw new PairingError(`A pairing code has ${CODE_LENGTH} letters and digits, like ${CODE_EXAMPLE}; that one has ${n.length}.`);
  }
  return formatCode(n);
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

/** The link another device opens (or scans) to pair with a code. It never carries a key. */
export function codeLink(origin: string, code: string): string {
  return `${origin}/app/#/pair?code=${encodeURIComponent(code)}`;
}

/** The same as a deep link, for the Tauri apps. */
export function codeDeepLink(origin: string, code: string): string {
  return `arcbench://pair?host=${encodeURIComponent(origin)}&code=${encodeURIComponent(code)}`;
}

/** What each refusal of `POST /pair` means, when the host says nothing more. */
const PAIR_REFUSED: Partial<Record<ErrorCode, string>> = {
  pairing_code_invalid: 'That pairing code is not valid: check it, or get a new one with `arcbench pair`.',
  pairing_code_expired: 'That pairing code has expired (codes work for 5 minutes): get a new one with `arcbench pair`.',
  pairing_code_used: 'That pairing code was already used (each works once): get a new one with `arcbench pair`.',
  rate_limited: 'Too many pairing attempts: wait a minute and try again.',
};

/** Refusals the host words for people already: its message is shown as it is. */
const HOST_WORDED = new Set<string>(['pairing_code_invalid', 'pairing_code_expired', 'pairing_code_used', 'rate_limited']);

/** One readable line for a failed pairing: the host's own words where it has them. */
export function describePairingError(e: unknown, origin: string): string {
  if (e instanceof PairingError) return e.message;
  if (e instanceof NetworkFailure) return `Cannot reach ${origin} (${e.message}). Is the host running, and is this device on its network?`;
  if (e instanceof ApiFailure) {
    const said = e.message && !e.message.startsWith('the host answered') ? sentence(e.message) : null;
    if (HOST_WORDED.has(e.code)) return said ?? PAIR_REFUSED[e.code as ErrorCode]!;
    if (e.code === 'not_found') return 'This host cannot pair with codes. Update arcbench on the host.';
    if (e.code === 'bad_request') return said ? `The host refused the request: ${said}` : 'The host refused the request.';
    return said ? `The host refused to pair: ${said}` : `The host refused to pair (${e.status}).`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** "that code was used" → "That code was used." */
function sentence(text: string): string {
  const t = text.trim();
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** A name for this device in the host's list, from its user agent ("iPhone", "Chrome on Linux"). */
export function defaultDeviceName(userAgent: string): string {
  const ua = userAgent;
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua)) return 'iPad';
  if (/Android/.test(ua)) return /Mobile/.test(ua) ? 'Android phone' : 'Android tablet';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua)
      ? 'macOS'
      : /CrOS/.test(ua)
        ? 'ChromeOS'
        : /Linux|X11/.test(ua)
          ? 'Linux'
          : null;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Chrom(e|ium)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? (os ? `${os} computer` : 'My device');
}
