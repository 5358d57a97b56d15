/**
 * A mixed-radix FFT for the 400-point frames Whisper-style features use.
 *
 * 400 = 2^4 · 5^2 is not a power of two, so a radix-2 FFT cannot compute it
 * without changing the transform (zero-padding to 512 would give a different,
 * interpolated spectrum). Instead a real N-point DFT is computed exactly as
 *
 *   1. pack the real input into an N/2-point complex sequence z[n] = x[2n] + i·x[2n+1];
 *   2. a Stockham (self-sorting, decimation-in-time) complex FFT of z with
 *      radix-2 and radix-5 passes (200 = 2 · 2 · 2 · 5 · 5); a radix-4 kernel would save
 *      ~13 % of the FFT's time (it once had one), too little to keep a fourth butterfly for: the
 *      FFT costs the speech detector ~1 s per hour of audio;
 *   3. untangle the even/odd-sample spectra:
 *        E[k] = (Z[k] + conj Z[M−k]) / 2,   O[k] = (Z[k] − conj Z[M−k]) / (2i),
 *        X[k] = E[k] + e^{−2πik/N} · O[k],   k = 0 … N/2, with M = N/2.
 *
 * Convention: X[k] = Σ_n x[n]·e^{−2πikn/N} (numpy.fft.rfft, no scaling).
 * Everything runs in Float64Array scratch buffers, reused across frames.
 *
 * Stockham pass with radix p, where l is the length already transformed and
 * R = N/(l·p):  out[(j + l·s)·R + k] = Σ_q W_p^{qs} · (W_{lp}^{qj} · in[j·p·R + q·R + k]).
 */

interface Pass {
  readonly radix: number;
  /** l: transform length before this pass. */
  readonly l: number;
  /** R = M / (l · radix): number of interleaved sub-sequences after this pass. */
  readonly r: number;
  /** Twiddles W_{l·p}^{q·j}, laid out [j][q] for q = 1 … p−1. */
  readonly twRe: Float64Array;
  readonly twIm: Float64Array;
}

/** Radices in the order passes run; larger radices first use fewer operations per point. */
function factorise(n: number): number[] {
  const out: number[] = [];
  let m = n;
  while (m % 2 === 0) {
    out.push(2);
    m /= 2;
  }
  while (m % 5 === 0) {
    out.push(5);
    m /= 5;
  }
  while (m % 3 === 0) {
    out.push(3);
    m /= 3;
  }
  if (m !== 1) throw new RangeError(`FFT length ${n} has a prime factor other than 2, 3 or 5`);
  return out;
}

const C5_1 = Math.cos((2 * Math.PI) / 5);
const C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = Math.sin((2 * Math.PI) / 5);
const S5_2 = Math.sin((4 * Math.PI) / 5);
const S3 = Math.sin((2 * Math.PI) / 3);

