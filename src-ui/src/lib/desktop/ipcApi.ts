import type { Budget, CreateSessionRequest, SubmitPromptRequest } from '../bindings';
import type { HostApi, SubmitResult } from '../client/host';
import type { ArcbenchApi } from '../client/rest';
import { commands } from './bindings';
import { unwrapApi } from './desktop.svelte';

/**
 * The host's API over the desktop app's IPC, for a host running inside the app: each method is
 * the generated command of one operation (`arcbench_host::api_operations!`), which calls the same
 * host function as the HTTP route `ArcbenchApi` calls, and fails with the same codes. The audio
 * operations (transcribe, speech) are HTTP only and go to the same host over `http`.
 */
export class IpcApi implements HostApi {
  readonly origin: string;
  readonly transport = 'ipc';
  readonly #http: ArcbenchApi;

  constructor(http: ArcbenchApi) {
    this.#http = http;
    this.origin = http.origin;
  }

  status() {
    return unwrapApi(commands.status());
  }

  async sessions() {
    const r = await unwrapApi(commands.listSessions());
    return { sessions: r.sessions, last_seq: r.last_seq ?? 0 };
  }

  createSession(req: CreateSessionRequest) {
    return unwrapApi(commands.createSession(req));
  }

  session(id: string) {
    return unwrapApi(commands.sessionDetail(id));
  }

  snapshot(id: string) {
    return unwrapApi(commands.snapshot(id));
  }

  deleteSession(id: string, deleteBranch = false) {
    return unwrapApi(commands.deleteSession(id, { delete_branch: deleteBranch, force: false }));
  }

  diff(id: string) {
    return unwrapApi(commands.diff(id));
  }

  approveHunks(id: string, ids: string[]) {
    return unwrapApi(commands.approveHunks(id, { ids }));
  }

  rejectHunks(id: string, ids: string[], comment?: string) {
    return unwrapApi(commands.rejectHunks(id, comment?.trim() ? { ids, comment: comment.trim() } : { ids }));
  }

  apply(id: string, message?: string) {
    return unwrapApi(commands.apply(id, message?.trim() ? { message: message.trim() } : {}));
  }

  rejectAll(id: string) {
    return unwrapApi(commands.rejectAll(id));
  }

  undo(id: string) {
    return unwrapApi(commands.undo(id));
  }

  merge(id: string) {
    return unwrapApi(commands.merge(id));
  }

  async comment(id: string, hunkId: string, comment: string) {
    return (await unwrapApi(commands.comment(id, { hunk_id: hunkId, comment: comment.trim() }))).note;
  }

  revisionPreview(id: string) {
    return unwrapApi(commands.revisionPreview(id));
  }

  revise(id: string, clientId: string, text?: string): Promise<SubmitResult> {
    return unwrapApi(commands.submitRevision(id, text?.trim() ? { client_id: clientId, text } : { client_id: clientId }));
  }

  history(id: string) {
    return unwrapApi(commands.history(id));
  }

  submitPrompt(id: string, req: SubmitPromptRequest): Promise<SubmitResult> {
    return unwrapApi(commands.submitPrompt(id, req));
  }

  async prompts(id: string) {
    return (await unwrapApi(commands.listPrompts(id))).prompts;
  }

  cancelPrompt(id: string, promptId: string) {
    return unwrapApi(commands.cancelPrompt(id, promptId));
  }

  cancelRunning(id: string) {
    return unwrapApi(commands.cancelRunning(id));
  }

  usage() {
    return unwrapApi(commands.usage());
  }

  budget() {
    return unwrapApi(commands.budget());
  }

  setBudget(update: Budget) {
    return unwrapApi(commands.setBudget(update));
  }

  async events(since: number) {
    return (await unwrapApi(commands.listEvents({ since }))).events;
  }

  createPairingCode() {
    return unwrapApi(commands.createPairingCode());
  }

  async devices() {
    return (await unwrapApi(commands.listDevices())).devices;
  }

  revokeDevice(id: string) {
    return unwrapApi(commands.revokeDevice(id));
  }

  transcribe(wav: Blob, sessionId?: string | null) {
    return this.#http.transcribe(wav, sessionId);
  }

  speech(text: string) {
    return this.#http.speech(text);
  }
}
