// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FetchLike } from '../src/lib/client/rest';
import { MicController, type MicDeps } from '../src/lib/voice/mic.svelte';
import { VoiceError } from '../src/lib/voice/messages';
import type { Capture, CaptureHandlers } from '../src/lib/voice/recorder';
import type { TranscriberStatus } from '../src/lib/voice/types';
import type { SpeechRecognitionCtor, SpeechRecognitionLike } from '../src/lib/voice/webSpeech';
import { storeWithFakes } from './fakes';
import { prompt, session, snapshot } from './fixtures';

const rect = { left: 300, top: 700, right: 344, bottom: 744 };

/** The host behind fetch: sessions, prompts (deduped by client_id) and /transcribe. */
function fakeHost() {
  const state = {
    calls: [] as string[],
    transcribe: [] as { url: string; type: string; bytes: number }[],
    prompts: [] as { text: string; client_id: string }[],
    answer: (): [number, unknown] => [200, { text: ' Add rate limiting to the sessions endpoint. ', duration_s: 2, model: 'tiny.en' }],
    transcriber: { state: 'ready', model: 'tiny.en', detail: null } as TranscriberStatus,
  };
  const fetch: FetchLike = async (url, init) => {
    const path = url.replace('http://host', '');
    state.calls.push(`${init.method} ${path}`);
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    if (path === '/status') return json(200, { name: 'arcbench', version: '0', demo: false, repos: ['r'], agent: { kind: 'aider', available: true, version: null, state: 'ready' }, sessions_active: 1, transcriber: state.transcriber });
    if (path === '/sessions') return json(200, { sessions: [session('s1')], last_seq: 10 });
    if (path === '/usage') return json(404, { code: 'not_found', message: 'x' });
    if (path === '/sessions/s1/snapshot') return json(200, snapshot({ last_seq: 10 }));
    if (path.startsWith('/transcribe')) {
      const body = init.body as Blob;
      state.transcribe.push({ url: path, type: (init.headers as Record<string, string>)['Content-Type']!, bytes: body.size });
      const [status, answer] = state.answer();
      return json(status, answer);
    }
    if (path === '/sessions/s1/prompts' && init.method === 'POST') {
      const body = JSON.parse(String(init.body)) as { text: string; client_id: string };
      if (!state.prompts.some((p) => p.client_id === body.client_id)) state.prompts.push(body);
      return json(202, prompt('p9', { text: body.text, client_id: body.client_id, created_at: '2026-11-24T10:00:00.000Z' }));
    }
    return json(404, { code: 'not_found', message: path });
  };
  return { state, fetch };
}

/** A microphone that records `seconds` of a quiet tone. */
function fakeMic(seconds = 2) {
  const state = { started: 0, stopped: 0, aborted: 0, handlers: null as CaptureHandlers | null, fail: null as unknown, gate: null as Promise<void> | null };
  const capture = async (h: CaptureHandlers): Promise<Capture> => {
    state.started++;
    state.handlers = h;
    if (state.gate) await state.gate;
    if (state.fail) throw state.fail;
    return {
      stop: async () => {
        state.stopped++;
        return new Float32Array(Math.round(seconds * 16_000)).fill(0.1);
      },
      abort: () => void state.aborted++,
    };
  };
  return { state, capture };
}

