import type { Window } from '../windows/window.js';
import type { StopReason } from './decode.js';
import type { GuardReport } from './guard-record.js';
import type { Word } from './word.js';

/** What the model made of one window. */
export interface WindowResult {
  readonly window: Window;
  /** The language the model named ('English', ...), or null where it said none. */
  readonly language: string | null;
  /** The transcript of the window, trimmed; '' when the model heard no speech. */
  readonly text: string;
  /** Wall time of the model calls for this window, in milliseconds. */
  readonly ms: number;
  readonly stop: StopReason;
  /** Tokens generated for the window (the kept decode). */
  readonly tokens: number;
  /** What the quality guards found and did (absent with --no-guard when nothing was retried). */
  readonly guard?: GuardReport;
  /** The text's words with their times, when an aligner timed them (absent otherwise). */
  readonly words?: readonly Word[];
}
