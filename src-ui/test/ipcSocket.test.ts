// @vitest-environment happy-dom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IpcSocket } from '../src/lib/desktop/ipcSocket';

/** The app's side of `follow_events`: the channel it was given, and what it was asked. */
function fakeFeeds() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let channel: { id: number } | null = null;
  let sent = 0;
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    if (cmd === 'follow_events') {
      channel = args.channel as { id: number };
      return 7;
    }
    if (cmd === 'unfollow_events') return null;
    throw `unknown command ${cmd}`;
  });
  const internals = () => (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } }).__TAURI_INTERNALS__;
  return {
    calls,
    /** The app sends one message on the feed's channel (in order, as Tauri numbers them). */
    push(message: unknown) {
      if (!channel) throw new Error('no feed yet');
      internals().runCallback(channel.id, { index: sent++, message });
    },
  };
}

async function opened(url = 'http://127.0.0.1:1/ws?since=42') {
  const socket = new IpcSocket(url);
  const got: unknown[] = [];
  const closes: { code: number; reason: string }[] = [];
  socket.onmessage = (ev) => got.push(JSON.parse(String(ev.data)));
  socket.onclose = (ev) => closes.push(ev);
  await new Promise<void>((resolve) => (socket.onopen = () => resolve()));
  return { socket, got, closes };
}

afterEach(() => clearMocks());

describe('IpcSocket: the event feed over the app’s IPC, as EventSocket’s WebSocket', () => {
  it('opens, starts the feed after since on its first message, and hands events on in order', async () => {
    const app = fakeFeeds();
    const { socket, got } = await opened();
    expect(socket.readyState).toBe(1);
    expect(app.calls).toEqual([]);
    socket.send(JSON.stringify({ type: 'auth', token: 'not needed' }));
    await vi.waitFor(() => expect(app.calls.map((c) => c.cmd)).toEqual(['follow_events']));
    expect(app.calls[0]!.args.query).toEqual({ since: 42 });
    app.push({ type: 'event', event: { seq: 43, type: 'session.created' } });
    app.push({ type: 'event', event: { seq: 44, type: 'prompt.queued' } });
    expect(got).toEqual([
      { seq: 43, type: 'session.created' },
      { seq: 44, type: 'prompt.queued' },
    ]);
  });

  it('closes with the feed’s own code (resync, resume, host stopped)', async () => {
    const app = fakeFeeds();
    const { socket, closes, got } = await opened();
    socket.send('{}');
    await vi.waitFor(() => expect(app.calls).toHaveLength(1));
    app.push({ type: 'closed', code: 4410, reason: 'compacted' });
    expect(closes).toEqual([{ code: 4410, reason: 'compacted' }]);
    expect(socket.readyState).toBe(3);
    // Nothing after the close reaches the reader.
    app.push({ type: 'event', event: { seq: 50 } });
    expect(got).toEqual([]);
  });

  it('ends the app’s feed when the reader closes it', async () => {
    const app = fakeFeeds();
    const { socket, closes } = await opened();
    socket.send('{}');
    await vi.waitFor(() => expect(app.calls).toHaveLength(1));
    socket.close(1000, 'client closing');
    expect(closes).toEqual([{ code: 1000, reason: 'client closing' }]);
    await vi.waitFor(() => expect(app.calls.at(-1)).toEqual({ cmd: 'unfollow_events', args: { id: 7 } }));
  });

  it('a feed the app refuses closes like a failed socket', async () => {
    mockIPC((cmd) => {
      if (cmd === 'follow_events') throw { code: 'conflict', message: 'the host is not running' };
      return null;
    });
    const { socket, closes } = await opened();
    socket.send('{}');
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1011, reason: 'the host is not running' }]));
  });
});
