/**
 * Timing of text inside one window, from the window's speech regions alone (the model gives no
 * word timestamps): text is assumed to be spoken at a constant rate of characters per second of
 * speech, so it is distributed over the speech regions in proportion to their durations, and
 * within a region in proportion to characters. Pauses between regions stay free of text, so a
 * pause inside a window shows as a gap between cues.
 */
import type { Region } from '../speech/region.js';
import { endsClause, spokenLength, type Token } from './split-text.js';

/** Target reading speed, characters per second (typical subtitle guideline for adults: 17–20). */
export const MAX_CHARS_PER_SECOND = 20;

/**
 * How far (as a fraction of the smaller of the two neighbouring regions' shares) a region boundary
 * may move to land on a clause end: speakers pause at punctuation far more often than mid-phrase,
 * so a nearby comma or full stop is a better guess for "what was said before the pause".
 */
const SNAP_FRACTION = 0.35;

/**
 * Splits the window's tokens between its speech regions: boundary j is put where the spoken
 * character count reaches the share of speech time before the end of region j, moved to a nearby
 * clause end when one is close (and the move does not push either region over the reading speed
 * any more than the window as a whole already is).
 * Returns one (possibly empty) token list per region.
 */
export function allocateToRegions(tokens: readonly Token[], regions: readonly Region[]): Token[][] {
  const m = regions.length;
  if (m === 0) return [];
  if (m === 1) return [tokens.slice()];
  const k = tokens.length;
  const cum = new Float64Array(k + 1); // cum[i] = spoken chars in tokens[0 … i−1]
  for (let i = 0; i < k; i++) cum[i + 1] = cum[i] + spokenLength(tokens[i]);
  const total = cum[k];
  const durations = regions.map((r) => r.end - r.start);
  const speech = durations.reduce((a, b) => a + b, 0);
  const windowCps = total / speech;
  const cpsLimit = Math.max(MAX_CHARS_PER_SECOND, windowCps);

  const bounds: number[] = [0];
  let acc = 0;
  for (let j = 0; j < m - 1; j++) {
    acc += durations[j];
    const target = (total * acc) / speech;
    const prev = bounds[j];
    // Natural boundary: the token break whose cumulative count is nearest the target.
    let natural = prev;
    for (let i = prev; i <= k; i++) if (Math.abs(cum[i] - target) < Math.abs(cum[natural] - target)) natural = i;
    const share = Math.min(durations[j], durations[j + 1]) * windowCps;
    const tol = SNAP_FRACTION * share;
    let best = natural;
    let bestDist = Infinity;
    for (let i = Math.max(prev + 1, 1); i <= k; i++) {
      const dist = Math.abs(cum[i] - target);
      if (dist > tol || !endsClause(tokens[i - 1])) continue;
      const leftCps = (cum[i] - cum[prev]) / durations[j];
      if (leftCps > cpsLimit) continue;
      // The right side: region j+1 gets at least what the natural split would give it next.
      const nextTarget = j + 2 < m ? (total * (acc + durations[j + 1])) / speech : total;
      const rightCps = Math.max(0, nextTarget - cum[i]) / durations[j + 1];
      if (rightCps > cpsLimit) continue;
      if (dist < bestDist) {
        bestDist = dist;
        best = i;
      }
    }
    bounds.push(Math.max(prev, best));
  }
  bounds.push(k);
  const out: Token[][] = [];
  for (let j = 0; j < m; j++) out.push(tokens.slice(bounds[j], bounds[j + 1]));
  return out;
}

/** Splits [start, end] into consecutive spans proportional to `weights` (all > 0). */
export function proportionalSpans(weights: readonly number[], start: number, end: number): [number, number][] {
  const total = weights.reduce((a, b) => a + b, 0);
  const out: [number, number][] = [];
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    const a = start + ((end - start) * acc) / total;
    acc += weights[i];
    const b = i === weights.length - 1 ? end : start + ((end - start) * acc) / total;
    out.push([a, b]);
  }
  return out;
}

export function spokenChars(tokens: readonly Token[]): number {
  let n = 0;
  for (const t of tokens) n += spokenLength(t);
  return n;
}
