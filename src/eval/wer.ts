/**
 * Word error rate: the fewest substitutions, deletions (reference words missing) and insertions
 * (extra hypothesis words) that turn the reference into the hypothesis, over the reference length.
 */
export interface WordEdits {
  readonly substitutions: number;
  readonly deletions: number;
  readonly insertions: number;
  /** Words in the reference. */
  readonly words: number;
}

export function errorCount(e: WordEdits): number {
  return e.substitutions + e.deletions + e.insertions;
}

/** Errors over reference words. */
export function wordErrorRate(e: WordEdits): number {
  // No reference words: any hypothesis word is an error, and the rate is taken as 1 then.
  if (e.words === 0) return e.insertions > 0 ? 1 : 0;
  return errorCount(e) / e.words;
}

/** Levenshtein over words, with the edit kinds counted along one optimal path. */
export function wordEdits(reference: readonly string[], hypothesis: readonly string[]): WordEdits {
  const n = reference.length;
  const m = hypothesis.length;
  // cost[i][j]: edits turning reference[0..i) into hypothesis[0..j); kept whole for the walk back.
  const cost: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = 0; i <= n; i++) cost[i][0] = i;
  for (let j = 0; j <= m; j++) cost[0][j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = reference[i - 1] === hypothesis[j - 1] ? 0 : 1;
      cost[i][j] = Math.min(cost[i - 1][j - 1] + same, cost[i - 1][j] + 1, cost[i][j - 1] + 1);
    }
  }
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  let i = n;
  let j = m;
  // Walk back preferring match/substitution, then deletion, then insertion: a fixed order, so
  // equal-cost alignments always split the same way.
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && cost[i][j] === cost[i - 1][j - 1] + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1)) {
      if (reference[i - 1] !== hypothesis[j - 1]) substitutions++;
      i--;
      j--;
    } else if (i > 0 && cost[i][j] === cost[i - 1][j] + 1) {
      deletions++;
      i--;
    } else {
      insertions++;
      j--;
    }
  }
  return { substitutions, deletions, insertions, words: n };
}

/** Several utterances pooled: edits and words summed (corpus WER, not a mean of rates). */
export function sumEdits(all: readonly WordEdits[]): WordEdits {
  return all.reduce(
    (a, e) => ({ substitutions: a.substitutions + e.substitutions, deletions: a.deletions + e.deletions, insertions: a.insertions + e.insertions, words: a.words + e.words }),
    { substitutions: 0, deletions: 0, insertions: 0, words: 0 },
  );
}
