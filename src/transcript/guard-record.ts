/**
 * The quality guards' record of a window (written to `-f json`): what was found, every decode
 * tried, and how it ended. Types only; the guards (src/guards/) make it.
 */
import type { Decoded } from './decode.js';

export type FlagKind =
  | 'repetition'
  | 'compression'
  | 'token-limit'
  | 'too-much-text'
  | 'too-little-text'
  | 'no-text'
  | 'context-leak'
  | 'language';

export interface Flag {
  readonly kind: FlagKind;
  /** What was found, for people (`"again and" ×14`, `41.2 letters/s`). */
  readonly detail: string;
}

export type Step = 'initial' | 'repetition-control' | 'split' | 'drop-context' | 'force-language';

/** How one decode is made. */
export interface DecodeSettings {
  /** Sampler options against loops (REPETITION_CONTROL). */
  readonly repetitionControl: boolean;
  /** Decode the window as two halves cut at its quietest point. */
  readonly split: boolean;
  readonly context: string | null;
  /** Prefilled language, null: the model detects it. */
  readonly language: string | null;
}

export interface Attempt extends Decoded {
  readonly step: Step;
  /** The flags that called for this step (none for the initial decode). */
  readonly reason: readonly FlagKind[];
  readonly settings: DecodeSettings;
  readonly flags: readonly Flag[];
  /** Set when the decode itself failed (the binary crashed twice): not a candidate. */
  readonly error?: string;
}

export type Outcome = 'clean' | 'repaired' | 'marked';

export interface GuardReport {
  /** Flags of the initial decode. */
  readonly flags: readonly Flag[];
  /** The initial decode and every retry, in order; empty for a clean window. */
  readonly attempts: readonly Attempt[];
  readonly outcome: Outcome;
  /** Index in attempts of the decode whose text is kept (0 for a clean window). */
  readonly kept: number;
  /** Marked windows only: units taken out of the kept decode's loops (its raw text is attempts[kept].text). */
  readonly collapsed?: number;
}
