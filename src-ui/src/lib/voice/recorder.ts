import workletUrl from './capture.worklet.ts?worker&url';
import { VoiceError } from './messages';
import { Resampler } from './resample';
import { MAX_RECORDING_S, TRANSCRIBE_RATE } from './types';

/** What a recording reports while it runs. */
export interface CaptureHandlers {
  /** Loudness, 0 (silence, −60 dBFS or less) to 1 (full scale), some 20 times a second. */
  level(v: number): void;
  /** The microphone stopped by itself (access withdrawn, device unplugged). */
  ended(): void;
}

export interface Capture {
  /** Stops; answers the recording at 16 kHz mono (at most `MAX_RECORDING_S`). */
  stop(): Promise<Float32Array>;
  /** Stops and drops it. */
  abort(): void;
}

/** Loudness of a batch of samples, 0..1 on a −60..0 dBFS scale. */
export function levelOf(samples: Float32Array): number {
  if (!samples.length) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  const rms = Math.sqrt(sum / samples.length);
  if (rms <= 0) return 0;
  return Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 60));
}

type AudioContextCtor = typeof AudioContext;

function audioContextCtor(): AudioContextCtor | null {
  const g = globalThis as unknown as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor };
  return g.AudioContext ?? g.webkitAudioContext ?? null;
}

/** Whether this page can record at all (else the reason). */
export function captureSupport(): VoiceError | null {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices?.getUserMedia) return new VoiceError('insecure');
  const Ctx = audioContextCtor();
  if (!Ctx || typeof AudioWorkletNode === 'undefined') return new VoiceError('unsupported');
  return null;
}

/** One audio context for the page: made (and resumed) inside the first press, reused after. */
let shared: { ctx: AudioContext; module: Promise<void> } | null = null;

function context(): { ctx: AudioContext; module: Promise<void> } {
  if (!shared || shared.ctx.state === 'closed') {
    const Ctx = audioContextCtor()!;
    const ctx = new Ctx({ latencyHint: 'interactive' });
    const made = { ctx, module: ctx.audioWorklet.addModule(workletUrl) };
    // A failed load may succeed on the next press (e.g. the app was updated underneath).
    made.module.catch(() => {
      if (shared === made) shared = null;
    });
    shared = made;
  }
  return shared;
}

/**
 * Records the microphone in the page: getUserMedia → AudioWorklet (raw frames) → resampled to
 * 16 kHz mono as it arrives. Call it from the press itself: iOS lets audio start only inside a
 * user gesture. Rejects with a `VoiceError` or getUserMedia's DOMException.
 */
export async function startMicCapture(h: CaptureHandlers): Promise<Capture> {
  const unsupported = captureSupport();
  if (unsupported) throw unsupported;
  const { ctx, module } = context();
  // Synchronously inside the gesture: resume() from a later task is refused on iOS.
  const resumed = ctx.resume().catch(() => undefined);
  // Raw audio: the browser's voice processing (its gain control clips a loud voice, its noise
  // suppression leaves artefacts) only makes Whisper's job harder; nothing plays meanwhile to echo.
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const tracks = stream.getAudioTracks();
  const release = () => tracks.forEach((t) => t.stop());
  let node: AudioWorkletNode;
  let source: MediaStreamAudioSourceNode;
  try {
    await module;
    await resumed;
    if (ctx.state !== 'running') await ctx.resume();
    source = ctx.createMediaStreamSource(stream);
    node = new AudioWorkletNode(ctx, 'arcbench-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
  } catch (e) {
    release();
    throw e instanceof DOMException && e.name === 'NotAllowedError' ? e : new VoiceError('unsupported', String(e));
  }

  const max = MAX_RECORDING_S * TRANSCRIBE_RATE;
  const resampler = new Resampler(ctx.sampleRate, TRANSCRIBE_RATE);
  const chunks: Float32Array[] = [];
  let length = 0;
  let flushed: (() => void) | null = null;
  let done = false;
  const keep = (c: Float32Array) => {
    if (length >= max || !c.length) return;
    const part = c.length > max - length ? c.subarray(0, max - length) : c;
    chunks.push(part);
    length += part.length;
  };
  node.port.onmessage = (e: MessageEvent<{ type: 'audio'; samples: Float32Array } | { type: 'flushed' }>) => {
    if (e.data.type === 'flushed') return flushed?.();
    if (done) return;
    keep(resampler.push(e.data.samples));
    h.level(levelOf(e.data.samples));
  };
  for (const t of tracks) {
    t.onended = () => {
      if (!done) h.ended();
    };
  }
  source.connect(node);
  // Pulled by the destination so it runs everywhere; it writes no output (silence).
  node.connect(ctx.destination);

  const close = () => {
    done = true;
    node.port.postMessage('stop');
    source.disconnect();
    node.disconnect();
    release();
    // Nothing else records: let the device's audio sleep until the next press.
    void ctx.suspend().catch(() => undefined);
  };
  return {
    async stop() {
      if (done) return new Float32Array(0);
      // The frames still in the worklet's batch, then the resampler's tail.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 300);
        flushed = () => {
          clearTimeout(timer);
          resolve();
        };
        node.port.postMessage('flush');
      });
      close();
      keep(resampler.flush());
      const out = new Float32Array(length);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
    abort() {
      if (!done) close();
    },
  };
}