async function setup(over: Partial<MicDeps> = {}) {
  const host = fakeHost();
  const { app, sockets } = storeWithFakes(host.fetch);
  app.creds = { origin: 'http://host', key: 'k' };
  void app.start('s1');
  await vi.waitFor(() => expect(sockets).toHaveLength(1));
  sockets[0]!.open();
  await vi.waitFor(() => expect(app.online).toBe(true));
  await vi.waitFor(() => expect(app.voice.transcriber?.state).toBe('ready'));
  const mic = fakeMic();
  let box = 'Keep this: ';
  const inserted: string[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const deps: MicDeps = {
    voice: app.voice,
    sessionId: () => 's1',
    insert: (t) => {
      inserted.push(t);
      box = `${box}${t}`;
    },
    send: (sid, t) => app.outbox.send(sid, t),
    online: () => app.online,
    capture: mic.capture,
    support: () => null,
    transcribe: async (wav, sid) => (await app.api.transcribe(wav, sid)).text,
    recognition: null,
    deviceBroken: () => (app.voice.onDeviceBroken = true),
    setTimer: (fn, ms) => timers.push({ fn, ms, cleared: false }) - 1,
    clearTimer: (id) => void (timers[id as number]!.cleared = true),
    ...over,
  };
  const c = new MicController(deps);
  /** Runs the (not cleared) timer set for `ms`, as if that time had passed. */
  const fire = (ms: number) => timers.filter((t) => t.ms === ms && !t.cleared).forEach((t) => t.fn());
  return { app, host, mic, c, deps, inserted, box: () => box, fire };
}

const recording = (c: MicController) => vi.waitFor(() => expect(c.phase).toBe('recording'));
const settled = (c: MicController) => vi.waitFor(() => expect(c.phase).toBe('idle'));

describe('MicController: hold, release, transcript', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => vi.useRealTimers());

  it('uploads a 16 kHz WAV for the session and puts the transcript after what is in the box', async () => {
    const t = await setup();
    expect(t.c.press('pointer', 1, rect)).toBe(true);
    await recording(t.c);
    t.mic.state.handlers!.level(0.6);
    expect(t.c.level).toBe(0.6);
    t.c.release('pointer', 1);
    expect(t.c.phase).toBe('transcribing');
    await settled(t.c);
    expect(t.host.state.transcribe).toEqual([{ url: '/transcribe?session=s1', type: 'audio/wav', bytes: 44 + 2 * 32_000 }]);
    expect(t.inserted).toEqual(['Add rate limiting to the sessions endpoint.']);
    expect(t.box()).toBe('Keep this: Add rate limiting to the sessions endpoint.');
    expect(t.c.message).toBeNull();
    expect(t.host.state.prompts).toEqual([]); // nothing sent: it waits in the box for an edit
  });

  it('send on release: the transcript goes through the outbox as a prompt, exactly once', async () => {
    const t = await setup();
    t.app.voice.update({ sendOnRelease: true });
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    t.c.release('pointer', 1);
    t.c.release('pointer', 1); // a bouncing finger
    t.c.limit(); // the 60 s timer racing the release
    t.fire(60_000);
    expect(t.c.press('pointer', 2, rect)).toBe(false); // still transcribing: refused
    expect(t.c.message?.text).toMatch(/Still transcribing/);
    await settled(t.c);
    await vi.waitFor(() => expect(t.host.state.calls.filter((c) => c === 'POST /sessions/s1/prompts')).toHaveLength(1));
    await vi.waitFor(() => expect(t.app.outbox.entries).toEqual([]));
    expect(t.host.state.prompts.map((p) => p.text)).toEqual(['Add rate limiting to the sessions endpoint.']);
    expect(t.host.state.transcribe).toHaveLength(1);
    expect(t.inserted).toEqual([]);
    expect(t.box()).toBe('Keep this: '); // the box is left alone
    expect(t.app.details.view('s1')?.prompts.map((p) => p.text)).toEqual(['Add rate limiting to the sessions endpoint.']);
  });

  it('send on release that cannot be stored keeps the transcript in the box and says so', async () => {
    const t = await setup({ send: () => Promise.reject(new Error('disk full')) });
    t.app.voice.update({ sendOnRelease: true });
    t.c.press('key', 'hold');
    await recording(t.c);
    t.c.release('key', 'hold');
    await settled(t.c);
    expect(t.inserted).toEqual(['Add rate limiting to the sessions endpoint.']);
    expect(t.c.message).toMatchObject({ kind: 'error', text: expect.stringMatching(/Not sent \(disk full\)/) });
  });

  it('sliding away cancels: nothing is uploaded, the box is untouched', async () => {
    const t = await setup();
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    t.c.move('pointer', 1, { x: 320, y: 680 });
    expect(t.c.slide).toBeGreaterThan(0);
    expect(t.c.phase).toBe('recording');
    t.c.move('pointer', 1, { x: 320, y: 620 });
    expect(t.c.phase).toBe('idle');
    t.c.release('pointer', 1);
    await Promise.resolve();
    expect(t.mic.state.aborted).toBe(1);
    expect(t.mic.state.stopped).toBe(0);
    expect(t.host.state.transcribe).toEqual([]);
    expect(t.box()).toBe('Keep this: ');
    expect(t.c.message?.text).toMatch(/Cancelled.*nothing was sent/);
    // And the next hold works.
    expect(t.c.press('pointer', 2, rect)).toBe(true);
  });

  it('Escape cancels a keyboard hold', async () => {
    const t = await setup();
    t.c.press('key', 'hold');
    await recording(t.c);
    t.c.cancel('escape');
    t.c.release('key', 'hold');
    expect(t.mic.state.aborted).toBe(1);
    expect(t.host.state.transcribe).toEqual([]);
  });

  it.each([
    [503, { code: 'transcriber_unavailable', message: 'still installing faster-whisper' }, /transcriber is not available: still installing faster-whisper/],
    [422, { code: 'no_speech', message: 'nothing recognized' }, /No speech was recognized/],
    [413, { code: 'payload_too_large', message: 'too long' }, /too large/],
  ])('the host’s %i leaves the box as it was and says why', async (status, body, text) => {
    const t = await setup();
    t.host.state.answer = () => [status, body];
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    t.c.release('pointer', 1);
    await settled(t.c);
    expect(t.c.message).toMatchObject({ kind: 'error', text: expect.stringMatching(text) });
    expect(t.box()).toBe('Keep this: ');
    expect(t.host.state.prompts).toEqual([]);
  });

  it('an empty transcript is "no speech", not an empty insert', async () => {
    const t = await setup();
    t.host.state.answer = () => [200, { text: '  ', duration_s: 1, model: 'tiny.en' }];
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    t.c.release('pointer', 1);
    await settled(t.c);
    expect(t.inserted).toEqual([]);
    expect(t.c.message?.text).toMatch(/No speech/);
  });

  it('refuses a second recording from another mic button while one records', async () => {
    const t = await setup();
    const other = new MicController(t.deps);
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    expect(other.press('pointer', 7, rect)).toBe(false);
    expect(other.message?.text).toMatch(/one recording at a time/);
    expect(t.mic.state.started).toBe(1);
    t.c.release('pointer', 1);
    await settled(t.c);
    expect(other.press('pointer', 8, rect)).toBe(true); // free again
  });

  it('stops by itself at 60 s, transcribes what there is and says so', async () => {
    const t = await setup();
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    t.fire(60_000);
    expect(t.c.phase).toBe('transcribing');
    await settled(t.c);
    expect(t.host.state.transcribe).toHaveLength(1);
    expect(t.inserted).toHaveLength(1);
    expect(t.c.message).toMatchObject({ kind: 'info', text: expect.stringMatching(/Stopped at 60 s/) });
    t.c.release('pointer', 1); // the finger lifts later: nothing more
    expect(t.host.state.transcribe).toHaveLength(1);
  });

  it('a microphone that stops mid-recording (permission withdrawn) sends nothing and says so', async () => {
    const t = await setup();
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    t.mic.state.handlers!.ended();
    expect(t.c.phase).toBe('idle');
    expect(t.c.message?.text).toMatch(/microphone stopped while recording/);
    t.c.release('pointer', 1);
    expect(t.host.state.transcribe).toEqual([]);
    expect(t.box()).toBe('Keep this: ');
  });

  it('a refused microphone says how to allow it', async () => {
    const t = await setup();
    t.mic.state.fail = new DOMException('Permission denied', 'NotAllowedError');
    t.c.press('pointer', 1, rect);
    await settled(t.c);
    expect(t.c.message?.text).toMatch(/Microphone access is blocked/);
    t.c.release('pointer', 1);
    expect(t.host.state.transcribe).toEqual([]);
  });

  it('an insecure page is told to use HTTPS, before asking for the microphone', async () => {
    const t = await setup({ support: () => new VoiceError('insecure') });
    expect(t.c.press('pointer', 1, rect)).toBe(false);
    expect(t.c.message?.text).toMatch(/HTTPS.*tailnet.*localhost/);
    expect(t.mic.state.started).toBe(0);
  });

  it('a release before the microphone runs is too short; the late microphone is closed', async () => {
    const t = await setup();
    let open!: () => void;
    t.mic.state.gate = new Promise((r) => (open = r));
    t.c.press('pointer', 1, rect);
    expect(t.c.phase).toBe('starting');
    t.c.release('pointer', 1);
    expect(t.c.phase).toBe('idle');
    expect(t.c.message?.text).toMatch(/Too short/);
    open();
    await vi.waitFor(() => expect(t.mic.state.aborted).toBe(1));
    expect(t.host.state.transcribe).toEqual([]);
  });

  it('follows the host’s transcriber: disabled with the reason while installing, back when ready', async () => {
    const t = await setup();
    t.app.setTranscriber({ state: 'installing', model: 'tiny.en', detail: 'pip install faster-whisper' });
    expect(t.c.blocked).toMatch(/still installing its transcriber\. pip install faster-whisper/);
    expect(t.c.press('pointer', 1, rect)).toBe(false);
    expect(t.c.message?.text).toMatch(/installing/);
    expect(t.mic.state.started).toBe(0);
    t.app.ingest([{ seq: 11, ts: new Date().toISOString(), session_id: null, type: 'transcriber.state', transcriber: { state: 'ready', model: 'tiny.en', detail: null } } as never]);
    expect(t.c.blocked).toBeNull();
    expect(t.c.press('pointer', 1, rect)).toBe(true);
  });

  it('offline, an upload is refused at once', async () => {
    const t = await setup({ online: () => false });
    expect(t.c.press('pointer', 1, rect)).toBe(false);
    expect(t.c.message?.text).toMatch(/out of reach/);
  });
});

