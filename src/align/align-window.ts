/**
 * One transcribed window → its words with times: cut the text into the aligner's words, ask the
 * aligner where each starts and ends, put the answers in order (fixTimestamps) and on the input's
 * clock. Pure but for the one call.
 */
import type { WindowResult } from '../transcript/window-result.js';
import type { Word } from '../transcript/word.js';
import { MEDIA_MARKER } from '../runner/request/prompt.js';
import type { AlignerCall } from './aligner-call.js';
import { fixTimestamps } from './fix-timestamps.js';
import { alignUnits, type AlignUnit } from './units.js';

export const TIMESTAMP = '<timestamp>';

/**
 * The official aligner input: the audio, then every word followed by two `<timestamp>`s (its start
 * and its end), no chat template. mtmd wraps the audio in <|audio_start|> … <|audio_end|> itself.
 */
export function alignerPrompt(units: readonly AlignUnit[]): string {
  return `${MEDIA_MARKER}${units.map((u) => `${u.text}${TIMESTAMP}${TIMESTAMP}`).join('')}`;
}

export class AlignmentError extends Error {}

export async function alignWindow(
  result: WindowResult,
  samples: Float32Array,
  call: AlignerCall,
  segmentMs: number,
): Promise<Word[]> {
  const units = alignUnits(result.text, result.language);
  if (units.length === 0) return [];
  const classes = await call(samples, alignerPrompt(units));
  if (classes.length !== 2 * units.length) {
    throw new AlignmentError(`the aligner gave ${classes.length} timestamps for ${units.length} words (expected ${2 * units.length})`);
  }
  return placeWords(units, fixTimestamps(classes.map((c) => c * segmentMs)), result.window.start, result.window.end);
}

/** Pairs of milliseconds from the window's start → words on the input's clock, inside the window. */
export function placeWords(units: readonly AlignUnit[], ms: readonly number[], windowStart: number, windowEnd: number): Word[] {
  const at = (v: number): number => Math.min(windowEnd, windowStart + v / 1000);
  return units.map((u, k) => {
    const start = at(ms[2 * k]);
    return { text: u.text, start, end: Math.max(start, at(ms[2 * k + 1])), from: u.from, to: u.to };
  });
}
