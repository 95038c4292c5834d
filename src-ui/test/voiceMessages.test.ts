import { describe, expect, it } from 'vitest';
import { ApiFailure, NetworkFailure } from '../src/lib/client/errors';
import { captureProblem, speechRecognitionMessage, VoiceError, voiceMessage } from '../src/lib/voice/messages';
import { transcriberBlock } from '../src/lib/voice/mic.svelte';

const dom = (name: string) => new DOMException('x', name);
const api = (status: number, code: string, message = '') => new ApiFailure(status, { code: code as never, message });

describe('voice error messages', () => {
  it('explains an insecure page: HTTPS (the tailnet address) or localhost', () => {
    const m = voiceMessage(new VoiceError('insecure'));
    expect(m).toMatch(/HTTPS/);
    expect(m).toMatch(/tailnet/);
    expect(m).toMatch(/localhost/);
  });

  it('maps getUserMedia refusals', () => {
    expect(captureProblem(dom('NotAllowedError'))).toBe('denied');
    expect(captureProblem(dom('SecurityError'))).toBe('denied');
    expect(captureProblem(dom('NotFoundError'))).toBe('no_microphone');
    expect(captureProblem(dom('NotReadableError'))).toBe('mic_unreadable');
    expect(captureProblem(new Error('other'))).toBeNull();
    expect(voiceMessage(dom('NotAllowedError'))).toMatch(/Microphone access is blocked/);
  });

  it('says what a microphone that stopped mid-recording means', () => {
    expect(voiceMessage(new VoiceError('ended'))).toMatch(/stopped while recording.*Nothing was sent/);
  });

  it('maps the host’s refusals, keeping its message where it says more', () => {
    expect(voiceMessage(api(503, 'transcriber_unavailable', 'still installing faster-whisper (2/3)'))).toBe(
      'The host’s transcriber is not available: still installing faster-whisper (2/3)',
    );
    expect(voiceMessage(api(503, 'transcriber_unavailable'))).toBe('The host’s transcriber is not available.');
    expect(voiceMessage(api(413, 'payload_too_large', 'longer than 60 s'))).toMatch(/too large.*60 s at most/);
    expect(voiceMessage(api(422, 'no_speech', 'nothing recognized'))).toMatch(/No speech was recognized/);
    expect(voiceMessage(api(429, 'rate_limited'))).toMatch(/wait a moment/);
    expect(voiceMessage(api(400, 'bad_request', 'not a WAV'))).toBe('The host could not read the recording (not a WAV).');
    expect(voiceMessage(api(404, 'not_found'))).toMatch(/does not transcribe/);
    expect(voiceMessage(api(401, 'unauthorized'))).toMatch(/Pair again/);
    expect(voiceMessage(new NetworkFailure('no answer in 120 s'))).toBe('Cannot reach the host to transcribe: no answer in 120 s.');
  });

  it('refuses a second recording, a slip of the finger, and offline uploads in words', () => {
    expect(voiceMessage(new VoiceError('busy'))).toMatch(/one recording at a time/);
    expect(voiceMessage(new VoiceError('too_short'))).toMatch(/hold the mic while you speak/);
    expect(voiceMessage(new VoiceError('offline'))).toMatch(/out of reach/);
  });

  it('maps on-device recognition errors; an abort says nothing', () => {
    expect(speechRecognitionMessage('not-allowed')).toMatch(/blocked/);
    expect(speechRecognitionMessage('service-not-allowed')).toMatch(/host’s transcriber is used/);
    expect(speechRecognitionMessage('network')).toMatch(/Apple\/Google/);
    expect(speechRecognitionMessage('no-speech')).toMatch(/No speech/);
    expect(speechRecognitionMessage('aborted')).toBeNull();
  });

  it('tells why the mic is disabled from the transcriber’s state', () => {
    expect(transcriberBlock(null)).toBeNull();
    expect(transcriberBlock({ state: 'ready' })).toBeNull();
    expect(transcriberBlock({ state: 'installing', detail: 'pip install faster-whisper (1/2)' })).toBe(
      'The host is still installing its transcriber. pip install faster-whisper (1/2)',
    );
    expect(transcriberBlock({ state: 'failed', detail: 'no python3' })).toBe('The host’s transcriber failed. no python3');
    expect(transcriberBlock({ state: 'off' })).toBe('Voice input is turned off on the host.');
    // Beside the mic: the lead sentence only.
    expect(transcriberBlock({ state: 'installing', detail: 'creating venv at /a/long/path' }, false)).toBe('The host is still installing its transcriber.');
  });
});