/** A Web Speech recognizer that hears `words`, or fails to start with `error`. */
function fakeRecognition(words: string, error?: string): { Ctor: SpeechRecognitionCtor; made: SpeechRecognitionLike[] } {
  const made: SpeechRecognitionLike[] = [];
  class Rec implements SpeechRecognitionLike {
    lang = '';
    continuous = false;
    interimResults = false;
    onresult: SpeechRecognitionLike['onresult'] = null;
    onerror: SpeechRecognitionLike['onerror'] = null;
    onend: SpeechRecognitionLike['onend'] = null;
    onstart: SpeechRecognitionLike['onstart'] = null;
    constructor() {
      made.push(this);
    }
    start() {
      queueMicrotask(() => {
        if (error) {
          this.onerror?.({ error });
          this.onend?.();
        } else {
          this.onstart?.();
          const alt = Object.assign([{ transcript: words }], { isFinal: false });
          this.onresult?.({ resultIndex: 0, results: [alt] });
        }
      });
    }
    stop() {
      queueMicrotask(() => {
        const alt = Object.assign([{ transcript: words }], { isFinal: true });
        this.onresult?.({ resultIndex: 0, results: [alt] });
        this.onend?.();
      });
    }
    abort() {
      queueMicrotask(() => this.onend?.());
    }
  }
  return { Ctor: Rec, made };
}

