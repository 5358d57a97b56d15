/** One subtitle: a non-empty text shown from start to end (seconds, start < end). */
export interface Cue {
  readonly start: number;
  readonly end: number;
  /** One or more lines joined with '\n'; never empty. */
  readonly text: string;
  /** When each word of the text is spoken, for cues timed by aligned words (absent otherwise). */
  readonly marks?: readonly CueMark[];
}

/** A word of a cue's text starts at `offset` (UTF-16, in `text`) and is spoken from `time` (seconds). */
export interface CueMark {
  readonly offset: number;
  readonly time: number;
}
