import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/lib/bindings';
import { ApiFailure, NetworkFailure } from '../src/lib/client/errors';
import {
  codeDeepLink,
  codeLink,
  defaultDeviceName,
  describePairingError,
  formatCode,
  KEY_LINK_REFUSED,
  normaliseCode,
  PairingError,
  parsePairing,
  parsePairingRoute,
} from '../src/lib/client/pairing';

const here = 'http://127.0.0.1:8000';
const key = '0123456789abcdef0123456789abcdef';
const code = '7KQ3-M9XD-2HVB';

describe('parsePairing', () => {
  it('reads a pairing link with the code in the fragment', () => {
    expect(parsePairing(`https://desk.example.ts.net:8000/app/#/pair?code=${code}`, here)).toEqual({
      kind: 'code',
      origin: 'https://desk.example.ts.net:8000',
      code,
    });
  });

  it('reads the deep link form', () => {
    expect(parsePairing(`arcbench://pair?host=${encodeURIComponent('https://desk:8000')}&code=${code}`, here)).toEqual({
      kind: 'code',
      origin: 'https://desk:8000',
      code,
    });
    expect(parsePairing(`arcbench://pair?host=desk.local:8000&code=${code}`, here).origin).toBe('https://desk.local:8000');
  });

  it('round-trips the links it makes', () => {
    for (const link of [codeLink('https://h:9', code), codeDeepLink('https://h:9', code)]) {
      expect(link).not.toContain('key');
      expect(parsePairing(link, here)).toEqual({ kind: 'code', origin: 'https://h:9', code });
    }
  });

  it('writes a code the way the host shows it, whatever case, spaces and dashes it came with', () => {
    expect(parsePairing('https://h/app/#/pair?code=7kq3m9xd2hvb', here)).toMatchObject({ code });
    expect(parsePairing(' 7kq3 m9xd 2hvb ', here)).toEqual({ kind: 'code', origin: here, code });
    expect(parsePairing('7KQ3M9XD2HVB', here)).toEqual({ kind: 'code', origin: here, code });
    expect(normaliseCode('7kq3-m9xd 2hvb')).toBe('7KQ3M9XD2HVB');
    expect(formatCode('7kq3m9xd2hvb')).toBe(code);
  });

  it('refuses links that carry a key, with what to do instead', () => {
    for (const link of [
      `https://desk:8000/app/#/pair?key=${key}`,
      `arcbench://pair?host=desk:8000&key=${key}`,
      `https://desk:8000/app/#/pair?key=${key}&code=${code}`,
    ]) {
      expect(() => parsePairing(link, here)).toThrow(KEY_LINK_REFUSED);
    }
    expect(KEY_LINK_REFUSED).toMatch(/no longer used.*arcbench pair/);
  });

  it('still takes a bare key (scripts, set-ups by hand) for this host', () => {
    expect(parsePairing(`  ${key}\n`, here)).toEqual({ kind: 'key', origin: here, key });
    expect(parsePairing('e2e-key-0123456789abcdef0123', here)).toEqual({ kind: 'key', origin: here, key: 'e2e-key-0123456789abcdef0123' });
  });

  it('says what is wrong with a code that cannot be one', () => {
    expect(() => parsePairing('7KQ3-M9XD-2HV', here)).toThrow(/12 letters and digits.*has 11/);
    expect(() => parsePairing('https://h/app/#/pair?code=7KQ3-M9XD-2HVB-XX', here)).toThrow(/has 14/);
    expect(() => parsePairing('https://h/app/#/pair?code=7KQ3_M9XD_2HVB', here)).toThrow(/only letters and digits/);
  });

  it('explains what is wrong with anything else', () => {
    for (const bad of ['', 'hello world', 'ftp://h/x', 'https://h/app/#/pair', 'arcbench://pair?code=7KQ3M9XD2HVB', 'not a link: at all']) {
      expect(() => parsePairing(bad, here)).toThrow(PairingError);
    }
  });
});