describe('MicController: on-device recognition (opt-in)', () => {
  beforeEach(() => localStorage.clear());

  it('when on and available, it is used instead of uploading', async () => {
    const rec = fakeRecognition('rename the config struct');
    const t = await setup({ recognition: rec.Ctor });
    expect(t.c.usesDevice).toBe(false); // off by default
    t.app.voice.update({ onDevice: true });
    expect(t.c.usesDevice).toBe(true);
    t.c.press('pointer', 1, rect);
    await recording(t.c);
    await vi.waitFor(() => expect(t.c.interim).toBe('rename the config struct'));
    t.c.release('pointer', 1);
    await settled(t.c);
    expect(t.inserted).toEqual(['rename the config struct']);
    expect(t.mic.state.started).toBe(0);
    expect(t.host.state.transcribe).toEqual([]);
  });

  it('where it refuses to run (WKWebView), the host is used from the next press', async () => {
    const rec = fakeRecognition('', 'service-not-allowed');
    const t = await setup({ recognition: rec.Ctor });
    t.app.voice.update({ onDevice: true });
    t.c.press('pointer', 1, rect);
    await settled(t.c);
    expect(t.c.message?.text).toMatch(/host’s transcriber is used/);
    expect(t.app.voice.onDeviceBroken).toBe(true);
    expect(t.c.usesDevice).toBe(false);
    t.c.press('pointer', 2, rect);
    await recording(t.c);
    t.c.release('pointer', 2);
    await settled(t.c);
    expect(t.host.state.transcribe).toHaveLength(1);
  });
});
