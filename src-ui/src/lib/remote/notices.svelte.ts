import { describeError } from '../client/errors';
import { orderedEvents } from '../pushEvents';
import type { NativeRemote, NoticeSettings } from './native';

type Kind = NoticeSettings['events'][number];

/**
 * Which kinds of event the phone app's own notifications are for (`noticeSettings`, kept by the
 * app for every host alike): read once, and each change saved at once. Unlike the host's Web
 * Push, there is no separate switch: choosing none is how they are turned off here.
 */
export class NoticeChoices {
  /** The kinds chosen, in the host's order; null until the app has answered. */
  events = $state.raw<Kind[] | null>(null);
  busy = $state(false);
  /** The last read or save that went wrong, in words; cleared by the next one. */
  error = $state<string | null>(null);

  readonly #native: Pick<NativeRemote, 'noticeSettings' | 'setNoticeSettings'>;

  constructor(native: Pick<NativeRemote, 'noticeSettings' | 'setNoticeSettings'>) {
    this.#native = native;
  }

  has(kind: Kind): boolean {
    return this.events?.includes(kind) ?? false;
  }

  load(): Promise<void> {
    return this.#run(() => this.#native.noticeSettings());
  }

  /** Adds or drops one kind and saves; a refused save leaves the kept choice as it was. */
  choose(kind: Kind, on: boolean): Promise<void> {
    const now = this.events;
    if (!now) return Promise.resolve();
    const events = orderedEvents(on ? [...now, kind] : now.filter((k) => k !== kind));
    return this.#run(() => this.#native.setNoticeSettings({ events }));
  }

  async #run(step: () => Promise<NoticeSettings>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      // The app's answer, not what was asked: it is what it will go by.
      this.events = orderedEvents((await step()).events);
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.busy = false;
    }
  }
}
