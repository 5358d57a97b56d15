/**
 * Cuts detected speech into model windows (pure: regions + per-frame loudness in, windows out).
 *
 * Greedy, left to right. A window starts MARGIN before its first speech and grows until the
 * next speech would pass `maxSeconds`. It is then closed at the best cut before that limit:
 *
 *   1. a pause (gap between speech regions) — the latest one that is at least GOOD_PAUSE long,
 *      else the longest one (ties: the one with the lowest loudness, i.e. deepest);
 *      a pause is only eligible once the window holds MIN_SPEECH_BEFORE_CUT of material,
 *      so a lone short word at the start does not become a window of its own;
 *   2. when there is no eligible pause (continuous speech), inside speech at the quietest frame
 *      of the last CONTINUOUS_LOOKBACK seconds before the limit (a dip between words).
 *
 * A silence of SPLIT_PAUSE or more always ends the window.
 * A window ends MARGIN after its last speech, or at the cut where the pause is shorter than two
 * margins; silence beyond that is skipped, so windows never hold long silences and never overlap.
 */
import { FRAMES_PER_SECOND } from '../speech/frame-energy.js';
import type { Region } from '../speech/region.js';
import type { Window } from './window.js';

/** The model's inference window when the caller does not say (Qwen3-ASR GGUF metadata: 8 s). */
export const DEFAULT_MAX_SECONDS = 8;
/** Longest window accepted: Whisper-family encoders see at most 30 s. */
export const MAX_MAX_SECONDS = 30;
/** Silence kept around speech: word onsets (plosive bursts) and tails are softer than the VAD threshold. */
export const MARGIN_SECONDS = 0.2;
/** A pause this long is a sentence/phrase break: any such pause is as good a cut as a longer one. */
export const GOOD_PAUSE_SECONDS = 0.5;
/**
 * A silence this long always ends a window, even if the next speech would fit: carrying seconds of
 * silence costs encoder time, and models tend to hallucinate text into long silences.
 */
export const SPLIT_PAUSE_SECONDS = 2;
/** Material a window needs before a pause may close it (avoids tiny windows and extra model calls). */
export const MIN_SPEECH_BEFORE_CUT = 1;
/** Where speech never pauses, search this far back from the limit for the quietest frame. */
export const CONTINUOUS_LOOKBACK_SECONDS = 2;
/** Speech shorter than this is a blip (click, breath, cough, "uh"). */
export const BLIP_SECONDS = 0.3;
/** A blip this close to other speech belongs to it: join them. */
export const BLIP_JOIN_GAP_SECONDS = 1;
/** An isolated blip must peak this far above the floor to be kept (a short loud "No." is speech). */
export const BLIP_KEEP_DB = 20;

export interface CutOptions {
  /** Longest window in seconds; default 8, at most 30. */
  readonly maxSeconds?: number;
  /** Input length in seconds; default: loudness frames / 100. */
  readonly duration?: number;
  readonly marginSeconds?: number;
}

