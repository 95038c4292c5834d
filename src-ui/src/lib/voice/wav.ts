/**
 * 16-bit PCM WAV, encoded in the page (no MediaRecorder: its formats differ per platform and
 * WebKitGTK has none; voice-facts). What the host's `POST /transcribe` takes: RIFF/WAVE, PCM,
 * 16 bit, mono, 16 kHz.
 */

export const WAV_HEADER_BYTES = 44;

/** Float samples in [-1, 1] to signed 16-bit; out of range clips, NaN is silence. */
export function toInt16(x: number): number {
  if (!(x === x)) return 0; // NaN
  const s = x < -1 ? -1 : x > 1 ? 1 : x;
  return s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
}

/** A mono 16-bit PCM WAV file of `samples` (floats in [-1, 1]) at `sampleRate`. */
export function encodeWav(samples: ArrayLike<number>, sampleRate: number): Uint8Array<ArrayBuffer> {
  const dataBytes = samples.length * 2;
  const buf = new ArrayBuffer(WAV_HEADER_BYTES + dataBytes);
  const v = new DataView(buf);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(WAV_HEADER_BYTES + i * 2, toInt16(samples[i]!), true);
  return new Uint8Array(buf);
}

/** Seconds of audio in a WAV made by `encodeWav` at `sampleRate`. */
export function wavSeconds(bytes: number, sampleRate: number): number {
  return Math.max(0, bytes - WAV_HEADER_BYTES) / 2 / sampleRate;
}
