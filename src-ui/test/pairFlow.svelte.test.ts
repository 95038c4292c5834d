// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Device, Event } from '../src/lib/bindings';
import { loadCredentials } from '../src/lib/client/credentials';
import { ApiFailure } from '../src/lib/client/errors';
import { describePairingError } from '../src/lib/client/pairing';
import type { FetchLike } from '../src/lib/client/rest';
import { storeWithFakes } from './fakes';
import { session } from './fixtures';

const ORIGIN = 'http://host';
const CODE = '7KQ3-M9XD-2HVB';
const DEVICE_KEY = 'device-key-abcdefghijklmnopqrstuvwxyz';
const me: Device = { id: 'dev-me', name: 'Chrome on Linux', created_at: '2026-11-24T09:00:00.000Z', last_seen_at: null };
const other: Device = { id: 'dev-other', name: 'iPad', created_at: '2026-11-24T08:00:00.000Z', last_seen_at: null };

/** A host behind fetch that redeems one code, and refuses keys it revoked. */
function fakeHost() {
  const state = {
    calls: [] as { method: string; path: string; auth: string | null; body: unknown }[],
    /** What POST /pair answers instead of pairing. */
    refusePair: null as { status: number; code: string; message: string } | null,
    revoked: new Set<string>(),
    devices: [other, me],
  };
  const fetch: FetchLike = async (url, init) => {
    const path = url.replace(ORIGIN, '');
    const headers = (init.headers ?? {}) as Record<string, string>;
    const auth = headers.Authorization ?? null;
    state.calls.push({ method: String(init.method), path, auth, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    if (path === '/pair' && init.method === 'POST') {
      if (state.refusePair) return json(state.refusePair.status, { code: state.refusePair.code, message: state.refusePair.message });
      return json(201, { device: me, key: DEVICE_KEY });
    }
    if (!auth || state.revoked.has(auth.replace('Bearer ', ''))) return json(401, { code: 'unauthorized', message: 'unknown or revoked key' });
    if (path === '/status') return json(200, { name: 'arcbench', version: '0', demo: false, repos: ['r'], agent: { kind: 'aider', available: true, version: null, state: 'ready' }, sessions_active: 0, mesh: { tailscale: 'absent', dns_name: null, ips: [], https_url: null, urls: [ORIGIN], hint: 'Install Tailscale' } });
    if (path === '/sessions') return json(200, { sessions: [session('s1')], last_seq: 10 });
    if (path === '/usage') return json(404, { code: 'not_found', message: 'skip' });
    if (path === '/devices') return json(200, { devices: state.devices });
    return json(404, { code: 'not_found', message: path });
  };
  return { state, fetch };
}

function setup() {
  const host = fakeHost();
  const { app, sockets } = storeWithFakes(host.fetch);
  return { app, host, sockets, last: () => sockets[sockets.length - 1]! };
}

/** Paired with a code, socket open and authenticated. */
async function paired() {
  const t = setup();
  await t.app.pair({ kind: 'code', origin: ORIGIN, code: CODE }, '  Chrome on Linux ');
  await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
  t.last().open();
  return t;
}

describe('pairing with a code', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => vi.useRealTimers());

  it('redeems the code without a key, keeps the device key and id, and uses that key', async () => {
    const t = await paired();
    const pair = t.host.state.calls.find((c) => c.path === '/pair');
    expect(pair).toEqual({ method: 'POST', path: '/pair', auth: null, body: { code: CODE, device_name: 'Chrome on Linux' } });
    expect(loadCredentials()).toEqual({ origin: ORIGIN, key: DEVICE_KEY, deviceId: 'dev-me' });
    expect(t.app.creds?.deviceId).toBe('dev-me');
    expect(JSON.parse(t.last().sent[0]!)).toEqual({ type: 'auth', token: DEVICE_KEY });
    const authed = t.host.state.calls.filter((c) => c.path !== '/pair');
    expect(authed.length).toBeGreaterThan(0);
    expect(authed.every((c) => c.auth === `Bearer ${DEVICE_KEY}`)).toBe(true);
    expect(t.app.status?.mesh.hint).toBe('Install Tailscale');
  });

  it('keeps nothing when the host refuses the code, and says why', async () => {
    const cases: [number, string, RegExp][] = [
      [401, 'pairing_code_invalid', /^That pairing code is not valid/],
      [410, 'pairing_code_expired', /^That pairing code has expired/],
      [410, 'pairing_code_used', /^That pairing code was already used/],
      [429, 'rate_limited', /^Too many pairing attempts/],
      [400, 'bad_request', /^The host refused the request: The device name is empty\.$/],
    ];
    for (const [status, code, want] of cases) {
      const t = setup();
      t.host.state.refusePair = { status, code, message: code === 'bad_request' ? 'the device name is empty' : '' };
      const err = await t.app.pair({ kind: 'code', origin: ORIGIN, code: CODE }, 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiFailure);
      expect((err as ApiFailure).code).toBe(code);
      expect(describePairingError(err, ORIGIN)).toMatch(want);
      expect(t.app.paired).toBe(false);
      expect(loadCredentials()).toBeNull();
      expect(t.sockets).toHaveLength(0);
    }
  });

  it('lists the devices, marks this one, and follows device events', async () => {
    const t = await paired();
    await t.app.devices.load();
    expect(t.app.devices.list?.map((d) => d.id)).toEqual(['dev-other', 'dev-me']);
    expect(t.app.devices.selfId).toBe('dev-me');
    const ev = (seq: number, body: Partial<Event>) => t.last().deliver(seq, { session_id: null, ...body });
    ev(11, { type: 'device.paired', device: { id: 'dev-new', name: 'Pixel', created_at: '2026-11-24T10:00:00.000Z', last_seen_at: null } });
    ev(12, { type: 'device.revoked', device_id: 'dev-other' });
    await vi.waitFor(() => expect(t.app.devices.list?.map((d) => d.id)).toEqual(['dev-me', 'dev-new']));
    expect(t.app.paired).toBe(true);
    expect(t.app.revoked).toBeNull();
  });
});

