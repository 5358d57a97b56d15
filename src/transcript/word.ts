/**
 * One aligned word: a piece of a window's transcript and when it was spoken. Born in the aligner
 * (src/align/), read by the cues and the writers.
 */
export interface Word {
  /** The word as the aligner saw it: letters, digits and apostrophes only (CJK: one character). */
  readonly text: string;
  /** Seconds from the start of the input; start ≤ end. */
  readonly start: number;
  readonly end: number;
  /** Where it stands in the window's text: UTF-16 offsets [from, to) of its first and last kept characters. */
  readonly from: number;
  readonly to: number;
}
