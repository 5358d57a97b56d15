/**
 * The repair of last resort for a marked window (pure): when no retry got rid of a loop, what is
 * written keeps each repeated unit at most as often as real speech repeats it (maxRepeats), as
 * the official toolkit cleans repetitions after decoding. "hello hello … hello." (×80) becomes
 * "hello hello hello hello." The raw decode stays in the guard record.
 */
import { findLoopInUnits, maxRepeats } from './detect.js';
import { textUnits } from './units.js';

export interface Collapsed {
  /** The text with every loop cut to the repeats speech allows (NFC). */
  readonly text: string;
  /** Units (words, or characters of unspaced scripts) taken out. */
  readonly removed: number;
}

/**
 * Cuts each loop after its last allowed repeat, up to the end of the loop: the separators and
 * punctuation inside the cut go with it, what follows the loop (a final period) stays.
 */
export function collapseLoops(text: string): Collapsed {
  let s = text.normalize('NFC');
  let removed = 0;
  // every cut removes a loop for good; the bound only guards against a detector bug
  for (let round = 0; round < 100; round++) {
    const units = textUnits(s);
    const loop = findLoopInUnits(units);
    if (!loop) break;
    const keep = maxRepeats(loop.n, units[loop.at].cjk);
    const from = units[loop.at + keep * loop.n - 1].end;
    const to = units[loop.at + loop.repeats * loop.n - 1].end;
    s = s.slice(0, from) + s.slice(to);
    removed += (loop.repeats - keep) * loop.n;
  }
  return { text: s, removed };
}

/** Units left once every loop is collapsed: the measure of "useful text" when ranking failed candidates. */
export function nonLoopingUnits(text: string): number {
  return textUnits(collapseLoops(text).text).length;
}