describe('where no host serves the page (the Tauri apps)', () => {
  it('refuses a code or key alone, saying to paste the link or scan, and still reads links', () => {
    for (const text of [code, 'a-device-key-0123456789abcdef']) {
      expect(() => parsePairing(text, null)).toThrow(/paste the whole pairing link .* or scan its QR code/);
    }
    expect(() => parsePairingRoute(new URLSearchParams(`code=${code}`), null)).toThrow(PairingError);
    expect(parsePairing(`http://100.101.102.103:8000/app/#/pair?code=${code}`, null)).toEqual({ kind: 'code', origin: 'http://100.101.102.103:8000', code });
    expect(parsePairingRoute(new URLSearchParams(`code=${code}&host=${encodeURIComponent('http://desk:8000')}`), null)?.origin).toBe('http://desk:8000');
  });
});

describe('parsePairingRoute', () => {
  it('reads the #/pair route of a code link opened on this host', () => {
    expect(parsePairingRoute(new URLSearchParams(`code=${code}`), here)).toEqual({ kind: 'code', origin: here, code });
    expect(parsePairingRoute(new URLSearchParams(''), here)).toBeNull();
  });

  it('refuses a key link opened on this host', () => {
    expect(() => parsePairingRoute(new URLSearchParams(`key=${key}`), here)).toThrow(KEY_LINK_REFUSED);
  });
});

describe('describePairingError', () => {
  const origin = 'https://desk:8000';
  const refused = (status: number, c: string, message: string) => new ApiFailure(status, { code: c as ErrorCode, message });

  it('shows the host’s words for each refusal of POST /pair, readable', () => {
    const cases: [ApiFailure, string][] = [
      [
        refused(401, 'pairing_code_invalid', 'that pairing code is not valid: check it, or get a new one with `arcbench pair`'),
        'That pairing code is not valid: check it, or get a new one with `arcbench pair`.',
      ],
      [refused(410, 'pairing_code_expired', 'that pairing code has expired (codes work for 5 minutes)'), 'That pairing code has expired (codes work for 5 minutes).'],
      [refused(410, 'pairing_code_used', 'that pairing code was already used (each works once)'), 'That pairing code was already used (each works once).'],
      [refused(429, 'rate_limited', 'too many pairing attempts; wait a minute and try again'), 'Too many pairing attempts; wait a minute and try again.'],
      [refused(400, 'bad_request', 'device_name must be 1 to 80 printable characters'), 'The host refused the request: Device_name must be 1 to 80 printable characters.'],
      [refused(404, 'not_found', 'no route'), 'This host cannot pair with codes. Update arcbench on the host.'],
    ];
    for (const [e, want] of cases) expect(describePairingError(e, origin)).toBe(want);
  });

  it('words a refusal the host gave no message for', () => {
    expect(describePairingError(new ApiFailure(410, { code: 'pairing_code_used' }), origin)).toMatch(/already used/);
    expect(describePairingError(new ApiFailure(401, { code: 'pairing_code_invalid' }), origin)).toMatch(/not valid/);
    expect(describePairingError(new ApiFailure(410, { code: 'pairing_code_expired' }), origin)).toMatch(/expired \(codes work for 5 minutes\)/);
    expect(describePairingError(new ApiFailure(429, { code: 'rate_limited' }), origin)).toMatch(/Too many pairing attempts/);
    expect(describePairingError(new ApiFailure(500, { code: 'internal', message: 'disk full' }), origin)).toBe('The host refused to pair: Disk full.');
    expect(describePairingError(new ApiFailure(502, null), origin)).toBe('The host refused to pair (502).');
  });

  it('names the host it could not reach', () => {
    expect(describePairingError(new NetworkFailure('network error'), origin)).toMatch(/Cannot reach https:\/\/desk:8000 \(network error\)/);
    expect(describePairingError(new PairingError('bad link'), origin)).toBe('bad link');
  });
});

describe('defaultDeviceName', () => {
  it('names the device from its user agent', () => {
    const cases: [string, string][] = [
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'iPhone'],
      ['Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'iPad'],
      ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36', 'Android phone'],
      ['Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 'Android tablet'],
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome on Linux'],
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36', 'Chrome on Linux'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0', 'Edge on Windows'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'Safari on macOS'],
      ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox on Linux'],
      ['', 'My device'],
    ];
    for (const [ua, name] of cases) expect(defaultDeviceName(ua)).toBe(name);
  });
});
