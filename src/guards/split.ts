/**
 * The ladder's split step: a window cut in two at its quietest point, and the two answers joined
 * back into one (pure).
 */
import { FRAMES_PER_SECOND } from '../speech/frame-energy.js';
import { quietestFrame } from '../speech/quietest-frame.js';
import type { Region } from '../speech/region.js';
import type { Window } from '../windows/window.js';
import { joinTexts } from '../text/scripts.js';
import type { Decoded as Decoded } from '../transcript/decode.js';

/** Shortest window worth splitting: halves under ~1 s give the model too little to go on. */
export const MIN_SPLIT_WINDOW_SECONDS = 2;
/** The cut is searched in the middle of the window, so neither half is a sliver. */
const SEARCH_FROM = 0.25;
/** Each half must hold this much detected speech. */
const MIN_HALF_SPEECH_SECONDS = 0.3;

export interface Half {
  readonly start: number;
  readonly end: number;
  readonly speech: readonly Region[];
}

const speechIn = (regions: readonly Region[], start: number, end: number): Region[] =>
  regions.map((r) => ({ start: Math.max(r.start, start), end: Math.min(r.end, end) })).filter((r) => r.end > r.start);
const seconds = (regions: readonly Region[]) => regions.reduce((s, r) => s + (r.end - r.start), 0);

/**
 * The quietest moment in the middle half of the window (per-frame loudness above the noise
 * floor, from src/speech, smoothed over 3 frames), and the two halves; null when the window is too
 * short or one half would hold (almost) no speech.
 */
export function splitWindow(window: Window, loudness: Float32Array): [Half, Half] | null {
  const length = window.end - window.start;
  if (length < MIN_SPLIT_WINDOW_SECONDS) return null;
  const loud = (f: number) => (f >= 0 && f < loudness.length ? loudness[f] : 0);
  const from = Math.ceil((window.start + SEARCH_FROM * length) * FRAMES_PER_SECOND);
  const to = Math.floor((window.end - SEARCH_FROM * length) * FRAMES_PER_SECOND);
  const best = quietestFrame(loud, from, to, 'middle');
  if (best < 0) return null;
  const cut = best / FRAMES_PER_SECOND;
  const a: Half = { start: window.start, end: cut, speech: speechIn(window.speech, window.start, cut) };
  const b: Half = { start: cut, end: window.end, speech: speechIn(window.speech, cut, window.end) };
  if (seconds(a.speech) < MIN_HALF_SPEECH_SECONDS || seconds(b.speech) < MIN_HALF_SPEECH_SECONDS) return null;
  return [a, b];
}

/** One candidate from the answers for both halves (language: the half with more speech that named one). */
export function joinHalves(halves: readonly [Half, Half], answers: readonly [Decoded, Decoded]): Decoded {
  const [a, b] = answers;
  const named = [0, 1].filter((i) => answers[i].language !== null).sort((i, j) => seconds(halves[j].speech) - seconds(halves[i].speech));
  return {
    language: named.length > 0 ? answers[named[0]].language : null,
    text: joinTexts(a.text, b.text),
    stop: a.stop === 'limit' || b.stop === 'limit' ? 'limit' : 'eos',
    tokens: a.tokens + b.tokens,
  };
}
