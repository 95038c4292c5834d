import { describeError } from '../client/errors';
import type { VoiceStore } from '../store/voice.svelte';
import { HoldGesture, type CancelReason, type HoldSource, type Point, type Rect } from './gesture';
import { VoiceError, voiceMessage } from './messages';
import type { Capture, CaptureHandlers } from './recorder';
import { MAX_RECORDING_S, TRANSCRIBE_RATE } from './types';
import { encodeWav } from './wav';
import type { SpeechRecognitionCtor } from './webSpeech';
import { startRecognition } from './webSpeech';

/** Shorter than this is a slip of the finger, not a prompt. */
export const MIN_RECORDING_S = 0.3;

export type MicPhase = 'idle' | 'starting' | 'recording' | 'transcribing';

export interface MicMessage {
  kind: 'error' | 'info';
  text: string;
}

/** One recording on its way: `finish` answers its text (transcribed by the host or the device). */
export interface Take {
  finish(): Promise<string>;
  abort(): void;
}

export interface TakeHandlers extends CaptureHandlers {
  /** On-device recognition's text so far. */
  interim(text: string): void;
}

export interface Engine {
  kind: 'host' | 'device';
  start(h: TakeHandlers): Promise<Take>;
}

export interface MicDeps {
  voice: Pick<VoiceStore, 'settings' | 'transcriber' | 'claim' | 'release' | 'gesture' | 'onDeviceBroken'>;
  sessionId: () => string;
  /** Puts a transcript into the prompt box (after what is there). */
  insert: (text: string) => void;
  /** Sends a prompt through the outbox (stored on the device first, exactly once). */
  send: (sessionId: string, text: string) => Promise<void>;
  /** The host is reachable now. */
  online: () => boolean;
  /** Records the microphone (the page's AudioWorklet capture). */
  capture: (h: CaptureHandlers) => Promise<Capture>;
  /** Why the page cannot record at all (insecure context, no AudioWorklet), or null. */
  support: () => VoiceError | null;
  /** `POST /transcribe?session=`. */
  transcribe: (wav: Blob, sessionId: string) => Promise<string>;
  /** Web Speech recognition, when the browser has it. */
  recognition: SpeechRecognitionCtor | null;
  /** On-device recognition refused to run here: use the host from now on. */
  deviceBroken: () => void;
  /** For tests. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (id: unknown) => void;
  now?: () => number;
}

/**
 * Why the host's transcriber cannot take a recording now, or null when it can (or is unknown).
 * Without `detail`, only the lead sentence (the line beside the mic; a press tells the rest).
 */
export function transcriberBlock(t: { state: string; detail?: string | null } | null, detail = true): string | null {
  if (!t || t.state === 'ready') return null;
  const more = detail && t.detail?.trim() ? ` ${t.detail.trim()}` : '';
  switch (t.state) {
    case 'installing':
      return `The host is still installing its transcriber.${more}`;
    case 'failed':
      return `The host’s transcriber failed.${more}`;
    case 'off':
      return `Voice input is turned off on the host.${more}`;
    default:
      return null;
  }
}

/**
 * The mic button's brain: hold to record, release to transcribe, slide away or Escape to cancel,
 * at most 60 s. The transcript goes into the prompt box, or (send on release) through the outbox
 * as a prompt, once. Any failure leaves the prompt box as it was and says why.
 */
export class MicController {
  phase = $state<MicPhase>('idle');
  /** Microphone loudness 0..1 while recording. */
  level = $state(0);
  /** Seconds recorded. */
  seconds = $state(0);
  /** How far the finger slid towards cancelling, 0..1. */
  slide = $state(0);
  /** On-device recognition's text so far. */
  interim = $state('');
  message = $state<MicMessage | null>(null);
  /** Which engine the current recording uses. */
  engine = $state<Engine['kind']>('host');
  /** What holds the recording: the pointer (slide to cancel) or a key (Escape to cancel). */
  source = $state<HoldSource | null>(null);

  readonly gesture = new HoldGesture();
  readonly #d: MicDeps;
  /** The recording under way; a new object per press, so late callbacks of an old one are ignored. */
  #token: object | null = null;
  #take: Take | null = null;
  #limitTimer: unknown = null;
  #tickTimer: unknown = null;
  #startedAt = 0;

