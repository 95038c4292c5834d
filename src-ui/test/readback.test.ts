import { describe, expect, it, vi } from 'vitest';
import type { Diff, Event } from '../src/lib/bindings';
import { ApiFailure } from '../src/lib/client/errors';
import { VoiceStore } from '../src/lib/store/voice.svelte';
import { Toasts } from '../src/lib/store/toasts.svelte';
import { pendingChanges, readbackText, Speaker } from '../src/lib/voice/readback';

const hunk = (id: string, state: 'pending' | 'approved' = 'pending') => ({
  id,
  kind: 'text' as const,
  header: '@@',
  old_start: 1,
  old_lines: 1,
  new_start: 1,
  new_lines: 1,
  state,
  lines: [],
});
const file = (path: string, hunks: ReturnType<typeof hunk>[]) => ({
  path,
  old_path: null,
  status: 'modified' as const,
  binary: false,
  too_large: false,
  old_mode: null,
  new_mode: null,
  hunks,
});
const diff = (...files: ReturnType<typeof file>[]): Diff => ({ files });

describe('read-back text', () => {
  it('counts the hunks still to review and their files', () => {
    const d = diff(file('a.rs', [hunk('1'), hunk('2'), hunk('3', 'approved')]), file('b.rs', [hunk('4')]), file('c.rs', [hunk('5', 'approved')]));
    expect(pendingChanges(d)).toEqual({ hunks: 3, files: 2 });
    expect(readbackText('done', null, pendingChanges(d))).toBe('Done. 3 hunks await review in 2 files.');
  });

  it('speaks singulars and nothing to review', () => {
    expect(readbackText('done', null, { hunks: 1, files: 1 })).toBe('Done. 1 hunk awaits review in 1 file.');
    expect(readbackText('done', null, { hunks: 2, files: 1 })).toBe('Done. 2 hunks await review in 1 file.');
    expect(readbackText('done', null, { hunks: 0, files: 0 })).toBe('Done. No changes await review.');
    expect(readbackText('done', null, null)).toBe('Done.');
  });

  it('says why a prompt failed, briefly', () => {
    expect(readbackText('failed', 'The API key was refused.', null)).toBe('The prompt failed: The API key was refused.');
    expect(readbackText('failed', 'aider exited with 1\nTraceback (most recent call last): …', null)).toBe('The prompt failed: aider exited with 1.');
    expect(readbackText('failed', null, null)).toBe('The prompt failed.');
    expect(readbackText('failed', 'x'.repeat(500), null).length).toBeLessThan(230);
    expect(readbackText('cancelled', null, null)).toBe('The prompt was cancelled.');
    expect(readbackText('interrupted', null, null)).toMatch(/interrupted/);
    expect(readbackText('running', null, null)).toBe('');
  });
});

/** speechSynthesis with (or without) voices. */
function fakeSynth(voices: number) {
  const spoken: string[] = [];
  const synth = {
    getVoices: () => Array.from({ length: voices }, () => ({}) as SpeechSynthesisVoice),
    speak: (u: SpeechSynthesisUtterance) => spoken.push(u.text),
    cancel: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  } as unknown as SpeechSynthesis;
  return { synth, spoken };
}

describe('Speaker: the browser’s voice, else the host’s WAV', () => {
  it('uses speechSynthesis where it has voices', async () => {
    vi.stubGlobal('SpeechSynthesisUtterance', class { constructor(readonly text: string) {} });
    const { synth, spoken } = fakeSynth(2);
    const hostWav = vi.fn(async () => new Blob());
    const s = new Speaker({ synth, hostWav, play: async () => undefined });
    expect(await s.speak('Done.')).toBe('synth');
    expect(spoken).toEqual(['Done.']);
    expect(hostWav).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });

  it('plays the host’s rendering where there are no voices (headless Chromium, Android WebView) or no synthesis', async () => {
    const played: Blob[] = [];
    const wav = new Blob(['RIFF'], { type: 'audio/wav' });
    const hostWav = vi.fn(async () => wav);
    const s = new Speaker({ synth: fakeSynth(0).synth, hostWav, play: async (b) => void played.push(b), voicesTimeoutMs: 5 });
    expect(await s.speak('Done. 1 hunk awaits review in 1 file.')).toBe('host');
    expect(hostWav).toHaveBeenCalledWith('Done. 1 hunk awaits review in 1 file.');
    expect(played).toEqual([wav]);
    const none = new Speaker({ synth: null, hostWav, play: async () => undefined });
    expect(await none.speak('x')).toBe('host');
  });
});

describe('VoiceStore read-back on prompt.finished', () => {
  const finished = (over: Partial<Extract<Event, { type: 'prompt.finished' }>> = {}): Event => ({
    seq: 5,
    ts: new Date('2026-11-24T10:00:00Z').toISOString(),
    session_id: 's1',
    type: 'prompt.finished',
    prompt_id: 'p1',
    state: 'done',
    usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cost_usd: 0 },
    ...over,
  });

  function setup(open = ['s1']) {
    const said: string[] = [];
    const toasts = new Toasts();
    const speaker = { speak: vi.fn(async (t: string) => void said.push(t)) } as unknown as Speaker;
    const freshDiff = vi.fn(async () => diff(file('src/lib.rs', [hunk('1'), hunk('2')])));
    const voice = new VoiceStore({
      api: () => {
        throw new Error('no api');
      },
      toasts,
      transcriber: () => null,
      isOpen: (id) => open.includes(id),
      freshDiff,
      speaker,
      player: { unlock: () => undefined, play: async () => undefined },
      now: () => Date.parse('2026-11-24T10:00:05Z'),
    });
    return { voice, said, toasts, speaker, freshDiff };
  }

  it('is off by default; when on, reads the open session’s finished turn with fresh counts', async () => {
    const t = setup();
    expect(t.voice.settings.readBack).toBe(false);
    t.voice.apply(finished());
    await Promise.resolve();
    expect(t.said).toEqual([]);
    t.voice.settings.readBack = true;
    t.voice.apply(finished());
    await vi.waitFor(() => expect(t.said).toEqual(['Done. 2 hunks await review in 1 file.']));
    expect(t.freshDiff).toHaveBeenCalledWith('s1');
    expect(t.voice.lastReadback).toBe('Done. 2 hunks await review in 1 file.');
  });

  it('reads a failure with its reason', async () => {
    const t = setup();
    t.voice.settings.readBack = true;
    t.voice.apply(finished({ state: 'failed', reason: 'the budget is spent' }));
    await vi.waitFor(() => expect(t.said).toEqual(['The prompt failed: the budget is spent.']));
  });

  it('stays quiet for other sessions, old news and other events', async () => {
    const t = setup();
    t.voice.settings.readBack = true;
    t.voice.apply(finished({ session_id: 's2' }));
    t.voice.apply(finished({ ts: '2026-11-24T09:00:00Z' })); // an hour old: caught up after a reconnect
    t.voice.apply({ ...finished(), type: 'prompt.started', prompt_id: 'p1' } as Event);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.said).toEqual([]);
  });

  it('says why nothing was heard when neither the browser nor the host can speak', async () => {
    const t = setup();
    t.voice.settings.readBack = true;
    (t.speaker.speak as ReturnType<typeof vi.fn>).mockRejectedValueOnce(new ApiFailure(503, { code: 'speech_unavailable' as never, message: 'no espeak-ng' }));
    t.voice.apply(finished());
    await vi.waitFor(() => expect(t.toasts.list.map((x) => x.text)).toEqual([expect.stringMatching(/^Read-back: Done\. 2 hunks.*no espeak-ng/)]));
  });
});
