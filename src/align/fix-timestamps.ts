/**
 * The official toolkit's `fix_timestamp`, so our words come out as its do: the aligner predicts
 * each boundary on its own, and a few land out of order. The longest non-decreasing subsequence
 * is taken as right; a run of at most two outliers takes the value of its nearer neighbour
 * (ties → the left one), a longer run is spread evenly between its neighbours (or copies the one
 * it has). Values are milliseconds; spread values are truncated to whole ones, as there.
 */

export function fixTimestamps(values: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return [];
  const normal = longestNonDecreasing(values);
  const out = values.slice();
  let i = 0;
  while (i < n) {
    if (normal[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && !normal[j]) j++;
    const left = i > 0 ? out[i - 1] : null; // i − 1 is normal (or the run starts the list)
    const right = j < n ? out[j] : null;
    const count = j - i;
    for (let k = i; k < j; k++) {
      if (left === null) out[k] = right!;
      else if (right === null) out[k] = left;
      else if (count <= 2) out[k] = k - (i - 1) <= j - k ? left : right;
      else out[k] = Math.trunc(left + ((right - left) / (count + 1)) * (k - i + 1));
    }
    i = j;
  }
  return out;
}

/**
 * Marks the members of a longest non-decreasing subsequence: O(n²) as the toolkit does it
 * (n is twice a window's word count), with its tie rule: the earliest end of greatest length,
 * each element's predecessor the first one that gives it its length.
 */
function longestNonDecreasing(values: readonly number[]): boolean[] {
  const n = values.length;
  const length = new Array<number>(n).fill(1);
  const parent = new Array<number>(n).fill(-1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (values[j] <= values[i] && length[j] + 1 > length[i]) {
        length[i] = length[j] + 1;
        parent[i] = j;
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (length[i] > length[best]) best = i;
  const normal = new Array<boolean>(n).fill(false);
  for (let k = best; k !== -1; k = parent[k]) normal[k] = true;
  return normal;
}