describe('unpaired on the host', () => {
  beforeEach(() => localStorage.clear());

  it('a 4401 close drops the key, shows the unpaired state and never reconnects', async () => {
    const t = await paired();
    t.host.state.revoked.add(DEVICE_KEY);
    t.last().drop(4401);
    expect(t.app.revoked).toEqual({ origin: ORIGIN });
    expect(t.app.paired).toBe(false);
    expect(loadCredentials()).toBeNull();
    await new Promise((r) => setTimeout(r, 120)); // several backoff periods
    expect(t.sockets).toHaveLength(1);
    expect(t.app.toasts.list).toEqual([]);
  });

  it('a REST 401 does the same', async () => {
    const t = await paired();
    t.host.state.revoked.add(DEVICE_KEY);
    await t.app.devices.load();
    expect(t.app.revoked).toEqual({ origin: ORIGIN });
    expect(loadCredentials()).toBeNull();
    expect(t.last().closed).not.toBeNull();
  });

  it('a stored key refused at start-up leads to the unpaired state, not a retry loop', async () => {
    localStorage.setItem('arcbench.host', JSON.stringify({ origin: ORIGIN, key: 'old-revoked-key', deviceId: 'dev-old' }));
    const t = setup();
    t.host.state.revoked.add('old-revoked-key');
    expect(t.app.paired).toBe(true);
    await t.app.start();
    await vi.waitFor(() => expect(t.app.revoked).toEqual({ origin: ORIGIN }));
    await new Promise((r) => setTimeout(r, 120));
    expect(t.sockets).toHaveLength(0);
    expect(t.host.state.calls.filter((c) => c.path === '/status').length).toBeLessThanOrEqual(1);
  });

  it('its own device.revoked event unpairs it; pairing again clears the notice', async () => {
    const t = await paired();
    t.last().deliver(11, { session_id: null, type: 'device.revoked', device_id: 'dev-me' });
    await vi.waitFor(() => expect(t.app.revoked).toEqual({ origin: ORIGIN }));
    await t.app.pair({ kind: 'code', origin: ORIGIN, code: 'AAAA-BBBB-CCCC' }, 'Again');
    expect(t.app.revoked).toBeNull();
    expect(t.app.paired).toBe(true);
  });

  it('a refusal of credentials already replaced is ignored', async () => {
    const t = await paired();
    const first = t.last();
    await t.app.pair({ kind: 'code', origin: ORIGIN, code: 'AAAA-BBBB-CCCC' }, 'Again');
    first.onclose?.({ code: 4401, reason: '' }); // a late close of the old socket
    expect(t.app.paired).toBe(true);
    expect(t.app.revoked).toBeNull();
  });
});
