/** One subtitle: a non-empty text shown from start to end (seconds, start < end). */
export interface Cue {
  readonly start: number;
  readonly end: number;
  /** One or more lines joined with '\n'; never empty. */
  readonly text: string;
}
