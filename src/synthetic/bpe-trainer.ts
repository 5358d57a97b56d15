import { BYTE_SYMBOLS, preTokenize, toByteLevel } from '../convert/byte-level.js';

/**
 * A tiny byte-level BPE trainer: enough to give the synthetic models a real-looking vocabulary
 * in which common words are single tokens, without shipping Qwen's 150k-entry files.
 */
export interface TrainedBpe {
  /** Byte symbols (ids 0–255) then one token per merge, in merge order. */
  readonly tokens: readonly string[];
  /** "left right" pairs, in rank order, as merges.txt lists them. */
  readonly merges: readonly string[];
}

export function trainBpe(text: string, numMerges: number): TrainedBpe {
  const counts = new Map<string, number>();
  for (const w of preTokenize(text)) {
    const bl = toByteLevel(w);
    counts.set(bl, (counts.get(bl) ?? 0) + 1);
  }
  const words = [...counts.entries()].map(([w, n]) => ({ syms: [...w], n }));
  const tokens = [...BYTE_SYMBOLS];
  const known = new Set(tokens);
  const merges: string[] = [];
  while (merges.length < numMerges) {
    const pairs = new Map<string, number>();
    for (const { syms, n } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = `${syms[i]} ${syms[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best: string | undefined;
    let bestN = 1; // a pair seen once teaches nothing
    for (const [k, n] of pairs) {
      if (n > bestN || (n === bestN && best !== undefined && k < best)) {
        best = k;
        bestN = n;
      }
    }
    if (!best) break;
    const [l, r] = best.split(' ');
    const merged = l + r;
    merges.push(best);
    if (!known.has(merged)) {
      known.add(merged);
      tokens.push(merged);
    }
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === l && w.syms[i + 1] === r) {
          out.push(merged);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return { tokens, merges };
}
