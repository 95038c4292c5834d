import type { Diff, PromptState } from '../bindings';
import { encodeWav } from './wav';

/** Hunks still to review (not approved) and the files they are in. */
export interface PendingChanges {
  hunks: number;
  files: number;
}

export function pendingChanges(diff: Diff | null): PendingChanges | null {
  if (!diff) return null;
  let hunks = 0;
  let files = 0;
  for (const f of diff.files) {
    const n = f.hunks.filter((h) => h.state !== 'approved').length;
    hunks += n;
    if (n) files++;
  }
  return { hunks, files };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The host's reason, short enough to be heard: its first line, at most ~200 characters. */
function shortReason(reason: string | null | undefined): string {
  const line = (reason ?? '').trim().split('\n')[0]!.trim().replace(/[.\s]+$/, '');
  return line.length > 200 ? `${line.slice(0, 197).trimEnd()}…` : line;
}

/** What is said when a turn finishes (read-back). */
export function readbackText(state: PromptState, reason: string | null | undefined, changes: PendingChanges | null): string {
  switch (state) {
    case 'done':
      if (!changes) return 'Done.';
      if (changes.hunks === 0) return 'Done. No changes await review.';
      return `Done. ${plural(changes.hunks, 'hunk awaits', 'hunks await')} review in ${plural(changes.files, 'file', 'files')}.`;
    case 'failed': {
      const why = shortReason(reason);
      return why ? `The prompt failed: ${why}.` : 'The prompt failed.';
    }
    case 'cancelled':
      return 'The prompt was cancelled.';
    case 'interrupted':
      return 'The prompt was interrupted: the host stopped while it ran.';
    default:
      return '';
  }
}

export interface SpeakerDeps {
  /** `window.speechSynthesis`, when the browser has it. */
  synth: SpeechSynthesis | null;
  /** `POST /speech`: the host's rendering (espeak-ng) as WAV. */
  hostWav: (text: string) => Promise<Blob>;
  /** Plays a WAV; resolves when it started. */
  play: (wav: Blob) => Promise<void>;
  /** How long to wait for the browser's voices to load. */
  voicesTimeoutMs?: number;
}

/**
 * Says a text: the browser's speech synthesis where it has voices (iOS, Android Chrome,
 * WebKitGTK), else the host renders it and the page plays the WAV (Android WebView, headless
 * Chromium: voice-facts).
 */
export class Speaker {
  readonly #d: SpeakerDeps;
  #voices: Promise<boolean> | null = null;

  constructor(deps: SpeakerDeps) {
    this.#d = deps;
  }

  /** Whether the browser can speak by itself (its voices load late in some browsers). */
  hasVoices(): Promise<boolean> {
    const synth = this.#d.synth;
    if (!synth) return Promise.resolve(false);
    this.#voices ??= new Promise<boolean>((resolve) => {
      if (synth.getVoices().length > 0) return resolve(true);
      const done = () => {
        clearTimeout(timer);
        synth.removeEventListener?.('voiceschanged', done);
        resolve(synth.getVoices().length > 0);
      };
      const timer = setTimeout(done, this.#d.voicesTimeoutMs ?? 1000);
      synth.addEventListener?.('voiceschanged', done);
    }).then((has) => {
      // None yet may mean "not loaded yet": ask again next time.
      if (!has) this.#voices = null;
      return has;
    });
    return this.#voices;
  }

  /** Speaks `text`; answers how. */
  async speak(text: string): Promise<'synth' | 'host'> {
    const synth = this.#d.synth;
    if (synth && (await this.hasVoices())) {
      synth.cancel();
      synth.speak(new SpeechSynthesisUtterance(text));
      return 'synth';
    }
    await this.#d.play(await this.#d.hostWav(text));
    return 'host';
  }
}

/**
 * Plays WAVs through one audio element. Browsers that allow sound only after a gesture (iOS)
 * allow this element from then on: `unlock()` plays a moment of silence from a tap.
 */
export class WavPlayer {
  #el: HTMLAudioElement | null = null;
  #url: string | null = null;

  #audio(): HTMLAudioElement {
    this.#el ??= new Audio();
    return this.#el;
  }

  /** Call from a user gesture (the settings switch, a press of the mic or Send). */
  unlock(): void {
    if (this.#el?.dataset.unlocked) return;
    const a = this.#audio();
    a.dataset.unlocked = '1';
    void this.play(new Blob([encodeWav(new Float32Array(160), 16_000)], { type: 'audio/wav' })).catch(() => {
      delete a.dataset.unlocked;
    });
    try {
      // The same for speech synthesis (iOS speaks only after a first utterance from a gesture).
      globalThis.speechSynthesis?.speak(new SpeechSynthesisUtterance(''));
    } catch {
      // no speech synthesis: the host's WAV is used
    }
  }

  async play(wav: Blob): Promise<void> {
    const a = this.#audio();
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = URL.createObjectURL(wav);
    a.src = this.#url;
    await a.play();
  }
}
