import type { Diff, Event } from '../bindings';
import { describeError, isCode } from '../client/errors';
import { pendingChanges as countPending, readbackText, Speaker, WavPlayer, type PendingChanges } from '../voice/readback';
import { loadVoiceSettings, saveVoiceSettings, type VoiceSettings } from '../voice/settings';
import type { TranscriberStatus } from '../voice/types';
import type { HostApi } from '../client/host';
import type { Toasts } from './toasts.svelte';

/** A finished turn older than this at arrival (caught up after a reconnect) is not read back. */
const FRESH_MS = 2 * 60_000;

export interface VoiceDeps {
  api: () => HostApi;
  toasts: Toasts;
  /** The host's transcriber, from `/status` and `transcriber.state` events. */
  transcriber: () => TranscriberStatus | null;
  /** Whether the session is on screen (read-back is for the open session only). */
  isOpen: (sessionId: string) => boolean;
  /** The session's diff, fetched fresh after its turn finished. */
  freshDiff: (sessionId: string) => Promise<Diff | null>;
  /** For tests: what speaks, and the clock. */
  speaker?: Speaker;
  player?: { unlock(): void; play(wav: Blob): Promise<void> };
  now?: () => number;
}

/**
 * Voice in the app: this device's voice settings, the host's transcriber state, the rule of one
 * recording at a time (across every mic button), and read-back of finished turns. The recording
 * itself lives with the mic button (`voice/mic.svelte.ts`), loaded with the session screen.
 */
export class VoiceStore {
  settings = $state<VoiceSettings>(loadVoiceSettings());
  /** On-device recognition refused to start here (e.g. WKWebView): the host is used until reload. */
  onDeviceBroken = $state(false);
  /** The last text read back (shown in Settings; tests look at it). */
  lastReadback = $state<string | null>(null);

  readonly #d: VoiceDeps;
  readonly #player: { unlock(): void; play(wav: Blob): Promise<void> };
  readonly #speaker: Speaker;
  #owner: object | null = null;

  constructor(deps: VoiceDeps) {
    this.#d = deps;
    this.#player = deps.player ?? new WavPlayer();
    this.#speaker =
      deps.speaker ??
      new Speaker({
        synth: typeof speechSynthesis === 'undefined' ? null : speechSynthesis,
        hostWav: (text) => this.#d.api().speech(text),
        play: (wav) => this.#player.play(wav),
      });
  }

  get transcriber(): TranscriberStatus | null {
    return this.#d.transcriber();
  }

  update(patch: Partial<VoiceSettings>): void {
    this.settings = { ...this.settings, ...patch };
    saveVoiceSettings(this.settings);
    if (patch.onDevice) this.onDeviceBroken = false;
    if (patch.readBack) this.#player.unlock();
  }

  /** A press or a tap happened: browsers that play sound only after a gesture allow it now. */
  gesture(): void {
    if (this.settings.readBack) this.#player.unlock();
  }

  /** Takes the one recording slot; false while another recording (or its upload) runs. */
  claim(owner: object): boolean {
    if (this.#owner && this.#owner !== owner) return false;
    this.#owner = owner;
    return true;
  }

  release(owner: object): void {
    if (this.#owner === owner) this.#owner = null;
  }

  get busy(): boolean {
    return this.#owner !== null;
  }

  /** Read-back: a turn of the session on screen finished just now. */
  apply(e: Event): void {
    if (e.type !== 'prompt.finished' || !this.settings.readBack) return;
    const sid = e.session_id;
    if (!sid || !this.#d.isOpen(sid)) return;
    const now = (this.#d.now ?? Date.now)();
    if (!(now - Date.parse(e.ts) < FRESH_MS)) return;
    void this.readBack(sid, e.state, e.reason ?? null);
  }

  async readBack(sessionId: string, state: Extract<Event, { type: 'prompt.finished' }>['state'], reason: string | null): Promise<void> {
    let changes: PendingChanges | null = null;
    if (state === 'done') changes = countPending(await this.#d.freshDiff(sessionId).catch(() => null));
    const text = readbackText(state, reason, changes);
    if (!text) return;
    this.lastReadback = text;
    try {
      await this.#speaker.speak(text);
    } catch (e) {
      const why =
        isCode(e, 'speech_unavailable')
          ? 'this browser has no voices and the host cannot speak (no espeak-ng)'
          : e instanceof DOMException && e.name === 'NotAllowedError'
            ? 'the browser blocked the sound: tap the page once, then it plays'
            : describeError(e);
      this.#d.toasts.push('warning', `Read-back: ${text} (not spoken: ${why})`);
    }
  }
}
