import { describe, expect, it } from 'vitest';
import { encodeWav, toInt16, WAV_HEADER_BYTES, wavSeconds } from '../src/lib/voice/wav';

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

describe('encodeWav: 16-bit PCM mono WAV in the page', () => {
  it('writes a RIFF/WAVE header with the PCM format, the rate and the lengths', () => {
    const samples = new Float32Array(16_000); // one second at 16 kHz
    const wav = encodeWav(samples, 16_000);
    const v = new DataView(wav.buffer);
    expect(wav.length).toBe(WAV_HEADER_BYTES + 32_000);
    expect(ascii(wav, 0, 4)).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(wav.length - 8);
    expect(ascii(wav, 8, 4)).toBe('WAVE');
    expect(ascii(wav, 12, 4)).toBe('fmt ');
    expect(v.getUint32(16, true)).toBe(16); // fmt chunk size
    expect(v.getUint16(20, true)).toBe(1); // PCM
    expect(v.getUint16(22, true)).toBe(1); // mono
    expect(v.getUint32(24, true)).toBe(16_000); // sample rate
    expect(v.getUint32(28, true)).toBe(32_000); // byte rate
    expect(v.getUint16(32, true)).toBe(2); // block align
    expect(v.getUint16(34, true)).toBe(16); // bits per sample
    expect(ascii(wav, 36, 4)).toBe('data');
    expect(v.getUint32(40, true)).toBe(32_000);
    expect(wavSeconds(wav.length, 16_000)).toBe(1);
  });

  it('keeps the rate it is given', () => {
    const v = new DataView(encodeWav(new Float32Array(10), 44_100).buffer);
    expect(v.getUint32(24, true)).toBe(44_100);
    expect(v.getUint32(28, true)).toBe(88_200);
  });

  it('stores samples little-endian, full scale at ±1, and clips what is beyond', () => {
    const wav = encodeWav(Float32Array.from([0, 0.5, -0.5, 1, -1, 1.7, -3, Number.NaN]), 16_000);
    const v = new DataView(wav.buffer);
    const at = (i: number) => v.getInt16(WAV_HEADER_BYTES + i * 2, true);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(at)).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 0]);
    expect(wav[WAV_HEADER_BYTES + 2]).toBe(0x00); // 16384 = 0x4000, low byte first
    expect(wav[WAV_HEADER_BYTES + 3]).toBe(0x40);
  });

  it('converts single samples the same way', () => {
    expect(toInt16(0.25)).toBe(8192);
    expect(toInt16(-0.25)).toBe(-8192);
    expect(toInt16(Infinity)).toBe(32767);
    expect(toInt16(-Infinity)).toBe(-32768);
  });

  it('an empty recording is a valid empty WAV', () => {
    const wav = encodeWav(new Float32Array(0), 16_000);
    expect(wav.length).toBe(WAV_HEADER_BYTES);
    expect(new DataView(wav.buffer).getUint32(40, true)).toBe(0);
  });

  it('a minute at 16 kHz stays under the host’s limit (~1.92 MB)', () => {
    expect(encodeWav(new Float32Array(60 * 16_000), 16_000).length).toBe(1_920_044);
  });
});
