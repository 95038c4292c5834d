import { describe, expect, it } from 'vitest';
import { resample, Resampler } from '../src/lib/voice/resample';

const sine = (hz: number, rate: number, seconds: number, amp = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

/** Frequency estimated from upward zero crossings over the middle of the signal. */
function frequency(x: Float32Array, rate: number): number {
  const from = Math.floor(x.length * 0.1);
  const to = Math.floor(x.length * 0.9);
  const ups: number[] = [];
  for (let i = from + 1; i < to; i++) {
    if (x[i - 1]! < 0 && x[i]! >= 0) ups.push(i - 1 + x[i - 1]! / (x[i - 1]! - x[i]!));
  }
  return ((ups.length - 1) * rate) / (ups.at(-1)! - ups[0]!);
}

function rms(x: Float32Array, from = 0.1, to = 0.9): number {
  const a = Math.floor(x.length * from);
  const b = Math.floor(x.length * to);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (b - a));
}

describe('Resampler: the microphone’s rate to 16 kHz', () => {
  it.each([48_000, 44_100])('%i Hz → 16 kHz: a second stays a second', (rate) => {
    const out = resample(sine(440, rate, 1), rate);
    expect(out.length).toBe(16_000);
    expect(resample(sine(440, rate, 2.5), rate).length).toBe(40_000);
  });

  it.each([
    [48_000, 440],
    [48_000, 3000],
    [44_100, 440],
    [44_100, 1000],
    [44_100, 6000],
  ])('%i Hz: a %i Hz sine keeps its frequency and level', (rate, hz) => {
    const out = resample(sine(hz, rate, 1), rate);
    expect(Math.abs(frequency(out, 16_000) - hz)).toBeLessThan(hz * 0.005);
    // 0.5 amplitude → RMS 0.354; the pass band is flat to well within a dB.
    expect(rms(out)).toBeGreaterThan(0.33);
    expect(rms(out)).toBeLessThan(0.37);
  });

  it('filters out what 16 kHz cannot hold instead of folding it into speech', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz without the low-pass.
    const out = resample(sine(12_000, 48_000, 1), 48_000);
    expect(rms(out)).toBeLessThan(0.005);
  });

  it('gives the same samples whether fed at once or in the worklet’s small chunks', () => {
    const input = sine(523, 44_100, 0.5);
    const whole = resample(input, 44_100);
    const r = new Resampler(44_100);
    const parts: Float32Array[] = [];
    for (let i = 0; i < input.length; i += 128) parts.push(r.push(input.subarray(i, i + 128)));
    parts.push(r.flush());
    const chunked = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      chunked.set(p, at);
      at += p.length;
    }
    expect(chunked.length).toBe(whole.length);
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i]! - chunked[i]!));
    expect(maxDiff).toBeLessThan(1e-6);
  });

  it('hands out samples as they are complete, not all at the end', () => {
    const r = new Resampler(48_000);
    const first = r.push(sine(440, 48_000, 0.1));
    expect(first.length).toBeGreaterThan(1500); // 0.1 s = 1600 samples, less the kernel's reach
    expect(first.length + r.flush().length).toBe(1600);
  });

  it('passes 16 kHz through untouched and upsamples 8 kHz', () => {
    const x = sine(440, 16_000, 0.25);
    expect(resample(x, 16_000)).toEqual(x);
    const up = resample(sine(440, 8000, 1), 8000);
    expect(up.length).toBe(16_000);
    expect(Math.abs(frequency(up, 16_000) - 440)).toBeLessThan(3);
  });

  it('keeps silence silent and DC at its level', () => {
    expect(rms(resample(new Float32Array(4800), 48_000))).toBe(0);
    const dc = resample(new Float32Array(48_000).fill(0.25), 48_000);
    expect(dc[8000]).toBeCloseTo(0.25, 4);
  });
});
