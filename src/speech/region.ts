/** A stretch of detected speech, in seconds from the start of the input; start < end. */
export interface Region {
  readonly start: number;
  readonly end: number;
}