/** Splits speech into ordered, non-overlapping windows of at most maxSeconds, indexed from 0. */
export function cutWindows(regions: readonly Region[], frameLoudness: Float32Array, options: CutOptions = {}): Window[] {
  const maxSeconds = options.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (!(maxSeconds > 0) || maxSeconds > MAX_MAX_SECONDS) throw new RangeError(`maxSeconds must be in (0, ${MAX_MAX_SECONDS}], got ${maxSeconds}`);
  const duration = options.duration ?? frameLoudness.length / FRAMES_PER_SECOND;
  const margin = Math.min(options.marginSeconds ?? MARGIN_SECONDS, maxSeconds / 8);
  const speech = cleanBlips(clipRegions(normalise(regions), duration), frameLoudness);
  const minBeforeCut = Math.min(MIN_SPEECH_BEFORE_CUT, maxSeconds / 4);
  const lookback = Math.min(CONTINUOUS_LOOKBACK_SECONDS, maxSeconds / 4);

  const loud = (t: number): number => {
    const f = Math.floor(t * FRAMES_PER_SECOND);
    return f >= 0 && f < frameLoudness.length ? frameLoudness[f] : 0;
  };
  /** Mean loudness over [a, b): how deep a pause is. */
  const meanLoud = (a: number, b: number): number => {
    const fa = Math.max(0, Math.floor(a * FRAMES_PER_SECOND));
    const fb = Math.min(frameLoudness.length, Math.ceil(b * FRAMES_PER_SECOND));
    if (fb <= fa) return 0;
    let s = 0;
    for (let f = fa; f < fb; f++) s += frameLoudness[f];
    return s / (fb - fa);
  };
  /** Quietest time in [a, b], 3-frame smoothed so a single dip frame does not win over a real gap. */
  const quietest = (a: number, b: number): number => {
    const fa = Math.max(0, Math.ceil(a * FRAMES_PER_SECOND));
    const fb = Math.min(frameLoudness.length - 1, Math.floor(b * FRAMES_PER_SECOND));
    let best = fa;
    let bestV = Infinity;
    for (let f = fb; f >= fa; f--) {
      const v = loud((f - 1) / FRAMES_PER_SECOND) + 2 * loud(f / FRAMES_PER_SECOND) + loud((f + 1) / FRAMES_PER_SECOND);
      if (v < bestV) {
        bestV = v;
        best = f;
      }
    }
    return Math.min(b, Math.max(a, best / FRAMES_PER_SECOND));
  };

  const windows: Window[] = [];
  let i = 0; // first region not yet fully covered
  let cursor = 0; // nothing before this time may go into a new window
  while (i < speech.length) {
    const first = speech[i];
    const start = Math.max(cursor, first.start - margin, 0);
    const limit = start + maxSeconds;
    // A long silence before the limit always ends the window; else everything left may fit.
    let last = i;
    while (last + 1 < speech.length && speech[last].end < limit && speech[last + 1].start - speech[last].end < SPLIT_PAUSE_SECONDS) last++;
    const allFit = speech[last].end <= limit && (last === speech.length - 1 || speech[last + 1].start - speech[last].end >= SPLIT_PAUSE_SECONDS);
    let end: number;
    let nextCursor: number;
    let nextI: number;
    if (allFit) {
      end = Math.min(duration, speech[last].end + margin, limit);
      nextCursor = end;
      nextI = last + 1;
    } else {
      // Candidate pauses: after region k (i ≤ k), before region k+1, starting before the limit.
      let best = -1;
      let bestLate = -1;
      let bestLen = -1;
      let bestDepth = Infinity;
      for (let k = i; k < speech.length - 1 && speech[k].end < limit; k++) {
        if (speech[k].end - start < minBeforeCut) continue;
        const gap = speech[k + 1].start - speech[k].end;
        if (gap >= GOOD_PAUSE_SECONDS) bestLate = k;
        const depth = meanLoud(speech[k].end, speech[k + 1].start);
        if (gap > bestLen + 0.05 || (gap > bestLen - 0.05 && depth < bestDepth)) {
          best = k;
          bestLen = gap;
          bestDepth = depth;
        }
      }
      const k = bestLate >= 0 ? bestLate : best;
      if (k >= 0) {
        const a = speech[k].end;
        const b = speech[k + 1].start;
        if (b - a >= 2 * margin) {
          end = Math.min(a + margin, limit);
          nextCursor = end;
        } else {
          end = Math.min(quietest(a, b), limit);
          nextCursor = end;
        }
        nextI = k + 1;
      } else {
        // Continuous speech past the limit: cut at the quietest moment near the end.
        const from = Math.max(start + maxSeconds / 2, limit - lookback);
        end = quietest(from, limit);
        nextCursor = end;
        nextI = i;
        while (nextI < speech.length && speech[nextI].end <= end) nextI++;
      }
    }
    const inside = clipRegions(speech.slice(i, Math.max(nextI, i + 1) + 1), duration, start, end);
    if (inside.length > 0 && end > start) {
      windows.push({ index: windows.length, start, end, speech: inside });
    }
    cursor = nextCursor;
    // Skip regions the cut has fully passed.
    i = nextI;
    while (i < speech.length && speech[i].end <= cursor) i++;
  }
  return windows;
}

/** Sorted by start, overlapping or touching regions merged (callers may pass regions from several sources). */
function normalise(regions: readonly Region[]): Region[] {
  const sorted = regions.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: Region[] = [];
  for (const r of sorted) {
    const last = out.length > 0 ? out[out.length - 1] : null;
    if (last && r.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push(r);
  }
  return out;
}

/** Regions clipped to [from, to], dropping empty ones; sorted, non-overlapping input assumed. */
function clipRegions(regions: readonly Region[], duration: number, from = 0, to = duration): Region[] {
  const out: Region[] = [];
  for (const r of regions) {
    const start = Math.max(r.start, from, 0);
    const end = Math.min(r.end, to, duration);
    if (end > start) out.push({ start, end });
  }
  return out;
}

/** Joins blips to close neighbours, drops isolated quiet ones. */
function cleanBlips(regions: readonly Region[], loudness: Float32Array): Region[] {
  const peak = (r: Region): number => {
    let p = 0;
    const a = Math.max(0, Math.floor(r.start * FRAMES_PER_SECOND));
    const b = Math.min(loudness.length, Math.ceil(r.end * FRAMES_PER_SECOND));
    for (let f = a; f < b; f++) if (loudness[f] > p) p = loudness[f];
    return p;
  };
  const out: Region[] = [];
  let carry: number | null = null; // start of a blip being joined to the next region
  for (let k = 0; k < regions.length; k++) {
    const r: Region = carry === null ? regions[k] : { start: carry, end: regions[k].end };
    carry = null;
    if (r.end - r.start >= BLIP_SECONDS) {
      out.push(r);
      continue;
    }
    const prev = out.length > 0 ? out[out.length - 1] : null;
    const next = k + 1 < regions.length ? regions[k + 1] : null;
    const gapPrev = prev ? r.start - prev.end : Infinity;
    const gapNext = next ? next.start - r.end : Infinity;
    if (Math.min(gapPrev, gapNext) <= BLIP_JOIN_GAP_SECONDS) {
      if (prev && gapPrev <= gapNext) out[out.length - 1] = { start: prev.start, end: r.end };
      else carry = r.start;
      continue;
    }
    if (peak(r) >= BLIP_KEEP_DB) out.push(r);
  }
  return out;
}
