import type { Window } from '../windows/window.js';
import type { GuardReport } from '../guards/ladder.js';

/** What the model made of one window. */
export interface WindowResult {
  readonly window: Window;
  /** The language the model named ('English', ...), or null where it said none. */
  readonly language: string | null;
  /** The transcript of the window, trimmed; '' when the model heard no speech. */
  readonly text: string;
  /** Wall time of the model calls for this window, in milliseconds. */
  readonly ms: number;
  /** eos: the model ended its answer; limit: it ran out of tokens (the text may be cut short). */
  readonly stop: 'eos' | 'limit';
  /** Tokens generated for the window (the kept decode). */
  readonly tokens: number;
  /** What the quality guards found and did (absent with --no-guard when nothing was retried). */
  readonly guard?: GuardReport;
}
