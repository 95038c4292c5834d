/**
 * Sample-rate conversion in the page: the microphone runs at the device's rate (48 kHz, 44.1 kHz,
 * sometimes 16 or 8 kHz on a headset) and the host takes 16 kHz mono. A windowed-sinc low-pass
 * (Blackman, cut-off at 90 % of the lower Nyquist) evaluated at each output instant: no aliasing
 * of the 8–24 kHz band into speech, any ratio, streaming (chunks in, samples out as soon as the
 * kernel has what it needs), so a minute at 48 kHz is never held in memory.
 */

/** Table steps per input sample of the kernel (linear interpolation between them). */
const TABLE_RES = 256;

export class Resampler {
  /** Input samples per output sample. */
  readonly ratio: number;
  readonly inRate: number;
  readonly outRate: number;
  readonly #passthrough: boolean;
  /** Kernel half-width, in input samples. */
  readonly #half: number;
  readonly #table: Float32Array;
  /** Input kept for the kernel: `#buf[0]` is input sample `#bufStart`; `#len` are valid. */
  #buf = new Float32Array(8192);
  #bufStart = 0;
  #len = 0;
  /** Input samples pushed so far. */
  #total = 0;
  /** Index of the next output sample. */
  #n = 0;

  constructor(inRate: number, outRate = 16_000, zeroCrossings = 10) {
    if (!(inRate > 0) || !(outRate > 0)) throw new RangeError(`bad sample rates ${inRate} → ${outRate}`);
    this.inRate = inRate;
    this.outRate = outRate;
    this.ratio = inRate / outRate;
    this.#passthrough = inRate === outRate;
    // Cut-off in cycles per input sample: 0.45 of the lower of the two rates.
    const fc = (0.45 * Math.min(inRate, outRate)) / inRate;
    this.#half = zeroCrossings / (2 * fc);
    const size = Math.ceil(this.#half * TABLE_RES) + 2;
    this.#table = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const d = i / TABLE_RES;
      const x = d / this.#half;
      if (x >= 1) continue;
      const a = 2 * Math.PI * fc * d;
      const sinc = d === 0 ? 1 : Math.sin(a) / a;
      const w = 0.42 + 0.5 * Math.cos(Math.PI * x) + 0.08 * Math.cos(2 * Math.PI * x);
      this.#table[i] = sinc * w;
    }
  }

  /** How many output samples `inputLength` input samples make in all. */
  outputLength(inputLength: number): number {
    return this.#passthrough ? inputLength : Math.ceil(inputLength / this.ratio);
  }

  /** Adds input; answers the output samples that are now complete. */
  push(chunk: Float32Array): Float32Array {
    if (this.#passthrough) {
      this.#total += chunk.length;
      this.#n += chunk.length;
      return chunk.slice();
    }
    this.#append(chunk);
    // Output n is complete once every input under its kernel has arrived.
    const ready = Math.max(0, Math.ceil((this.#total - this.#half) / this.ratio));
    const out = new Float32Array(Math.max(0, ready - this.#n));
    for (let i = 0; i < out.length; i++) out[i] = this.#at(this.#n++ * this.ratio);
    return out;
  }

  /** The last output samples (the input past the end counts as silence). */
  flush(): Float32Array {
    if (this.#passthrough) return new Float32Array(0);
    const end = this.outputLength(this.#total);
    const out = new Float32Array(Math.max(0, end - this.#n));
    for (let i = 0; i < out.length; i++) out[i] = this.#at(this.#n++ * this.ratio);
    return out;
  }

  #kernel(d: number): number {
    const p = Math.abs(d) * TABLE_RES;
    const i = Math.floor(p);
    const t = this.#table;
    if (i + 1 >= t.length) return 0;
    return t[i]! + (t[i + 1]! - t[i]!) * (p - i);
  }

  /** One output sample at input position `t`: the kernel's weighted sum, at unit DC gain. */
  #at(t: number): number {
    const lo = Math.ceil(t - this.#half);
    const hi = Math.floor(t + this.#half);
    let acc = 0;
    let wsum = 0;
    for (let k = lo; k <= hi; k++) {
      const w = this.#kernel(k - t);
      wsum += w;
      const j = k - this.#bufStart;
      if (k >= 0 && j >= 0 && j < this.#len) acc += this.#buf[j]! * w;
    }
    return wsum === 0 ? 0 : acc / wsum;
  }

  #append(chunk: Float32Array): void {
    // Input before the next output's kernel is no longer needed.
    const keepFrom = Math.max(0, Math.floor(this.#n * this.ratio - this.#half) - 1);
    const drop = Math.min(this.#len, Math.max(0, keepFrom - this.#bufStart));
    if (this.#len + chunk.length > this.#buf.length) {
      const kept = this.#len - drop;
      if (kept + chunk.length > this.#buf.length) {
        const next = new Float32Array(Math.max(this.#buf.length * 2, kept + chunk.length));
        next.set(this.#buf.subarray(drop, this.#len));
        this.#buf = next;
      } else {
        this.#buf.copyWithin(0, drop, this.#len);
      }
      this.#bufStart += drop;
      this.#len = kept;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
    this.#total += chunk.length;
  }
}

/** The whole of `input` at `outRate`. */
export function resample(input: Float32Array, inRate: number, outRate = 16_000): Float32Array {
  const r = new Resampler(inRate, outRate);
  const a = r.push(input);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
