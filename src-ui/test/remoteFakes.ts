import type {
  Event_Deserialize,
  HostCredentials_Serialize,
  HostsState_Serialize,
  NoticeSettings,
  Notice_Serialize,
  OutboxEntry_Serialize,
  PairedHost_Serialize,
  RemoteError,
  SessionTitle,
} from '../src/lib/remote/bindings';
import type { RemoteCommands } from '../src/lib/remote/native';

type Result<T> = Promise<{ status: 'ok'; data: T } | { status: 'error'; error: RemoteError }>;

/**
 * The phone app's commands over memory, keeping the app's rules (mobile/src/hosts.rs): the same
 * origin pairs again under its id; a new pairing is selected; forgetting moves the selection and
 * drops the key and the outbox; a prompt must be for its host's origin.
 */
export class FakeRemoteApp implements RemoteCommands {
  state: HostsState_Serialize = { hosts: [], selected: null };
  keys = new Map<string, string>();
  outboxes = new Map<string, Map<string, OutboxEntry_Serialize>>();
  calls: string[] = [];
  /** What a command is refused with, by its name. */
  refuse: Record<string, RemoteError> = {};
  #next = 0;

  /** A host paired already (as if by an earlier run). */
  seed(origin: string, key: string, over: Partial<PairedHost_Serialize> = {}): PairedHost_Serialize {
    const host: PairedHost_Serialize = { id: `h${++this.#next}`, origin, name: new URL(origin).hostname, device_id: null, paired_at: 1, key_place: 'keychain', ...over };
    this.state = { hosts: [...this.state.hosts, host], selected: this.state.selected ?? host.id };
    this.keys.set(host.id, key);
    return host;
  }

  async #run<T>(name: string, fn: () => T): Result<T> {
    this.calls.push(name);
    const refusal = this.refuse[name];
    if (refusal) return { status: 'error', error: refusal };
    try {
      return { status: 'ok', data: fn() };
    } catch (e) {
      return { status: 'error', error: e as RemoteError };
    }
  }

  #find(id: string): PairedHost_Serialize {
    const h = this.state.hosts.find((x) => x.id === id);
    if (!h) throw { code: 'not_found', message: 'This device is not paired with that host (any more).' } satisfies RemoteError;
    return h;
  }

  platform = () => this.#run('platform', () => ({ os: 'android', mobile: true, scanner: true, haptics: true, key_place: 'keychain' as const }));
  hosts = () => this.#run('hosts', () => structuredClone(this.state));
  addHost = (n: { origin: string; key: string; device_id?: string | null; name?: string | null }) =>
    this.#run('addHost', () => {
      const origin = new URL(n.origin).origin;
      const existing = this.state.hosts.find((h) => h.origin === origin);
      const host: PairedHost_Serialize = {
        id: existing?.id ?? `h${++this.#next}`,
        origin,
        name: n.name ?? existing?.name ?? new URL(origin).hostname,
        device_id: n.device_id ?? null,
        paired_at: 2,
        key_place: 'keychain',
      };
      this.keys.set(host.id, n.key);
      this.state = { hosts: existing ? this.state.hosts.map((h) => (h.id === host.id ? host : h)) : [...this.state.hosts, host], selected: host.id };
      return { ...host };
    });
  forgetHost = (id: string) =>
    this.#run('forgetHost', () => {
      this.#find(id);
      const hosts = this.state.hosts.filter((h) => h.id !== id);
      this.state = { hosts, selected: this.state.selected === id ? (hosts[0]?.id ?? null) : this.state.selected };
      this.keys.delete(id);
      this.outboxes.delete(id);
      return structuredClone(this.state);
    });
  selectHost = (id: string) =>
    this.#run('selectHost', () => {
      this.#find(id);
      this.state = { ...this.state, selected: id };
      return structuredClone(this.state);
    });
  renameHost = (id: string, name: string) =>
    this.#run('renameHost', () => {
      const h = this.#find(id);
      const trimmed = name.trim();
      if (!trimmed || [...trimmed].length > 60 || /\p{Cc}/u.test(trimmed)) {
        throw { code: 'bad_request', message: "A host's name is 1 to 60 characters, on one line." } satisfies RemoteError;
      }
      h.name = trimmed;
      return { ...h };
    });
  hostCredentials = (id: string) =>
    this.#run('hostCredentials', (): HostCredentials_Serialize => {
      const h = this.#find(id);
      const key = this.keys.get(id);
      if (!key) throw { code: 'storage', message: `The key for ${h.name} is gone from this device: pair with it again.` } satisfies RemoteError;
      return { origin: h.origin, key, device_id: h.device_id };
    });
  outboxAll = (hostId: string) =>
    this.#run('outboxAll', () => {
      this.#find(hostId);
      return [...(this.outboxes.get(hostId)?.values() ?? [])].sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0)).map((e) => ({ ...e }));
    });
  outboxPut = (hostId: string, entry: Omit<OutboxEntry_Serialize, 'error'> & { error?: string | null }) =>
    this.#run('outboxPut', () => {
      const h = this.#find(hostId);
      if (entry.origin !== h.origin) throw { code: 'bad_request', message: `That prompt is for ${entry.origin}, not ${h.origin}: each host keeps its own outbox.` } satisfies RemoteError;
      const box = this.outboxes.get(hostId) ?? new Map<string, OutboxEntry_Serialize>();
      box.set(entry.client_id, { ...entry, error: entry.error ?? null });
      this.outboxes.set(hostId, box);
      return null;
    });
  outboxRemove = (hostId: string, clientId: string) =>
    this.#run('outboxRemove', () => {
      this.#find(hostId);
      this.outboxes.get(hostId)?.delete(clientId);
      return null;
    });
  /** Which kinds of event the app's own notifications are for (every kind until chosen). */
  notices: NoticeSettings = { events: ['turn_finished', 'needs_you', 'budget'] };
  noticeSettings = () => this.#run('noticeSettings', () => structuredClone(this.notices));
  setNoticeSettings = (settings: NoticeSettings) =>
    this.#run('setNoticeSettings', () => {
      // The app keeps its own order, each kind once.
      const order = ['turn_finished', 'needs_you', 'budget'] as const;
      this.notices = { events: order.filter((k) => settings.events.includes(k)) };
      return structuredClone(this.notices);
    });
  /** What the page handed over for local notifications (the app folds and shows them). */
  noted: { hostId: string; titles: SessionTitle[]; events: Event_Deserialize[]; looking: string | null }[] = [];
  noteEvents = (hostId: string, titles: SessionTitle[], events: Event_Deserialize[], looking: string | null) =>
    this.#run('noteEvents', (): Notice_Serialize[] => {
      this.noted.push({ hostId, titles, events, looking });
      return [];
    });
}
