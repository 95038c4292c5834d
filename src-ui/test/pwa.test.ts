import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerServiceWorker } from '../src/lib/pwa';

/** `navigator.serviceWorker`, as much as the page's answering needs; messages come from the test. */
function fakeContainer() {
  const listeners: ((e: { data: unknown; ports: { postMessage(m: unknown): void }[] }) => void)[] = [];
  const container = {
    started: false,
    addEventListener: (type: string, f: (typeof listeners)[number]) => type === 'message' && listeners.push(f),
    startMessages: () => (container.started = true),
  };
  /** The worker asks, with a port for the answer; answers what came back on it. */
  const ask = (data: unknown, withPort = true) => {
    const answers: unknown[] = [];
    const ports = withPort ? [{ postMessage: (m: unknown) => answers.push(m) }] : [];
    listeners.forEach((f) => f({ data, ports }));
    return answers;
  };
  return { container, ask };
}

describe('answerServiceWorker', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('tells the worker which session the page shows, now', () => {
    const { container, ask } = fakeContainer();
    vi.stubGlobal('navigator', { serviceWorker: container });
    let route: string | null = 's1';
    answerServiceWorker(() => route);
    expect(container.started).toBe(true);
    expect(ask({ type: 'which-session' })).toEqual([{ session_id: 's1' }]);
    route = null;
    expect(ask({ type: 'which-session' })).toEqual([{ session_id: null }]);
    // Anything else (the update's skip-waiting goes the other way) is not answered.
    expect(ask({ type: 'other' })).toEqual([]);
    expect(ask(null)).toEqual([]);
    expect(ask({ type: 'which-session' }, false)).toEqual([]);
  });

  it('does nothing without service workers or inside the desktop app', () => {
    vi.stubGlobal('navigator', {});
    expect(() => answerServiceWorker(() => null)).not.toThrow();
    const { container } = fakeContainer();
    vi.stubGlobal('navigator', { serviceWorker: container });
    vi.stubGlobal('__TAURI_INTERNALS__', {});
    answerServiceWorker(() => null);
    expect(container.started).toBe(false);
  });
});
