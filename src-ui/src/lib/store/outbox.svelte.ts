import type { Prompt } from '../bindings';
import { ApiFailure, describeError } from '../client/errors';
import type { HostApi } from '../client/host';
import { browserLock, Outbox, type OutboxEntry, type OutboxStorage } from '../outbox/outbox';
import type { SessionActions } from './actions.svelte';
import type { Toasts } from './toasts.svelte';

export interface OutboxDeps {
  api: () => HostApi;
  actions: SessionActions;
  toasts: Toasts;
  /** Whether the host is reachable now (the socket is up): queued prompts go at once. */
  online: () => boolean;
  /** The host accepted a prompt; called before it leaves the outbox, so it is never shown nowhere. */
  onSent: (sessionId: string, prompt: Prompt) => void;
}

/**
 * Prompts leaving this device: every prompt goes through the outbox (IndexedDB first, then the
 * host, in order, exactly once by client_id), and the calls that stop prompts the host has.
 */
export class OutboxStore {
  entries = $state<OutboxEntry[]>([]);

  readonly #d: OutboxDeps;
  #outbox: Outbox | null = null;
  #adding: Promise<void> = Promise.resolve();

  constructor(deps: OutboxDeps) {
    this.#d = deps;
  }

  /** Opens this host's outbox; its stored entries show at once and are sent once online. */
  async init(origin: string, storage: OutboxStorage): Promise<void> {
    const outbox = new Outbox({
      origin,
      storage,
      lock: browserLock(),
      send: async (entry) => (await this.#d.api().submitPrompt(entry.session_id, { text: entry.text, client_id: entry.client_id })).prompt,
      onSent: (entry, prompt) => this.#d.onSent(entry.session_id, prompt),
      onChange: (entries) => {
        if (this.#outbox === outbox) this.entries = entries;
      },
    });
    this.#outbox = outbox;
    await outbox.load().catch((e: unknown) => this.#d.toasts.push('error', `Cannot read queued prompts: ${describeError(e)}`));
  }

  close(): void {
    this.#outbox = null;
    this.entries = [];
  }

  ofSession(id: string): OutboxEntry[] {
    return this.entries.filter((e) => e.session_id === id);
  }

  /**
   * Stores the prompt on the device first, then sends it if the host is reachable. Calls are
   * chained, so prompts typed in quick succession keep their order.
   */
  send(sessionId: string, text: string): Promise<void> {
    const outbox = this.#outbox;
    if (!outbox) return Promise.reject(new Error('Not paired with a host.'));
    const added = this.#adding.then(() => outbox.add(sessionId, text));
    this.#adding = added.then(
      () => undefined,
      () => undefined,
    );
    return added.then(() => this.#kick());
  }

  beginEdit(clientId: string): boolean {
    return this.#outbox?.beginEdit(clientId) ?? false;
  }

  endEdit(clientId: string): void {
    this.#outbox?.endEdit(clientId);
    this.#kick();
  }

  async edit(clientId: string, text: string): Promise<void> {
    await this.#outbox?.edit(clientId, text);
    this.#kick();
  }

  async cancel(clientId: string): Promise<void> {
    await this.#outbox?.cancel(clientId);
  }

  async retry(clientId: string): Promise<void> {
    await this.#outbox?.retry(clientId);
    this.#kick();
  }

  async flush(): Promise<void> {
    const result = await this.#outbox?.flush();
    if (result === 'unauthorized') this.#d.toasts.push('error', describeError(new ApiFailure(401, { code: 'unauthorized' })));
  }

  /** Cancels a prompt the host holds: queued ones are dropped, a running one is stopped. */
  async cancelPrompt(sessionId: string, promptId: string): Promise<void> {
    try {
      await this.#d.api().cancelPrompt(sessionId, promptId);
    } catch (e) {
      this.#d.toasts.push('error', describeError(e));
    }
  }

  async stopRunning(sessionId: string): Promise<void> {
    await this.#d.actions.run(sessionId, 'cancel', async () => {
      const { cancelled } = await this.#d.api().cancelRunning(sessionId);
      if (!cancelled) this.#d.toasts.push('info', 'Nothing was running.');
    });
  }

  #kick(): void {
    if (this.#d.online()) void this.flush();
  }
}
