import { ApiFailure, describeError, NetworkFailure } from '../client/errors';
import { MAX_RECORDING_S } from './types';

/** Why voice input stopped, in the page (the host's refusals are `ApiFailure`s). */
export type VoiceProblem =
  /** No `navigator.mediaDevices`: the page is not a secure context. */
  | 'insecure'
  /** The user or the browser refused the microphone. */
  | 'denied'
  /** The microphone stopped while recording (access revoked, device gone). */
  | 'ended'
  | 'no_microphone'
  /** The microphone exists but could not be opened (another app has it). */
  | 'mic_unreadable'
  /** No AudioContext / AudioWorklet in this browser. */
  | 'unsupported'
  /** A recording (or its transcription) is already under way. */
  | 'busy'
  | 'too_short'
  /** The host is out of reach: nothing to upload to. */
  | 'offline'
  /** On-device recognition (Web Speech) refused to run here. */
  | 'on_device_unavailable'
  | 'on_device_network';

export class VoiceError extends Error {
  constructor(
    readonly problem: VoiceProblem,
    detail?: string,
  ) {
    super(detail ?? problem);
    this.name = 'VoiceError';
  }
}

const PROBLEMS: Record<VoiceProblem, string> = {
  insecure:
    'The microphone only works on a secure page. Open ArcBench over HTTPS — the tailnet https:// address from pairing — or on localhost.',
  denied: 'Microphone access is blocked. Allow the microphone for this site in the browser’s settings, then hold the mic again.',
  ended: 'The microphone stopped while recording (access was withdrawn or the device went away). Nothing was sent.',
  no_microphone: 'No microphone was found on this device.',
  mic_unreadable: 'The microphone could not be started: another app may be using it.',
  unsupported: 'This browser cannot record audio in the page (no AudioWorklet).',
  busy: 'Already recording: one recording at a time.',
  too_short: 'Too short: hold the mic while you speak, then release.',
  offline: 'Voice input needs the host, and it is out of reach right now. Type the prompt instead.',
  on_device_unavailable: 'On-device recognition is not available here; the host’s transcriber is used instead.',
  on_device_network: 'On-device recognition could not reach Apple/Google. Try again, or turn it off in Settings to use the host.',
};

/** The microphone's refusal (a getUserMedia DOMException) as our problem. */
export function captureProblem(e: unknown): VoiceProblem | null {
  if (e instanceof VoiceError) return e.problem;
  const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'no_microphone';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'mic_unreadable';
    default:
      return null;
  }
}

/** Web Speech recognition's `error` codes as our problems (null: say nothing, e.g. `aborted`). */
export function speechRecognitionProblem(code: string): VoiceProblem | 'no_speech' | null {
  switch (code) {
    case 'not-allowed':
      return 'denied';
    case 'service-not-allowed':
    case 'language-not-supported':
      return 'on_device_unavailable';
    case 'audio-capture':
      return 'no_microphone';
    case 'network':
      return 'on_device_network';
    case 'no-speech':
      return 'no_speech';
    default:
      return null;
  }
}

/** One line for the user about anything voice input can fail with. */
export function voiceMessage(e: unknown): string {
  if (e instanceof VoiceError) return PROBLEMS[e.problem];
  const p = captureProblem(e);
  if (p) return PROBLEMS[p];
  if (e instanceof ApiFailure) {
    const host = e.message && !/^the host answered \d+$/.test(e.message) ? e.message : '';
    switch (e.code) {
      case 'no_speech':
        return 'No speech was recognized. Hold the mic, speak, then release.';
      case 'transcriber_unavailable':
        return `The host’s transcriber is not available${host ? `: ${host}` : '.'}`;
      case 'payload_too_large':
        return `The recording is too large for the host (${MAX_RECORDING_S} s at most). Nothing was sent.`;
      case 'rate_limited':
        return 'Too many recordings in a short time: wait a moment and try again.';
      case 'bad_request':
        return `The host could not read the recording${host ? ` (${host})` : ''}.`;
      case 'not_found':
        return 'This host does not transcribe speech: update ArcBench on it.';
      default:
        break;
    }
    return describeError(e);
  }
  if (e instanceof NetworkFailure) return `Cannot reach the host to transcribe: ${e.message}.`;
  return describeError(e);
}

/** What to say for a Web Speech `error` code. */
export function speechRecognitionMessage(code: string): string | null {
  const p = speechRecognitionProblem(code);
  if (p === null) return null;
  if (p === 'no_speech') return 'No speech was recognized. Hold the mic, speak, then release.';
  return PROBLEMS[p];
}
