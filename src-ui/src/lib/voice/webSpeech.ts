import { VoiceError, speechRecognitionProblem } from './messages';

/**
 * On-device recognition: the Web Speech API (`webkitSpeechRecognition`), an opt-in extra. It
 * really works in iOS Safari and Android Chrome, and there the audio goes to Apple or Google;
 * elsewhere it is missing or fails at start (WKWebView: `service-not-allowed`, headless
 * Chromium: `audio-capture`), and the host's transcriber is used.
 */

/** The part of `SpeechRecognition` used here (TypeScript's DOM library does not declare it). */
export interface SpeechRecognitionLike {
  lang: string;
  continuous: boolean;
  interimResults: boolean;
  onresult: ((e: { resultIndex: number; results: ArrayLike<ArrayLike<{ transcript: string }> & { isFinal: boolean }> }) => void) | null;
  onerror: ((e: { error: string; message?: string }) => void) | null;
  onend: (() => void) | null;
  onstart: (() => void) | null;
  start(): void;
  stop(): void;
  abort(): void;
}

export type SpeechRecognitionCtor = new () => SpeechRecognitionLike;

export function speechRecognitionCtor(): SpeechRecognitionCtor | null {
  const g = globalThis as unknown as { SpeechRecognition?: SpeechRecognitionCtor; webkitSpeechRecognition?: SpeechRecognitionCtor };
  return g.SpeechRecognition ?? g.webkitSpeechRecognition ?? null;
}

/** Thrown when recognition ends with an error; `code` is Web Speech's. */
export class RecognitionError extends VoiceError {
  constructor(readonly code: string) {
    const p = speechRecognitionProblem(code);
    super(p === null || p === 'no_speech' ? 'on_device_unavailable' : p, code);
  }
}

export interface Recognition {
  /** Stops listening; answers what was recognized. */
  stop(): Promise<string>;
  abort(): void;
}

/**
 * Starts recognizing; resolves once it listens. `interim` gets the text so far. Rejects with a
 * `RecognitionError` when it cannot start.
 */
export function startRecognition(Ctor: SpeechRecognitionCtor, interim: (text: string) => void, lang = navigator.language || 'en-US'): Promise<Recognition> {
  const rec = new Ctor();
  rec.lang = lang;
  rec.continuous = true;
  rec.interimResults = true;
  const finals: string[] = [];
  let partial = '';
  let error: string | null = null;
  let ended = false;
  let onEnd: (() => void) | null = null;
  const text = () => [...finals, partial].join(' ').replace(/\s+/g, ' ').trim();
  rec.onresult = (e) => {
    partial = '';
    for (let i = e.resultIndex; i < e.results.length; i++) {
      const r = e.results[i]!;
      const t = r[0]?.transcript ?? '';
      if (r.isFinal) finals[i] = t;
      else partial += t;
    }
    interim(text());
  };
  return new Promise<Recognition>((resolve, reject) => {
    let started = false;
    rec.onstart = () => {
      started = true;
      resolve({
        stop: () =>
          new Promise<string>((done, fail) => {
            const finish = () => (error && error !== 'no-speech' && error !== 'aborted' ? fail(new RecognitionError(error)) : done(text()));
            if (ended) return finish();
            onEnd = finish;
            rec.stop();
          }),
        abort: () => {
          onEnd = null;
          rec.abort();
        },
      });
    };
    rec.onerror = (e) => {
      error = e.error;
      if (!started) reject(new RecognitionError(e.error));
    };
    rec.onend = () => {
      ended = true;
      if (!started) reject(new RecognitionError(error ?? 'service-not-allowed'));
      onEnd?.();
    };
    try {
      rec.start();
    } catch (e) {
      reject(new RecognitionError(e instanceof DOMException && e.name === 'NotAllowedError' ? 'not-allowed' : 'service-not-allowed'));
    }
  });
}
