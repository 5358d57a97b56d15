/**
 * The audio encoder's fixed sinusoid table (a non-persistent buffer, so not in the checkpoint):
 * row p, channel c < C/2 is sin(p·exp(−c·ln(10000)/(C/2−1))), channel C/2+c the cos of the same.
 * Halves are concatenated, not interleaved. Returned row-major: ggml shape [C, length].
 */
export function sinusoidPositionTable(channels: number, length: number): Float32Array {
  const half = channels / 2;
  if (!Number.isInteger(half) || half < 2) throw new Error(`sinusoid table needs an even channel count ≥ 4, got ${channels}`);
  const inc = Math.log(10000) / (half - 1);
  const inv = Float32Array.from({ length: half }, (_, c) => Math.exp(-inc * c));
  const out = new Float32Array(channels * length);
  for (let p = 0; p < length; p++) {
    for (let c = 0; c < half; c++) {
      const x = p * inv[c];
      out[p * channels + c] = Math.sin(x);
      out[p * channels + half + c] = Math.cos(x);
    }
  }
  return out;
}
