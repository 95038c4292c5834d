import { describe, expect, it } from 'vitest';
import { afterPairing, parseRoute, sessionHref } from '../src/lib/routes';

describe('parseRoute', () => {
  it('knows every screen', () => {
    expect(parseRoute('')).toEqual({ name: 'sessions' });
    expect(parseRoute('#/')).toEqual({ name: 'sessions' });
    expect(parseRoute('#/new')).toEqual({ name: 'new' });
    expect(parseRoute('#/settings/')).toEqual({ name: 'settings' });
    expect(parseRoute('#/s/ab12cd34')).toEqual({ name: 'session', id: 'ab12cd34', tab: 'chat' });
    expect(parseRoute('#/s/ab12cd34/changes')).toEqual({ name: 'session', id: 'ab12cd34', tab: 'changes' });
    expect(parseRoute('#/nonsense')).toEqual({ name: 'sessions' });
  });

  it('keeps the pairing query', () => {
    const r = parseRoute('#/pair?key=k1&host=h');
    expect(r.name).toBe('pair');
    expect(r.name === 'pair' && r.query.get('key')).toBe('k1');
  });

  it('round-trips session links', () => {
    expect(parseRoute(sessionHref('a/b', 'changes'))).toEqual({ name: 'session', id: 'a/b', tab: 'changes' });
  });
});

describe('afterPairing', () => {
  it('leaves the pairing page for the sessions', () => {
    expect(afterPairing(parseRoute('#/pair'))).toBe('#/');
  });

  it('stays where the user went while pairing finished its first sync', () => {
    for (const hash of ['#/settings', '#/', '#/new', '#/s/abc/changes']) expect(afterPairing(parseRoute(hash)), hash).toBeNull();
  });
});
