import { afterEach, describe, expect, it, vi } from 'vitest';
import { openSession, planOpen, tapTarget, type SessionOpener } from '../src/lib/remote/openSession';

/**
 * A tapped notification of the phone app's: which host and session it names (as the plugin
 * delivers it), and what opening it does to the hosts and the route.
 */

const hosts = { ids: ['h1', 'h2'], shownId: 'h1' };

describe('planOpen', () => {
  it('opens the session at once on the host shown', () => {
    expect(planOpen({ host_id: 'h1', session_id: 's1' }, hosts)).toEqual({ kind: 'open', switchTo: null, href: '#/s/s1' });
  });

  it('switches first to another paired host', () => {
    expect(planOpen({ host_id: 'h2', session_id: 'a b' }, hosts)).toEqual({ kind: 'open', switchTo: 'h2', href: '#/s/a%20b' });
  });

  it('switches to the selected host when it is not on screen (pairing another, its key gone)', () => {
    expect(planOpen({ host_id: 'h1', session_id: 's1' }, { ...hosts, shownId: null })).toMatchObject({ switchTo: 'h1' });
  });

  it('ignores a host no longer paired', () => {
    expect(planOpen({ host_id: 'gone', session_id: 's1' }, hosts)).toEqual({ kind: 'unknown-host', hostId: 'gone' });
    expect(planOpen({ host_id: 'h1', session_id: 's1' }, { ids: [], shownId: null })).toMatchObject({ kind: 'unknown-host' });
  });
});

describe('tapTarget', () => {
  const extra = { host_id: 'h2', session_id: 's9' };

  it('reads the extras of a tap, as iOS and Android deliver it', () => {
    expect(tapTarget({ actionId: 'tap', notification: { id: 3, title: 'Turn finished', body: '…', extra } })).toEqual(extra);
  });

  it('reads the extras of a bare notification, as the plugin’s type says', () => {
    expect(tapTarget({ title: 'Turn finished', extra })).toEqual(extra);
  });

  it('is nothing for a dismissal, or a notification about no session', () => {
    expect(tapTarget({ actionId: 'dismiss', notification: { extra } })).toBeNull();
    expect(tapTarget({ actionId: 'tap', notification: { extra: { host_id: 'h2' } } })).toBeNull();
    expect(tapTarget({ actionId: 'tap', notification: { extra: { host_id: 'h2', session_id: '' } } })).toBeNull();
    expect(tapTarget({ actionId: 'tap', notification: { extra: { host_id: 2, session_id: 's' } } })).toBeNull();
    expect(tapTarget({ actionId: 'tap', notification: null })).toBeNull();
    expect(tapTarget({ actionId: 'tap' })).toBeNull();
    expect(tapTarget(null)).toBeNull();
    expect(tapTarget('tap')).toBeNull();
  });
});

describe('openSession', () => {
  afterEach(() => vi.restoreAllMocks());

  /** The page's hosts, with a switch that works unless refused. */
  function page(shownId: string | null, refuse = false) {
    const log: string[] = [];
    const state = { ids: ['h1', 'h2'], shownId };
    const opener: SessionOpener = {
      hosts: () => state,
      select: async (id) => {
        log.push(`select ${id}`);
        if (!refuse) state.shownId = id;
      },
      go: (href) => void log.push(`go ${href}`),
    };
    return { log, opener };
  }

  it('goes to the session on the host shown', async () => {
    const p = page('h1');
    await openSession({ host_id: 'h1', session_id: 's1' }, p.opener);
    expect(p.log).toEqual(['go #/s/s1']);
  });

  it('switches host, then goes to the session', async () => {
    const p = page('h1');
    await openSession({ host_id: 'h2', session_id: 's2' }, p.opener);
    expect(p.log).toEqual(['select h2', 'go #/s/s2']);
  });

  it('stays put when the switch failed: that session is not the shown host’s', async () => {
    const p = page('h1', true);
    await openSession({ host_id: 'h2', session_id: 's2' }, p.opener);
    expect(p.log).toEqual(['select h2']);
  });

  it('ignores an unknown host with a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const p = page('h1');
    await openSession({ host_id: 'gone', session_id: 's1' }, p.opener);
    expect(p.log).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('gone'));
  });
});
