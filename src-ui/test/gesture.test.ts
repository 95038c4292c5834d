import { describe, expect, it } from 'vitest';
import { distanceOutside, HoldGesture, SLIDE_CANCEL_PX } from '../src/lib/voice/gesture';

const rect = { left: 300, top: 700, right: 344, bottom: 744 };

describe('HoldGesture: hold to record, release to send, slide away to cancel', () => {
  it('press starts, release stops once, and it is ready again after settling', () => {
    const g = new HoldGesture();
    expect(g.press('pointer', 1, rect)).toBe('start');
    expect(g.phase).toBe('holding');
    expect(g.release('pointer', 1)).toBe('stop');
    expect(g.phase).toBe('finishing');
    expect(g.release('pointer', 1)).toBeNull(); // a second release sends nothing
    g.settle();
    expect(g.phase).toBe('idle');
    expect(g.press('pointer', 2, rect)).toBe('start');
  });

  it('moving within the button or up to 60 px outside keeps recording; further cancels', () => {
    const g = new HoldGesture();
    g.press('pointer', 1, rect);
    expect(g.move('pointer', 1, { x: 320, y: 720 })).toBeNull();
    expect(g.slide({ x: 320, y: 720 })).toBe(0);
    expect(g.move('pointer', 1, { x: 320, y: 700 - SLIDE_CANCEL_PX })).toBeNull(); // exactly 60 px above
    expect(g.slide({ x: 320, y: 670 })).toBeCloseTo(0.5);
    expect(g.move('pointer', 1, { x: 320, y: 700 - SLIDE_CANCEL_PX - 1 })).toBe('cancel');
    expect(g.phase).toBe('idle');
    expect(g.cancelled).toBe('slide');
    // The finger lifts after sliding away: nothing to stop.
    expect(g.release('pointer', 1)).toBeNull();
  });

  it('measures the slide from the button’s edges, diagonally too', () => {
    expect(distanceOutside(rect, { x: 310, y: 710 })).toBe(0);
    expect(distanceOutside(rect, { x: 250, y: 720 })).toBe(50);
    expect(distanceOutside(rect, { x: 344 + 30, y: 744 + 40 })).toBe(50);
    const g = new HoldGesture();
    g.press('pointer', 1, rect);
    expect(g.move('pointer', 1, { x: 300 - 42, y: 700 - 42 })).toBeNull(); // 59.4 px away
    expect(g.move('pointer', 1, { x: 300 - 43, y: 700 - 43 })).toBe('cancel'); // 60.8 px away
  });

  it('Escape cancels a hold, and does nothing otherwise', () => {
    const g = new HoldGesture();
    expect(g.cancel('escape')).toBeNull();
    g.press('key', 'hold');
    expect(g.cancel('escape')).toBe('cancel');
    expect(g.cancelled).toBe('escape');
    expect(g.release('key', 'hold')).toBeNull();
  });

  it('a keyboard hold: key repeat is no new press; key up stops', () => {
    const g = new HoldGesture();
    expect(g.press('key', 'hold')).toBe('start');
    expect(g.press('key', 'hold')).toBeNull();
    expect(g.move('key', 'hold', { x: 0, y: 0 })).toBeNull();
    expect(g.release('key', 'hold')).toBe('stop');
  });

  it('refuses a second recording while one is held or transcribed; only the first pointer ends it', () => {
    const g = new HoldGesture();
    g.press('pointer', 1, rect);
    expect(g.press('pointer', 2, rect)).toBe('busy');
    expect(g.press('key', 'hold')).toBe('busy');
    expect(g.release('pointer', 2)).toBeNull();
    expect(g.move('pointer', 2, { x: 0, y: 0 })).toBeNull();
    expect(g.phase).toBe('holding');
    expect(g.release('pointer', 1)).toBe('stop');
    expect(g.press('pointer', 3, rect)).toBe('busy'); // still transcribing
  });

  it('the time limit stops as a release would; the release after it does nothing', () => {
    const g = new HoldGesture();
    g.press('pointer', 1, rect);
    expect(g.limit()).toBe('stop');
    expect(g.release('pointer', 1)).toBeNull();
    expect(g.limit()).toBeNull();
    expect(g.cancel()).toBeNull(); // too late to cancel: it is being transcribed
  });
});
