/**
 * Hold to talk, as a state machine without the DOM (the mic button feeds it pointer and key
 * events; the tests feed it by hand):
 * - press (pointer down, or Space/Enter down on the focused button) starts a recording;
 * - release (pointer up, key up) stops it and sends it to be transcribed;
 * - sliding away (the pointer more than `SLIDE_CANCEL_PX` outside the button), Escape, a
 *   cancelled pointer or lost focus cancel it: nothing is sent;
 * - the 60 s limit stops it as a release would; the release that follows does nothing.
 * Only the pointer (or key) that started a recording can end it; a second press while one is
 * recording or being transcribed is refused (`busy`), never a second recording.
 */

export const SLIDE_CANCEL_PX = 60;

export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export type HoldSource = 'pointer' | 'key';

/** What the caller must do now. */
export type HoldEffect = 'start' | 'stop' | 'cancel' | 'busy' | null;

/** `holding`: recording (or starting to); `finishing`: released, being transcribed. */
export type HoldPhase = 'idle' | 'holding' | 'finishing';

export type CancelReason = 'slide' | 'escape' | 'interrupted';

/** How far `p` is outside `r` (0 inside). */
export function distanceOutside(r: Rect, p: Point): number {
  const dx = Math.max(r.left - p.x, 0, p.x - r.right);
  const dy = Math.max(r.top - p.y, 0, p.y - r.bottom);
  return Math.hypot(dx, dy);
}

export class HoldGesture {
  phase: HoldPhase = 'idle';
  /** Why the last recording was cancelled. */
  cancelled: CancelReason | null = null;
  /** The press holding now: `pointer:<id>` or `key:<key>`. */
  #who: string | null = null;
  #rect: Rect | null = null;

  constructor(readonly slidePx = SLIDE_CANCEL_PX) {}

  /** A pointer went down (with where the button is) or a key was pressed on the button. */
  press(source: HoldSource, id: string | number, rect?: Rect): HoldEffect {
    const who = `${source}:${id}`;
    if (this.phase !== 'idle') return who === this.#who ? null : 'busy';
    this.phase = 'holding';
    this.#who = who;
    this.#rect = rect ?? null;
    this.cancelled = null;
    return 'start';
  }

  /** How far the holding pointer is outside the button, 0 to 1 of the way to cancelling. */
  slide(p: Point): number {
    if (this.phase !== 'holding' || !this.#rect) return 0;
    return Math.min(1, distanceOutside(this.#rect, p) / this.slidePx);
  }

  move(source: HoldSource, id: string | number, p: Point): HoldEffect {
    if (this.phase !== 'holding' || `${source}:${id}` !== this.#who || !this.#rect) return null;
    if (distanceOutside(this.#rect, p) <= this.slidePx) return null;
    return this.#cancel('slide');
  }

  release(source: HoldSource, id: string | number): HoldEffect {
    if (this.phase !== 'holding' || `${source}:${id}` !== this.#who) return null;
    this.phase = 'finishing';
    this.#who = null;
    return 'stop';
  }

  /** Escape; or the pointer was taken away (pointercancel) or focus left during a key hold. */
  cancel(reason: CancelReason = 'escape'): HoldEffect {
    return this.phase === 'holding' ? this.#cancel(reason) : null;
  }

  /** The maximum length was reached: stop and transcribe, as a release would. */
  limit(): HoldEffect {
    if (this.phase !== 'holding') return null;
    this.phase = 'finishing';
    this.#who = null;
    return 'stop';
  }

  /** The recording is over for good (transcribed, failed, or refused): ready for the next. */
  settle(): void {
    this.phase = 'idle';
    this.#who = null;
    this.#rect = null;
  }

  #cancel(reason: CancelReason): HoldEffect {
    this.phase = 'idle';
    this.#who = null;
    this.#rect = null;
    this.cancelled = reason;
    return 'cancel';
  }
}