/** Complex FFT of a fixed length M whose only prime factors are 2, 3 and 5. */
export class ComplexFft {
  readonly size: number;
  private readonly passes: Pass[];
  private readonly bufRe: Float64Array;
  private readonly bufIm: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT length must be a positive integer, got ${size}`);
    this.size = size;
    this.bufRe = new Float64Array(size);
    this.bufIm = new Float64Array(size);
    const passes: Pass[] = [];
    let l = 1;
    for (const p of factorise(size)) {
      const lp = l * p;
      const twRe = new Float64Array(l * (p - 1));
      const twIm = new Float64Array(l * (p - 1));
      for (let j = 0; j < l; j++) {
        for (let q = 1; q < p; q++) {
          const a = (-2 * Math.PI * q * j) / lp;
          twRe[j * (p - 1) + q - 1] = Math.cos(a);
          twIm[j * (p - 1) + q - 1] = Math.sin(a);
        }
      }
      passes.push({ radix: p, l, r: size / lp, twRe, twIm });
      l = lp;
    }
    this.passes = passes;
  }

  /**
   * In-place forward transform of (re, im), both of length `size`.
   * Uses an internal ping-pong buffer; the result always ends up in (re, im).
   */
  transform(re: Float64Array, im: Float64Array): void {
    let inRe = re;
    let inIm = im;
    let outRe = this.bufRe;
    let outIm = this.bufIm;
    for (const pass of this.passes) {
      switch (pass.radix) {
        case 2:
          pass2(pass, inRe, inIm, outRe, outIm);
          break;
        case 3:
          pass3(pass, inRe, inIm, outRe, outIm);
          break;
        default:
          pass5(pass, inRe, inIm, outRe, outIm);
      }
      const tRe = inRe;
      const tIm = inIm;
      inRe = outRe;
      inIm = outIm;
      outRe = tRe;
      outIm = tIm;
    }
    if (inRe !== re) {
      re.set(inRe);
      im.set(inIm);
    }
  }
}

function pass2(p: Pass, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { l, r, twRe, twIm } = p;
  for (let j = 0; j < l; j++) {
    const w1r = twRe[j];
    const w1i = twIm[j];
    const inBase = j * 2 * r;
    const outBase = j * r;
    const outStride = l * r;
    for (let k = 0; k < r; k++) {
      const i0 = inBase + k;
      const i1 = i0 + r;
      const a0r = xr[i0];
      const a0i = xi[i0];
      const a1r = xr[i1] * w1r - xi[i1] * w1i;
      const a1i = xr[i1] * w1i + xi[i1] * w1r;
      const o = outBase + k;
      yr[o] = a0r + a1r;
      yi[o] = a0i + a1i;
      yr[o + outStride] = a0r - a1r;
      yi[o + outStride] = a0i - a1i;
    }
  }
}

function pass3(p: Pass, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { l, r, twRe, twIm } = p;
  const outStride = l * r;
  for (let j = 0; j < l; j++) {
    // this group's twiddles, then per butterfly a_q = x_q · w_q: one complex product a line
    const w1r = twRe[j * 2], w1i = twIm[j * 2], w2r = twRe[j * 2 + 1], w2i = twIm[j * 2 + 1];
    for (let k = 0, i0 = j * 3 * r, o = j * r; k < r; k++, i0++, o++) {
      const a0r = xr[i0], a0i = xi[i0];
      const a1r = xr[i0 + r] * w1r - xi[i0 + r] * w1i, a1i = xr[i0 + r] * w1i + xi[i0 + r] * w1r;
      const a2r = xr[i0 + 2 * r] * w2r - xi[i0 + 2 * r] * w2i, a2i = xr[i0 + 2 * r] * w2i + xi[i0 + 2 * r] * w2r;
      const tr = a1r + a2r;
      const ti = a1i + a2i;
      // W3 = e^{-2πi/3}: b1 = a0 − t/2 − i·sin(2π/3)·(a1 − a2), b2 = conjugate rotation.
      const mr = a0r - 0.5 * tr;
      const mi = a0i - 0.5 * ti;
      const dr = S3 * (a1r - a2r);
      const di = S3 * (a1i - a2i);
      yr[o] = a0r + tr;
      yi[o] = a0i + ti;
      yr[o + outStride] = mr + di;
      yi[o + outStride] = mi - dr;
      yr[o + 2 * outStride] = mr - di;
      yi[o + 2 * outStride] = mi + dr;
    }
  }
}

function pass5(p: Pass, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { l, r, twRe, twIm } = p;
  const outStride = l * r;
  for (let j = 0; j < l; j++) {
    // this group's twiddles, then per butterfly a_q = x_q · w_q: one complex product a line
    const t = j * 4;
    const w1r = twRe[t], w1i = twIm[t], w2r = twRe[t + 1], w2i = twIm[t + 1];
    const w3r = twRe[t + 2], w3i = twIm[t + 2], w4r = twRe[t + 3], w4i = twIm[t + 3];
    for (let k = 0, i0 = j * 5 * r, o = j * r; k < r; k++, i0++, o++) {
      const a0r = xr[i0], a0i = xi[i0];
      const a1r = xr[i0 + r] * w1r - xi[i0 + r] * w1i, a1i = xr[i0 + r] * w1i + xi[i0 + r] * w1r;
      const a2r = xr[i0 + 2 * r] * w2r - xi[i0 + 2 * r] * w2i, a2i = xr[i0 + 2 * r] * w2i + xi[i0 + 2 * r] * w2r;
      const a3r = xr[i0 + 3 * r] * w3r - xi[i0 + 3 * r] * w3i, a3i = xr[i0 + 3 * r] * w3i + xi[i0 + 3 * r] * w3r;
      const a4r = xr[i0 + 4 * r] * w4r - xi[i0 + 4 * r] * w4i, a4i = xr[i0 + 4 * r] * w4i + xi[i0 + 4 * r] * w4r;
      // W5 = e^{-2πi/5}; pair the conjugate-symmetric terms:
      //   b1,b4 = a0 + c1·(a1+a4) + c2·(a2+a3) ∓ i·(s1·(a1−a4) + s2·(a2−a3))
      //   b2,b3 = a0 + c2·(a1+a4) + c1·(a2+a3) ∓ i·(s2·(a1−a4) − s1·(a2−a3))
      const t1r = a1r + a4r;
      const t1i = a1i + a4i;
      const t2r = a2r + a3r;
      const t2i = a2i + a3i;
      const t3r = a1r - a4r;
      const t3i = a1i - a4i;
      const t4r = a2r - a3r;
      const t4i = a2i - a3i;
      const m1r = a0r + C5_1 * t1r + C5_2 * t2r;
      const m1i = a0i + C5_1 * t1i + C5_2 * t2i;
      const m2r = a0r + C5_2 * t1r + C5_1 * t2r;
      const m2i = a0i + C5_2 * t1i + C5_1 * t2i;
      const n1r = S5_1 * t3r + S5_2 * t4r;
      const n1i = S5_1 * t3i + S5_2 * t4i;
      const n2r = S5_2 * t3r - S5_1 * t4r;
      const n2i = S5_2 * t3i - S5_1 * t4i;
      yr[o] = a0r + t1r + t2r;
      yi[o] = a0i + t1i + t2i;
      // −i·(nr + i·ni) = ni − i·nr
      yr[o + outStride] = m1r + n1i;
      yi[o + outStride] = m1i - n1r;
      yr[o + 4 * outStride] = m1r - n1i;
      yi[o + 4 * outStride] = m1i + n1r;
      yr[o + 2 * outStride] = m2r + n2i;
      yi[o + 2 * outStride] = m2i - n2r;
      yr[o + 3 * outStride] = m2r - n2i;
      yi[o + 3 * outStride] = m2i + n2r;
    }
  }
}

/** Power spectrum |X[k]|², k = 0 … N/2, of a real frame of even length N (N/2 with factors 2, 3, 5 only). */
export class RealPowerFft {
  readonly size: number;
  readonly bins: number;
  private readonly half: number;
  private readonly fft: ComplexFft;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || size % 2 !== 0) throw new RangeError(`real FFT length must be even, got ${size}`);
    this.size = size;
    this.half = size / 2;
    this.bins = this.half + 1;
    this.fft = new ComplexFft(this.half);
    this.zr = new Float64Array(this.half);
    this.zi = new Float64Array(this.half);
    this.wr = new Float64Array(this.bins);
    this.wi = new Float64Array(this.bins);
    for (let k = 0; k <= this.half; k++) {
      const a = (-2 * Math.PI * k) / size;
      this.wr[k] = Math.cos(a);
      this.wi[k] = Math.sin(a);
    }
  }

  /** Writes |X[k]|² for k = 0 … N/2 of the real frame `x` (length N) into `out` (length ≥ N/2 + 1). */
  power(x: ArrayLike<number>, out: Float64Array | Float32Array): void {
    const m = this.half;
    const zr = this.zr;
    const zi = this.zi;
    for (let n = 0; n < m; n++) {
      zr[n] = x[2 * n];
      zi[n] = x[2 * n + 1];
    }
    this.fft.transform(zr, zi);
    const wr = this.wr;
    const wi = this.wi;
    for (let k = 0; k <= m; k++) {
      const a = k === m ? 0 : k;
      const b = k === 0 ? 0 : m - k;
      const zkr = zr[a];
      const zki = zi[a];
      const zcr = zr[b];
      const zci = -zi[b];
      const er = 0.5 * (zkr + zcr);
      const ei = 0.5 * (zki + zci);
      // O = (Zk − Zc) / (2i) = (−i/2)·(Zk − Zc)
      const or = 0.5 * (zki - zci);
      const oi = -0.5 * (zkr - zcr);
      const xr = er + wr[k] * or - wi[k] * oi;
      const xi = ei + wr[k] * oi + wi[k] * or;
      out[k] = xr * xr + xi * xi;
    }
  }
}
