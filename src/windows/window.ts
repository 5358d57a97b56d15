import type { Region } from '../speech/region.js';

/** One model call's worth of audio, in seconds from the start of the input; start < end. */
export interface Window {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** The speech regions inside this window, clipped to it, in order. Never empty. */
  readonly speech: readonly Region[];
}
