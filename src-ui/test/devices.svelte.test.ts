import { describe, expect, it, vi } from 'vitest';
import type { Device, Event } from '../src/lib/bindings';
import type { ArcbenchApi } from '../src/lib/client/rest';
import { CODE_LIFETIME_MS, codeDeadline, DevicesStore, foldDevices } from '../src/lib/store/devices.svelte';
import { countdown, meshSummary } from '../src/lib/mesh';

const device = (id: string, created = '2026-11-24T09:00:00.000Z', name = `Phone ${id}`): Device => ({
  id,
  name,
  created_at: created,
  last_seen_at: null,
});
const paired = (seq: number, d: Device): Event => ({ seq, ts: 'now', type: 'device.paired', device: d });
const revoked = (seq: number, id: string): Event => ({ seq, ts: 'now', type: 'device.revoked', device_id: id });

describe('foldDevices', () => {
  it('adds a paired device in pairing order, and replaces one it already has', () => {
    const a = device('a', '2026-11-24T09:00:00.000Z');
    const b = device('b', '2026-11-24T10:00:00.000Z');
    let list = foldDevices([b], paired(1, a));
    expect(list.map((d) => d.id)).toEqual(['a', 'b']);
    list = foldDevices(list, paired(2, { ...a, name: 'Renamed' }));
    expect(list.map((d) => d.name)).toEqual(['Renamed', 'Phone b']);
  });

  it('removes a revoked device; an unknown id or another event changes nothing', () => {
    const list = [device('a'), device('b', '2026-11-24T10:00:00.000Z')];
    expect(foldDevices(list, revoked(1, 'a')).map((d) => d.id)).toEqual(['b']);
    expect(foldDevices(list, revoked(2, 'zz'))).toBe(list);
    expect(foldDevices(list, { seq: 3, ts: 'now', type: 'prompt.started', prompt_id: 'p', session_id: 's' })).toBe(list);
  });
});

function store(devices: () => Promise<Device[]>, self: string | null = 'me') {
  const onSelfRevoked = vi.fn();
  const api = {
    devices,
    revokeDevice: vi.fn(async (id: string) => device(id)),
    createPairingCode: vi.fn(async () => ({
      code: '7KQ3-M9XD-2HVB',
      expires_at: new Date(Date.now() + CODE_LIFETIME_MS).toISOString(),
      links: ['https://desk.ts.net/app/#/pair?code=7KQ3-M9XD-2HVB'],
      qr_svg: '<svg/>',
    })),
  };
  const s = new DevicesStore({ api: () => api as unknown as ArcbenchApi, selfId: () => self, onSelfRevoked });
  return { s, api, onSelfRevoked };
}

describe('DevicesStore', () => {
  it('loads the list, then folds live events in', async () => {
    const t = store(async () => [device('me'), device('b', '2026-11-24T10:00:00.000Z')]);
    t.s.apply(paired(1, device('early'))); // before any list: nothing to fold into
    expect(t.s.list).toBeNull();
    await t.s.load();
    expect(t.s.list?.map((d) => d.id)).toEqual(['me', 'b']);
    t.s.apply(paired(2, device('c', '2026-11-24T11:00:00.000Z')));
    t.s.apply(revoked(3, 'b'));
    expect(t.s.list?.map((d) => d.id)).toEqual(['me', 'c']);
    expect(t.onSelfRevoked).not.toHaveBeenCalled();
  });

  it('folds events that raced the GET onto its answer', async () => {
    let answer: (d: Device[]) => void = () => undefined;
    const t = store(() => new Promise((r) => (answer = r)));
    const loading = t.s.load();
    expect(t.s.loading).toBe(true);
    t.s.apply(paired(1, device('new', '2026-11-24T12:00:00.000Z')));
    t.s.apply(revoked(2, 'old'));
    answer([device('old'), device('me')]); // read before both events
    await loading;
    expect(t.s.list?.map((d) => d.id)).toEqual(['me', 'new']);
    expect(t.s.loading).toBe(false);
  });

  it('shows a failed load as an error to retry', async () => {
    const t = store(() => Promise.reject(new Error('host down')));
    await t.s.load();
    expect(t.s.list).toBeNull();
    expect(t.s.error).toBe('host down');
  });

  it('this device revoked (by event or from here) unpairs it', async () => {
    const t = store(async () => [device('me'), device('b')]);
    await t.s.load();
    await t.s.revoke('b');
    expect(t.api.revokeDevice).toHaveBeenCalledWith('b');
    expect(t.s.list?.map((d) => d.id)).toEqual(['me']);
    expect(t.onSelfRevoked).not.toHaveBeenCalled();
    t.s.apply(revoked(5, 'me'));
    expect(t.onSelfRevoked).toHaveBeenCalledTimes(1);
    await t.s.revoke('me');
    expect(t.onSelfRevoked).toHaveBeenCalledTimes(2);
  });

  it('keeps the code it asked for, with its deadline', async () => {
    const t = store(async () => []);
    const now = Date.now();
    await t.s.newCode(now);
    expect(t.s.code?.code.code).toBe('7KQ3-M9XD-2HVB');
    expect(Math.abs(t.s.code!.deadline - (now + CODE_LIFETIME_MS))).toBeLessThan(1000);
    t.s.reset();
    expect(t.s.code).toBeNull();
  });
});

describe('codeDeadline and countdown', () => {
  const now = Date.parse('2026-11-24T10:00:00.000Z');
  it('trusts the host’s expiry, unless this clock is far off', () => {
    expect(codeDeadline('2026-11-24T10:04:30.000Z', now)).toBe(now + 270_000);
    // This clock runs 10 minutes ahead: the code would look expired at once.
    expect(codeDeadline('2026-11-24T09:55:00.000Z', now)).toBe(now + CODE_LIFETIME_MS);
    // Or behind: it would look valid for 20 minutes.
    expect(codeDeadline('2026-11-24T10:20:00.000Z', now)).toBe(now + CODE_LIFETIME_MS);
    expect(codeDeadline('garbage', now)).toBe(now + CODE_LIFETIME_MS);
  });

  it('counts down in m:ss, then null', () => {
    expect(countdown(now + 300_000, now)).toBe('5:00');
    expect(countdown(now + 61_500, now)).toBe('1:02');
    expect(countdown(now + 400, now)).toBe('0:01');
    expect(countdown(now, now)).toBeNull();
  });
});

describe('meshSummary', () => {
  const mesh = { tailscale: 'running' as const, dns_name: 'laptop.tail1234.ts.net.', ips: ['100.64.0.1'], https_url: null, urls: ['http://127.0.0.1:8000'], hint: null };
  it('says where the host is reachable, or why not', () => {
    expect(meshSummary({ ...mesh, https_url: 'https://laptop.tail1234.ts.net:8000' })).toEqual({
      reach: 'Reachable at',
      url: 'https://laptop.tail1234.ts.net:8000',
      hint: null,
    });
    expect(meshSummary(mesh).reach).toBe('On the tailnet as laptop.tail1234.ts.net');
    expect(meshSummary({ ...mesh, tailscale: 'needs_login', dns_name: null, hint: 'Run `tailscale up` on the host.' })).toEqual({
      reach: 'Tailscale on the host needs a login',
      url: null,
      hint: 'Run `tailscale up` on the host.',
    });
  });
});
