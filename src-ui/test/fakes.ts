import type { Event } from '../src/lib/bindings';
import type { NetworkWatch, SocketLike } from '../src/lib/client/socket';

/** A WebSocket the test plays the host of. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed: { code?: number } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code?: number) {
    this.closed = { code };
    this.readyState = 3;
  }
  // host side
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(seq: number, extra: Partial<Event> = {}) {
    const e = { seq, ts: 'now', session_id: 's', type: 'agent.text', prompt_id: 'p', chunk: `#${seq}`, ...extra };
    this.onmessage?.({ data: JSON.stringify(e) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

/** The device's network, switched by the test. */
export class FakeNetwork implements NetworkWatch {
  online = true;
  listeners: ((online: boolean) => void)[] = [];
  isOnline = () => this.online;
  subscribe(f: (online: boolean) => void) {
    this.listeners.push(f);
    return () => (this.listeners = this.listeners.filter((l) => l !== f));
  }
  set(online: boolean) {
    this.online = online;
    this.listeners.forEach((l) => l(online));
  }
}