  constructor(deps: MicDeps) {
    this.#d = deps;
  }

  /** Uses on-device recognition for the next recording. */
  get usesDevice(): boolean {
    return this.#d.voice.settings.onDevice && this.#d.recognition !== null && !this.#d.voice.onDeviceBroken;
  }

  /** Why the mic cannot be used now, with the host's detail (said on a press), or null. */
  get blocked(): string | null {
    return this.usesDevice ? null : transcriberBlock(this.#d.voice.transcriber);
  }

  /** The same, in one short sentence (shown beside the mic). */
  get blockedShort(): string | null {
    return this.usesDevice ? null : transcriberBlock(this.#d.voice.transcriber, false);
  }

  get active(): boolean {
    return this.phase !== 'idle';
  }

  /** A pointer went down on the button, or Space/Enter. True when a recording starts. */
  press(source: HoldSource, id: string | number, rect?: Rect): boolean {
    this.#d.voice.gesture();
    if (this.gesture.phase !== 'idle') {
      if (this.gesture.press(source, id, rect) === 'busy') {
        this.#say('error', this.phase === 'transcribing' ? 'Still transcribing the last recording: wait for it.' : voiceMessage(new VoiceError('busy')));
      }
      return false;
    }
    const blocked = this.blocked;
    if (blocked) return this.#refuse(blocked);
    const device = this.usesDevice;
    if (!device) {
      const unsupported = this.#d.support();
      if (unsupported) return this.#refuse(voiceMessage(unsupported));
      if (!this.#d.online()) return this.#refuse(voiceMessage(new VoiceError('offline')));
    }
    if (!this.#d.voice.claim(this)) return this.#refuse(voiceMessage(new VoiceError('busy')));
    if (this.gesture.press(source, id, rect) !== 'start') {
      this.#d.voice.release(this);
      return false;
    }
    const token = {};
    this.#token = token;
    this.message = null;
    this.phase = 'starting';
    this.engine = device ? 'device' : 'host';
    this.source = source;
    this.level = 0;
    this.seconds = 0;
    this.slide = 0;
    this.interim = '';
    const engine = device ? this.#deviceEngine() : this.#hostEngine();
    // Called now, inside the press: iOS starts audio only from a user gesture.
    let started: Promise<Take>;
    try {
      started = engine.start(this.#handlers(token));
    } catch (e) {
      started = Promise.reject(e);
    }
    started.then(
      (take) => {
        if (this.#token !== token) return take.abort(); // cancelled or released while starting
        this.#take = take;
        this.phase = 'recording';
        this.#startedAt = this.#now();
        this.#limitTimer = this.#set(() => this.limit(), MAX_RECORDING_S * 1000);
        this.#tick(token);
      },
      (e: unknown) => {
        if (this.#token !== token) return;
        if (engine.kind === 'device' && e instanceof VoiceError && e.problem === 'on_device_unavailable') this.#d.deviceBroken();
        this.#fail(e);
      },
    );
    return true;
  }

  /** The holding pointer moved: sliding away past the threshold cancels. */
  move(source: HoldSource, id: string | number, p: Point): void {
    if (this.gesture.phase !== 'holding') return;
    this.slide = this.gesture.slide(p);
    if (this.gesture.move(source, id, p) === 'cancel') this.#cancelled('slide');
  }

  release(source: HoldSource, id: string | number): void {
    if (this.gesture.release(source, id) === 'stop') void this.#stop(false);
  }

  /** Escape, a cancelled pointer, lost focus. */
  cancel(reason: CancelReason = 'escape'): void {
    if (this.gesture.cancel(reason) === 'cancel') this.#cancelled(reason);
  }

  /** The 60 s limit: stop and transcribe what there is. */
  limit(): void {
    if (this.gesture.limit() === 'stop') void this.#stop(true);
  }

  dismiss(): void {
    this.message = null;
  }

  /** The button left the screen: drop whatever records. */
  destroy(): void {
    this.#take?.abort();
    this.#reset();
  }

  #hostEngine(): Engine {
    const sessionId = this.#d.sessionId();
    return {
      kind: 'host',
      start: async (h) => {
        const capture = await this.#d.capture(h);
        return {
          abort: () => capture.abort(),
          finish: async () => {
            const samples = await capture.stop();
            if (samples.length < MIN_RECORDING_S * TRANSCRIBE_RATE) throw new VoiceError('too_short');
            const wav = new Blob([encodeWav(samples, TRANSCRIBE_RATE)], { type: 'audio/wav' });
            return this.#d.transcribe(wav, sessionId);
          },
        };
      },
    };
  }

  #deviceEngine(): Engine {
    const Ctor = this.#d.recognition!;
    return {
      kind: 'device',
      start: async (h) => {
        const rec = await startRecognition(Ctor, (t) => h.interim(t));
        return { finish: () => rec.stop(), abort: () => rec.abort() };
      },
    };
  }

  #handlers(token: object): TakeHandlers {
    return {
      level: (v) => {
        if (this.#token === token && this.phase === 'recording') this.level = v;
      },
      interim: (t) => {
        if (this.#token === token) this.interim = t;
      },
      ended: () => {
        if (this.#token !== token || this.phase === 'transcribing') return;
        this.gesture.cancel('interrupted');
        this.#take?.abort();
        this.#fail(new VoiceError('ended'));
      },
    };
  }

  async #stop(limited: boolean): Promise<void> {
    const token = this.#token;
    const take = this.#take;
    this.#clearTimers();
    if (!take) {
      // Released before the microphone was even running.
      this.#reset();
      this.#say('info', voiceMessage(new VoiceError('too_short')));
      return;
    }
    this.phase = 'transcribing';
    this.level = 0;
    this.slide = 0;
    try {
      const text = (await take.finish()).replace(/\s+/g, ' ').trim();
      if (this.#token !== token) return;
      if (!text) {
        this.#reset();
        this.#say('error', 'No speech was recognized. Hold the mic, speak, then release.');
        return;
      }
      const note = await this.#deliver(text);
      this.#reset();
      if (note) this.#say(note.kind, note.text);
      else if (limited) this.#say('info', `Stopped at ${MAX_RECORDING_S} s, the longest a recording can be. What was said is in.`);
    } catch (e) {
      if (this.#token !== token) return;
      this.#fail(e);
    }
  }

  /** The transcript into the box, or sent (once). Answers what to tell the user, if anything. */
  async #deliver(text: string): Promise<MicMessage | null> {
    if (!this.#d.voice.settings.sendOnRelease) {
      this.#d.insert(text);
      return null;
    }
    try {
      await this.#d.send(this.#d.sessionId(), text);
      return null;
    } catch (e) {
      // Not stored, so not sent: keep the words where the user can send them by hand.
      this.#d.insert(text);
      return { kind: 'error', text: `Not sent (${describeError(e)}): the transcript is in the prompt box.` };
    }
  }

  #cancelled(reason: CancelReason): void {
    this.#take?.abort();
    this.#reset();
    this.#say('info', reason === 'slide' ? 'Cancelled (slid away): nothing was sent.' : 'Cancelled: nothing was sent.');
  }

  #fail(e: unknown): void {
    this.#take?.abort();
    this.#reset();
    this.#say('error', voiceMessage(e));
  }

  #refuse(text: string): false {
    this.#say('error', text);
    return false;
  }

  #reset(): void {
    this.#clearTimers();
    this.gesture.settle();
    this.#d.voice.release(this);
    this.#token = null;
    this.#take = null;
    this.phase = 'idle';
    this.source = null;
    this.level = 0;
    this.slide = 0;
  }

  #say(kind: MicMessage['kind'], text: string): void {
    this.message = { kind, text };
  }

  #tick(token: object): void {
    if (this.#token !== token || this.phase !== 'recording') return;
    this.seconds = Math.min(MAX_RECORDING_S, (this.#now() - this.#startedAt) / 1000);
    this.#tickTimer = this.#set(() => this.#tick(token), 250);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }

  #set(fn: () => void, ms: number): unknown {
    return (this.#d.setTimer ?? setTimeout)(fn, ms);
  }

  #clearTimers(): void {
    const clear = this.#d.clearTimer ?? ((id: unknown) => clearTimeout(id as ReturnType<typeof setTimeout>));
    for (const t of [this.#limitTimer, this.#tickTimer]) if (t !== null) clear(t);
    this.#limitTimer = null;
    this.#tickTimer = null;
  }
}
