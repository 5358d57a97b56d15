/**
 * Band-limited resampling by windowed sinc (Kaiser window), the method of libsamplerate and
 * soxr's reference mode: each output sample is the input convolved with a low-pass kernel
 * centred on the output instant. The cut-off sits just below the lower of the two Nyquist
 * frequencies, so downsampling does not alias.
 *
 * For rational ratios with a small denominator (44.1k→16k is 160/441) the kernel is tabulated
 * once per phase, so the inner loop is a plain dot product.
 */

/** Zero crossings of the sinc on each side of the centre: ~80 dB stop band with beta 8.6. */
const HALF_ZERO_CROSSINGS = 16;
const KAISER_BETA = 8.6;
/** Fraction of the output Nyquist kept; the rest is the transition band. */
const ROLLOFF = 0.94;
const MAX_TABULATED_PHASES = 4096;

export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(fromRate > 0 && toRate > 0)) throw new RangeError(`bad sample rates ${fromRate} → ${toRate}`);
  if (fromRate === toRate) return input.slice();
  const outLength = Math.floor((input.length * toRate) / fromRate);
  const out = new Float32Array(outLength);
  if (outLength === 0 || input.length === 0) return out;

  // Cut-off in cycles per input sample.
  const cutoff = (0.5 * ROLLOFF * Math.min(fromRate, toRate)) / fromRate;
  const halfWidth = HALF_ZERO_CROSSINGS / (2 * cutoff); // in input samples
  const taps = Math.ceil(halfWidth);
  const gain = 2 * cutoff;
  const kernel = (x: number): number => {
    const a = Math.abs(x);
    if (a >= halfWidth) return 0;
    const sinc = x === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * x) / (2 * Math.PI * cutoff * x);
    const r = x / halfWidth;
    return gain * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / besselI0(KAISER_BETA));
  };

  const g = gcd(fromRate, toRate);
  const phases = toRate / g; // output samples per period
  const step = fromRate / g; // input samples per period
  const width = 2 * taps + 1;

  if (Number.isInteger(phases) && phases <= MAX_TABULATED_PHASES) {
    // Output n sits at input position n·step/phases = base + frac/phases.
    const table = new Float32Array(phases * width);
    for (let p = 0; p < phases; p++) {
      const frac = p / phases;
      for (let k = -taps; k <= taps; k++) table[p * width + k + taps] = kernel(k - frac);
    }
    for (let n = 0; n < outLength; n++) {
      const num = n * step;
      const base = Math.floor(num / phases);
      const p = num - base * phases;
      out[n] = dot(input, base, table, p * width, taps);
    }
    return out;
  }

  const ratio = fromRate / toRate;
  for (let n = 0; n < outLength; n++) {
    const t = n * ratio;
    const base = Math.floor(t);
    const frac = t - base;
    let acc = 0;
    for (let k = -taps; k <= taps; k++) {
      const i = base + k;
      if (i >= 0 && i < input.length) acc += input[i] * kernel(k - frac);
    }
    out[n] = acc;
  }
  return out;
}

function dot(input: Float32Array, base: number, table: Float32Array, offset: number, taps: number): number {
  let acc = 0;
  const lo = Math.max(-taps, -base);
  const hi = Math.min(taps, input.length - 1 - base);
  for (let k = lo; k <= hi; k++) acc += input[base + k] * table[offset + k + taps];
  return acc;
}

function gcd(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b)) return 1;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for beta ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}
