/**
 * The audio thread's side of recording: the microphone's frames (mixed to mono), posted to the
 * page in batches. Bundled by Vite as its own file (`?worker&url`), so it loads from /app/assets/
 * under the page's script-src 'self' (a Blob URL would need script-src blob:).
 */

// The AudioWorkletGlobalScope (not in TypeScript's DOM library).
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

/** Frames per message: ~43 ms at 48 kHz, ~128 ms at 16 kHz. */
const BATCH = 2048;

class CaptureProcessor extends AudioWorkletProcessor {
  buf = new Float32Array(BATCH);
  n = 0;
  stopped = false;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent) => {
      if (e.data === 'flush') {
        this.post();
        this.port.postMessage({ type: 'flushed' });
      } else if (e.data === 'stop') {
        this.stopped = true;
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.stopped) return false;
    const input = inputs[0];
    const first = input?.[0];
    if (!input || !first) return true;
    const channels = input.length;
    for (let i = 0; i < first.length; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += input[c]![i]!;
      this.buf[this.n++] = s / channels;
      if (this.n === BATCH) this.post();
    }
    return true;
  }

  post(): void {
    if (!this.n) return;
    const samples = this.buf.slice(0, this.n);
    this.n = 0;
    this.port.postMessage({ type: 'audio', samples }, [samples.buffer]);
  }
}

registerProcessor('arcbench-capture', CaptureProcessor);

export {};
