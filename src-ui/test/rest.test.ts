import { describe, expect, it } from 'vitest';
import { ApiFailure, describeError, NetworkFailure } from '../src/lib/client/errors';
import { ArcbenchApi, type FetchLike } from '../src/lib/client/rest';
import { prompt } from './fixtures';

interface Call {
  url: string;
  init: RequestInit;
}

function fakeFetch(respond: (call: Call) => Response | Promise<Response>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url, init };
      calls.push(call);
      return respond(call);
    },
  };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('ArcbenchApi', () => {
  it('sends the key as a bearer header and JSON bodies', async () => {
    const f = fakeFetch(() => json(200, { files: [] }));
    const api = new ArcbenchApi({ origin: 'http://h:1/', key: 'k' }, { fetch: f.fetch });
    await api.rejectHunks('s 1', ['a', 'b'], '  too clever ');
    const [call] = f.calls;
    expect(call?.url).toBe('http://h:1/sessions/s%201/hunks/reject');
    expect(call?.init.method).toBe('POST');
    expect((call?.init.headers as Record<string, string>).Authorization).toBe('Bearer k');
    expect(JSON.parse(String(call?.init.body))).toEqual({ ids: ['a', 'b'], comment: 'too clever' });
    expect(call?.init.cache).toBe('no-store');
  });

  it('tells a new prompt (202) from a repeated client_id (200)', async () => {
    let status = 202;
    const f = fakeFetch(() => json(status, prompt('p1')));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: f.fetch });
    expect((await api.submitPrompt('s', { text: 't', client_id: 'c' })).created).toBe(true);
    status = 200;
    expect((await api.submitPrompt('s', { text: 't', client_id: 'c' })).created).toBe(false);
  });

  it('turns error bodies into ApiFailure with the contract code', async () => {
    const f = fakeFetch(() => json(409, { code: 'session_busy', message: 'a prompt is running' }));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: f.fetch });
    const err = await api.approveHunks('s', ['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect(err).toMatchObject({ status: 409, code: 'session_busy', retryable: false });
    expect(describeError(err)).toMatch(/agent is working.*a prompt is running/);
  });

  it('copes with error answers that are not JSON', async () => {
    const f = fakeFetch(() => new Response('Bad Gateway', { status: 502 }));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: f.fetch });
    const err = await api.status().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: 'unknown', retryable: true });
  });

  it('reports no answer as NetworkFailure, including a timeout', async () => {
    const down = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
    await expect(down.sessions()).rejects.toBeInstanceOf(NetworkFailure);

    const hang: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const slow = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: hang, timeoutMs: 20 });
    const err = await slow.sessions().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkFailure);
    expect((err as Error).message).toMatch(/no answer/);
  });

  it('never puts the key in a URL', async () => {
    const f = fakeFetch(() => json(200, { events: [] }));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'secret-key' }, { fetch: f.fetch });
    await api.events(5);
    expect(f.calls[0]?.url).toBe('http://h/events?since=5');
  });
});

describe('ArcbenchApi voice routes', () => {
  it('POST /transcribe sends the WAV bytes as audio/wav with the session, and reads the transcript', async () => {
    const f = fakeFetch(() => json(200, { text: 'add rate limiting', duration_s: 2.1, model: 'tiny.en' }));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: f.fetch });
    const wav = new Blob([new Uint8Array(44 + 64)], { type: 'audio/wav' });
    expect(await api.transcribe(wav, 's 1')).toEqual({ text: 'add rate limiting', duration_s: 2.1, model: 'tiny.en' });
    const [call] = f.calls;
    expect(call?.url).toBe('http://h/transcribe?session=s%201');
    expect(call?.init.method).toBe('POST');
    expect(call?.init.headers).toEqual({ Authorization: 'Bearer k', 'Content-Type': 'audio/wav' });
    expect(call?.init.body).toBe(wav);
    await api.transcribe(wav);
    expect(f.calls[1]?.url).toBe('http://h/transcribe');
  });

  it('turns the transcriber’s refusals into ApiFailure', async () => {
    const f = fakeFetch(() => json(503, { code: 'transcriber_unavailable', message: 'still installing' }));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: f.fetch });
    const err = await api.transcribe(new Blob()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'transcriber_unavailable', message: 'still installing' });
  });

  it('POST /speech sends JSON text and answers the WAV as a blob', async () => {
    const f = fakeFetch(() => new Response(new Uint8Array([82, 73, 70, 70]), { status: 200, headers: { 'Content-Type': 'audio/wav' } }));
    const api = new ArcbenchApi({ origin: 'http://h', key: 'k' }, { fetch: f.fetch });
    const wav = await api.speech('Done.');
    expect(wav.type).toBe('audio/wav');
    expect(new Uint8Array(await wav.arrayBuffer())).toEqual(new Uint8Array([82, 73, 70, 70]));
    expect(JSON.parse(String(f.calls[0]?.init.body))).toEqual({ text: 'Done.' });
    expect(f.calls[0]?.url).toBe('http://h/speech');
  });
});
