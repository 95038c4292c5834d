import { describe, expect, it } from 'vitest';
import { deepLink, PairingError, pairingLink, parsePairing, parsePairingRoute } from '../src/lib/client/pairing';

const here = 'http://127.0.0.1:8000';
const key = '0123456789abcdef0123456789abcdef';

describe('parsePairing', () => {
  it('reads a pairing link with the key in the fragment', () => {
    expect(parsePairing(`https://desk.example.ts.net:8000/app/#/pair?key=${key}`, here)).toEqual({
      kind: 'key',
      origin: 'https://desk.example.ts.net:8000',
      key,
    });
  });

  it('reads the deep link form', () => {
    expect(parsePairing(`arcbench://pair?host=${encodeURIComponent('https://desk:8000')}&key=${key}`, here)).toEqual({
      kind: 'key',
      origin: 'https://desk:8000',
      key,
    });
    expect(parsePairing(`arcbench://pair?host=desk.local:8000&key=${key}`, here).origin).toBe('https://desk.local:8000');
  });

  it('round-trips the links it makes', () => {
    for (const link of [pairingLink('https://h:9', key), deepLink('https://h:9', key)]) {
      expect(parsePairing(link, here)).toEqual({ kind: 'key', origin: 'https://h:9', key });
    }
  });

  it('takes a bare key as a key for this host', () => {
    expect(parsePairing(`  ${key}\n`, here)).toEqual({ kind: 'key', origin: here, key });
  });

  it('parses pairing codes for the coming POST /pair', () => {
    expect(parsePairing('https://h/app/#/pair?code=ABCD-1234', here)).toEqual({ kind: 'code', origin: 'https://h', code: 'ABCD-1234' });
  });

  it('explains what is wrong with anything else', () => {
    for (const bad of ['', 'hello world', 'ftp://h/x', 'https://h/app/#/pair', 'arcbench://pair?key=x']) {
      expect(() => parsePairing(bad, here)).toThrow(PairingError);
    }
  });
});

describe('parsePairingRoute', () => {
  it('reads the #/pair route of a link opened on this host', () => {
    expect(parsePairingRoute(new URLSearchParams(`key=${key}`), here)).toEqual({ kind: 'key', origin: here, key });
    expect(parsePairingRoute(new URLSearchParams(''), here)).toBeNull();
  });
});
