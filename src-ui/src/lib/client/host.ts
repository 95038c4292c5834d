import type {
  Budget,
  BudgetInfo,
  CancelResponse,
  CommitResponse,
  CreateSessionRequest,
  DeletedResponse,
  Device,
  Diff,
  Event,
  HistoryResponse,
  PairingCode,
  Prompt,
  ReviewNote,
  RevisionPreview,
  Session,
  SessionDetail,
  SessionSnapshot,
  Status,
  SubmitPromptRequest,
  UsageResponse,
} from '../bindings';
import type { Transcript } from '../voice/types';

/** A submitted prompt, and whether this call created it (202) or found it by client_id (200). */
export interface SubmitResult {
  prompt: Prompt;
  created: boolean;
}

/**
 * One typed client of a host, whatever carries it: `ArcbenchApi` over HTTP (the phone, the PWA,
 * the desktop app attached to a service) and `IpcApi` over the desktop app's IPC (its host runs
 * in the app). Both call the same host functions (`arcbench_host::api`); the stores only know this
 * interface. Failures are `ApiFailure` (the host answered, with the API's code) or
 * `NetworkFailure` (it did not).
 */
export interface HostApi {
  readonly origin: string;
  /** What carries the calls: HTTP, or the desktop app's IPC. */
  readonly transport: 'http' | 'ipc';
  status(): Promise<Status>;
  /** The sessions, and the newest event's seq when they were read (stream events after it). */
  sessions(): Promise<{ sessions: Session[]; last_seq: number }>;
  createSession(req: CreateSessionRequest): Promise<Session>;
  session(id: string): Promise<SessionDetail>;
  /** Everything to show one session (prompts with their replies) and the seq it is current to. */
  snapshot(id: string): Promise<SessionSnapshot>;
  deleteSession(id: string, deleteBranch?: boolean): Promise<DeletedResponse>;
  diff(id: string): Promise<Diff>;
  approveHunks(id: string, ids: string[]): Promise<Diff>;
  rejectHunks(id: string, ids: string[], comment?: string): Promise<Diff>;
  apply(id: string, message?: string): Promise<CommitResponse>;
  /** Discards every uncommitted change of the session. */
  rejectAll(id: string): Promise<Diff>;
  undo(id: string): Promise<CommitResponse>;
  merge(id: string): Promise<CommitResponse>;
  /** A comment on one hunk (kept or pending); it feeds the next revision. */
  comment(id: string, hunkId: string, comment: string): Promise<ReviewNote>;
  /** The revision prompt the pending notes would make (`conflict` when there are none). */
  revisionPreview(id: string): Promise<RevisionPreview>;
  /** Queues the revision prompt; the same client_id is never queued twice. */
  revise(id: string, clientId: string, text?: string): Promise<SubmitResult>;
  history(id: string): Promise<HistoryResponse>;
  submitPrompt(id: string, req: SubmitPromptRequest): Promise<SubmitResult>;
  prompts(id: string): Promise<Prompt[]>;
  cancelPrompt(id: string, promptId: string): Promise<CancelResponse>;
  /** Stops whatever prompt is running in the session. */
  cancelRunning(id: string): Promise<CancelResponse>;
  usage(): Promise<UsageResponse>;
  budget(): Promise<BudgetInfo>;
  setBudget(update: Budget): Promise<BudgetInfo>;
  /** At most 10,000 events after `since`; `resync` when the host compacted past it. */
  events(since: number): Promise<Event[]>;
  /** A single-use code (5 minutes) that pairs one more device; its links and QR code. */
  createPairingCode(): Promise<PairingCode>;
  devices(): Promise<Device[]>;
  /** Revokes a device's key: the host refuses it from now on. Answers the revoked device. */
  revokeDevice(id: string): Promise<Device>;
  /** A recording (16 kHz mono 16-bit WAV, at most 60 s) to its text (HTTP only: audio bodies). */
  transcribe(wav: Blob, sessionId?: string | null): Promise<Transcript>;
  /** The host reads `text` (≤ 1000 characters) aloud into a WAV (HTTP only: audio bodies). */
  speech(text: string): Promise<Blob>;
}
