/**
 * The quietest frame of a span of per-frame loudness (pure), for whoever cuts audio between
 * words: the window cutter and the guards' split step.
 */

/**
 * Which of several equally quiet frames wins. `latest`: the last one, so a window keeps as much
 * as it can before its limit. `middle`: the one nearest the middle of the span (the earlier of
 * two as near), so two halves stay balanced.
 */
export type QuietTie = 'latest' | 'middle';

/**
 * The frame f in [first, last] whose loudness, smoothed over 3 frames (f−1, f, f+1 weighted
 * 1-2-1 so a single dip frame does not win over a real gap), is lowest; −1 when the span is
 * empty. `loudnessOf(f)` is the caller's reader, so each caller keeps its own rule for frames
 * outside the input.
 */
export function quietestFrame(loudnessOf: (f: number) => number, first: number, last: number, tie: QuietTie): number {
  const middle = (first + last) / 2;
  let best = -1;
  let bestValue = Infinity;
  for (let f = first; f <= last; f++) {
    const v = loudnessOf(f - 1) + 2 * loudnessOf(f) + loudnessOf(f + 1);
    if (v < bestValue || (v === bestValue && wins(f, best, middle, tie))) {
      best = f;
      bestValue = v;
    }
  }
  return best;
}

/** Whether frame f beats the earlier, equally quiet frame best. */
function wins(f: number, best: number, middle: number, tie: QuietTie): boolean {
  return tie === 'latest' || Math.abs(f - middle) < Math.abs(best - middle);
}
