/**
 * What one decode of one stretch of audio gave: the transcript model's smallest piece, shared
 * by the runner that makes it, the guards that judge it and the writers that record it.
 */

/** eos: the model ended its answer; limit: it ran out of tokens (the text may be cut short). */
export type StopReason = 'eos' | 'limit';

/** One decode's answer, parsed: the language the model named and what it wrote. */
export interface Decoded {
  /** The language the model named ('English', ...), or null where it said none. */
  readonly language: string | null;
  readonly text: string;
  readonly stop: StopReason;
  /** Tokens generated. */
  readonly tokens: number;
}
