/** The host's voice types, from the Rust wire types. */
export type { TranscriberState, TranscriberStatus, Transcript } from '../bindings';
import type { TranscriberStatus } from '../bindings';

/** The longest recording the host takes, and the page records. */
export const MAX_RECORDING_S = 60;
/** The rate the host transcribes at. */
export const TRANSCRIBE_RATE = 16_000;

/**
 * The transcriber in a `/status` answer: absent from hosts older than voice input (and from a
 * status this device kept from one), which then answer the upload with 404.
 */
export function transcriberOf(status: { transcriber?: TranscriberStatus | null } | null | undefined): TranscriberStatus | null {
  return status?.transcriber ?? null;
}
