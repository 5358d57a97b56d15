/**
 * Cuts detected speech into model windows (pure: regions + per-frame loudness in, windows out).
 *
 * Greedy, left to right. A window starts `margin` before its first speech and grows until the
 * next speech would pass `maxSeconds`. It is then closed at the best cut before that limit:
 *
 *   1. a pause (gap between speech regions) — the latest one that is at least `goodPause` long,
 *      else the longest one (ties: the one with the lowest loudness, i.e. deepest);
 *      a pause is only eligible once the window holds `minSpeechBeforeCut` of material,
 *      so a lone short word at the start does not become a window of its own;
 *   2. when there is no eligible pause (continuous speech), inside speech at the quietest frame
 *      of the last `continuousLookback` seconds before the limit (a dip between words).
 *
 * A silence of `splitPause` or more always ends the window.
 * A window ends `margin` after its last speech, or at the cut where the pause is shorter than two
 * margins; silence beyond that is skipped, so windows never hold long silences and never overlap.
 */
import { FRAMES_PER_SECOND } from '../speech/frame-energy.js';
import { quietestFrame } from '../speech/quietest-frame.js';
import type { Region } from '../speech/region.js';
import type { Window } from './window.js';

/** The cutter's rules, in seconds. */
export const CUT_RULES = {
  /** The model's inference window when the caller does not say (Qwen3-ASR GGUF metadata: 8 s). */
  defaultMaxSeconds: 8,
  /** Longest window accepted: Whisper-family encoders see at most 30 s. */
  maxMaxSeconds: 30,
  /** Silence kept around speech: word onsets (plosive bursts) and tails are softer than the VAD threshold. */
  margin: 0.2,
  /** A pause this long is a sentence/phrase break: any such pause is as good a cut as a longer one. */
  goodPause: 0.5,
  /**
   * A silence this long always ends a window, even if the next speech would fit: carrying seconds of
   * silence costs encoder time, and models tend to hallucinate text into long silences.
   */
  splitPause: 2,
  /** Material a window needs before a pause may close it (avoids tiny windows and extra model calls). */
  minSpeechBeforeCut: 1,
  /** Where speech never pauses, search this far back from the limit for the quietest frame. */
  continuousLookback: 2,
  /** Speech shorter than this is a blip (click, breath, cough, "uh"). */
  blip: 0.3,
  /** A blip this close to other speech belongs to it: join them. */
  blipJoinGap: 1,
} as const;
/** An isolated blip must peak this many dB above the floor to be kept (a short loud "No." is speech). */
export const BLIP_KEEP_DB = 20;

export interface CutOptions {
  /** Longest window in seconds; default 8, at most 30. */
  readonly maxSeconds?: number;
  /** Input length in seconds; default: loudness frames / 100. */
  readonly duration?: number;
  readonly marginSeconds?: number;
}

/** The rules for one call: the caller's options, and the fixed rules scaled down for short windows. */
interface Plan {
  readonly maxSeconds: number;
  readonly duration: number;
  readonly margin: number;
  readonly minBeforeCut: number;
  readonly lookback: number;
}

/** Where a window ends, and the first region the next window may take. */
interface Cut {
  readonly end: number;
  readonly next: number;
}

/** Splits speech into ordered, non-overlapping windows of at most maxSeconds, indexed from 0. */
export function cutWindows(regions: readonly Region[], frameLoudness: Float32Array, options: CutOptions = {}): Window[] {
  const plan = planCut(options, frameLoudness.length);
  const speech = cleanBlips(clipRegions(normalise(regions), plan.duration), frameLoudness);
  const windows: Window[] = [];
  let i = 0; // first region not yet fully covered
  let cursor = 0; // nothing before this time may go into a new window
  while (i < speech.length) {
    const start = Math.max(cursor, speech[i].start - plan.margin, 0);
    const cut = closeWindow(speech, i, start, frameLoudness, plan);
    const inside = clipRegions(speech.slice(i, Math.max(cut.next, i + 1) + 1), plan.duration, start, cut.end);
    if (inside.length > 0 && cut.end > start) windows.push({ index: windows.length, start, end: cut.end, speech: inside });
    cursor = cut.end;
    i = firstNotPassed(speech, cut.next, cursor);
  }
  return windows;
}

function planCut(options: CutOptions, frames: number): Plan {
  const maxSeconds = options.maxSeconds ?? CUT_RULES.defaultMaxSeconds;
  if (!(maxSeconds > 0) || maxSeconds > CUT_RULES.maxMaxSeconds) throw new RangeError(`maxSeconds must be in (0, ${CUT_RULES.maxMaxSeconds}], got ${maxSeconds}`);
  return {
    maxSeconds,
    duration: options.duration ?? frames / FRAMES_PER_SECOND,
    margin: Math.min(options.marginSeconds ?? CUT_RULES.margin, maxSeconds / 8),
    minBeforeCut: Math.min(CUT_RULES.minSpeechBeforeCut, maxSeconds / 4),
    lookback: Math.min(CUT_RULES.continuousLookback, maxSeconds / 4),
  };
}

