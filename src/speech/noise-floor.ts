/**
 * Local noise-floor estimate: a low percentile of frame energies in a sliding window
 * (a simplified "minimum statistics" tracker, Martin 2001, non-causal because we analyse whole files).
 *
 *   F[t] = percentile_p { E[u] : |u − t| ≤ W/2 }
 *
 * Why a percentile and not the minimum: single dropouts (digital zeros between words, a click
 * of silence) would pull a minimum far below the real background. Why local and not global:
 * the background changes (a louder room, a gain change halfway), and speech is only "loud"
 * relative to what surrounds it.
 *
 * Implementation: a histogram of energies quantised to HIST_STEP dB, updated as the window slides,
 * so the cost is O(T · bins) with tiny constants and memory O(T) for the output only.
 */
import { SILENCE_DB } from './frame-energy.js';

/** Histogram resolution in dB: far below the 4–9 dB thresholds it feeds. */
const HIST_STEP = 0.5;
const HIST_MIN = SILENCE_DB;
const HIST_MAX = 20;
const BINS = Math.ceil((HIST_MAX - HIST_MIN) / HIST_STEP) + 1;

function bin(db: number): number {
  const b = Math.round((db - HIST_MIN) / HIST_STEP);
  return b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
}

/**
 * Sliding-window percentile of `energyDb` (one value per frame).
 * @param windowFrames total window length in frames (centred on each frame)
 * @param percentile in (0, 1), e.g. 0.1 for the 10th percentile
 */
export function slidingPercentile(energyDb: Float32Array, windowFrames: number, percentile: number): Float32Array {
  const n = energyDb.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const half = Math.max(1, Math.floor(windowFrames / 2));
  const hist = new Int32Array(BINS);
  let count = 0;
  let lo = 0; // window is [lo, hi)
  let hi = 0;
  for (let t = 0; t < n; t++) {
    const wantHi = Math.min(n, t + half + 1);
    const wantLo = Math.max(0, t - half);
    while (hi < wantHi) {
      hist[bin(energyDb[hi++])]++;
      count++;
    }
    while (lo < wantLo) {
      hist[bin(energyDb[lo++])]--;
      count--;
    }
    const rank = Math.floor(percentile * (count - 1));
    let seen = 0;
    let b = 0;
    for (; b < BINS; b++) {
      seen += hist[b];
      if (seen > rank) break;
    }
    out[t] = HIST_MIN + b * HIST_STEP;
  }
  return out;
}