/** The end of the window that starts at `start` with region i: after all its speech, in a pause, or inside speech. */
function closeWindow(speech: readonly Region[], i: number, start: number, loudness: Float32Array, plan: Plan): Cut {
  const limit = start + plan.maxSeconds;
  const last = lastBeforeLongPause(speech, i, limit);
  if (fitsWhole(speech, last, limit)) return { end: Math.min(plan.duration, speech[last].end + plan.margin, limit), next: last + 1 };
  const k = bestPause(speech, i, start, limit, loudness, plan);
  return k >= 0 ? cutInPause(speech, k, limit, loudness, plan.margin) : cutInSpeech(speech, i, start, limit, loudness, plan);
}

/** The last region from i on that a long silence does not part from i, stopping at the first that reaches the limit. */
function lastBeforeLongPause(speech: readonly Region[], i: number, limit: number): number {
  let last = i;
  while (last + 1 < speech.length && speech[last].end < limit && speech[last + 1].start - speech[last].end < CUT_RULES.splitPause) last++;
  return last;
}

/** Whether everything up to region `last` fits, and nothing after it belongs with it. */
function fitsWhole(speech: readonly Region[], last: number, limit: number): boolean {
  return speech[last].end <= limit && (last === speech.length - 1 || speech[last + 1].start - speech[last].end >= CUT_RULES.splitPause);
}

/**
 * The pause after region k (i ≤ k) to close the window in, starting before the limit: the latest
 * good one, else the longest (ties: the deepest); −1 when none is eligible.
 */
function bestPause(speech: readonly Region[], i: number, start: number, limit: number, loudness: Float32Array, plan: Plan): number {
  let best = -1;
  let bestLate = -1;
  let bestLen = -1;
  let bestDepth = Infinity;
  for (let k = i; k < speech.length - 1 && speech[k].end < limit; k++) {
    if (speech[k].end - start < plan.minBeforeCut) continue;
    const gap = speech[k + 1].start - speech[k].end;
    if (gap >= CUT_RULES.goodPause) bestLate = k;
    const depth = meanLoudness(loudness, speech[k].end, speech[k + 1].start);
    if (gap > bestLen + 0.05 || (gap > bestLen - 0.05 && depth < bestDepth)) {
      best = k;
      bestLen = gap;
      bestDepth = depth;
    }
  }
  return bestLate >= 0 ? bestLate : best;
}

/** Closes the window in the pause after region k: a margin into it, or at its quietest frame when it is shorter than two margins. */
function cutInPause(speech: readonly Region[], k: number, limit: number, loudness: Float32Array, margin: number): Cut {
  const a = speech[k].end;
  const b = speech[k + 1].start;
  const end = b - a >= 2 * margin ? Math.min(a + margin, limit) : Math.min(quietestTime(loudness, a, b), limit);
  return { end, next: k + 1 };
}

/** Continuous speech past the limit: the cut goes at the quietest moment near the end. */
function cutInSpeech(speech: readonly Region[], i: number, start: number, limit: number, loudness: Float32Array, plan: Plan): Cut {
  const end = quietestTime(loudness, Math.max(start + plan.maxSeconds / 2, limit - plan.lookback), limit);
  let next = i;
  while (next < speech.length && speech[next].end <= end) next++;
  return { end, next };
}

/** The first region from `from` on that ends after the cursor: those before it the cut has fully passed. */
function firstNotPassed(speech: readonly Region[], from: number, cursor: number): number {
  let i = from;
  while (i < speech.length && speech[i].end <= cursor) i++;
  return i;
}

/** Mean loudness over [a, b): how deep a pause is. */
function meanLoudness(loudness: Float32Array, a: number, b: number): number {
  const fa = Math.max(0, Math.floor(a * FRAMES_PER_SECOND));
  const fb = Math.min(loudness.length, Math.ceil(b * FRAMES_PER_SECOND));
  if (fb <= fa) return 0;
  let s = 0;
  for (let f = fa; f < fb; f++) s += loudness[f];
  return s / (fb - fa);
}

/** Quietest time in [a, b]; ties go to the latest frame, so the window keeps as much as it may. */
function quietestTime(loudness: Float32Array, a: number, b: number): number {
  const fa = Math.max(0, Math.ceil(a * FRAMES_PER_SECOND));
  const fb = Math.min(loudness.length - 1, Math.floor(b * FRAMES_PER_SECOND));
  // Each frame is read through its time, as the cutter always has (f / 100 · 100 can floor to
  // f − 1): reading frame f directly would move some cuts by 10 ms.
  const loudAt = (f: number): number => {
    const g = Math.floor((f / FRAMES_PER_SECOND) * FRAMES_PER_SECOND);
    return g >= 0 && g < loudness.length ? loudness[g] : 0;
  };
  const f = quietestFrame(loudAt, fa, fb, 'latest');
  return Math.min(b, Math.max(a, (f >= 0 ? f : fa) / FRAMES_PER_SECOND));
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
    if (r.end - r.start >= CUT_RULES.blip) {
      out.push(r);
      continue;
    }
    const prev = out.length > 0 ? out[out.length - 1] : null;
    const next = k + 1 < regions.length ? regions[k + 1] : null;
    const gapPrev = prev ? r.start - prev.end : Infinity;
    const gapNext = next ? next.start - r.end : Infinity;
    if (Math.min(gapPrev, gapNext) <= CUT_RULES.blipJoinGap) {
      if (prev && gapPrev <= gapNext) out[out.length - 1] = { start: prev.start, end: r.end };
      else carry = r.start;
      continue;
    }
    if (peak(r) >= BLIP_KEEP_DB) out.push(r);
  }
  return out;
}
