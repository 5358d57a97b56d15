/**
 * Short-time power spectrum with Whisper's framing (WhisperFeatureExtractor, transformers 4.57):
 *
 *   n_fft = 400 samples (25 ms at 16 kHz), hop = 160 samples (10 ms),
 *   periodic Hann window w[n] = 0.5 − 0.5·cos(2πn/400), n = 0 … 399,
 *   centred frames: the signal is reflect-padded by n_fft/2 = 200 on both sides
 *   (numpy.pad mode 'reflect': x[−m] = x[m], x[N−1+m] = x[N−1−m], repeated for short inputs),
 *   frame t covers padded samples [160·t, 160·t + 400), i.e. original samples centred on 160·t,
 *   power spectrum P[t][k] = |Σ_n w[n]·x_pad[160·t + n]·e^{−2πikn/400}|², k = 0 … 200.
 *
 * The STFT yields 1 + floor(N/160) frames; Whisper drops the last one, so T = floor(N/160):
 * exactly one frame per 10 ms of input, frame t centred at t·10 ms.
 *
 * Frames are produced one at a time into caller-owned buffers, so any amount of audio is
 * analysed in O(n_fft) working memory; the padded signal is never materialised.
 */
import { RealPowerFft } from './fft.js';

export const N_FFT = 400;
export const HOP_LENGTH = 160;
/** One-sided spectrum bins: n_fft/2 + 1, spaced 16000/400 = 40 Hz apart. */
export const N_FREQ_BINS = N_FFT / 2 + 1;

/** Frames Whisper keeps for `sampleCount` samples: floor(N / hop) (the STFT's last frame is dropped). */
export function frameCount(sampleCount: number): number {
  return Math.floor(sampleCount / HOP_LENGTH);
}

/** Periodic Hann window of length n (scipy.signal.get_window('hann', n, fftbins=True)). */
export function periodicHann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Index into x[0 … n−1] for position m under repeated reflection without edge repeat (numpy 'reflect'). */
function reflectIndex(m: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const r = ((m % period) + period) % period;
  return r <= n - 1 ? r : period - r;
}

/**
 * Computes Whisper-framed power spectra of one signal, frame by frame. The signal may be given
 * as one stretch of a longer one (`samples` = x[offset, offset + samples.length) of `total`
 * samples): frames are then numbered, centred and reflect-padded as in the whole signal, and
 * each frame asked for must lie within the stretch (with its reflections at the signal's ends).
 */
export class PowerStft {
  readonly samples: Float32Array;
  /** T = floor(total / 160). */
  readonly frames: number;
  private readonly offset: number;
  private readonly total: number;
  private readonly window = periodicHann(N_FFT);
  private readonly frame = new Float64Array(N_FFT);
  private readonly fft = new RealPowerFft(N_FFT);

  constructor(samples: Float32Array, offset = 0, total = samples.length) {
    this.samples = samples;
    this.offset = offset;
    this.total = total;
    this.frames = frameCount(total);
  }

  /** Writes P[t][0 … 200] into `out` (length ≥ 201). */
  power(t: number, out: Float64Array): void {
    const x = this.samples;
    const n = this.total;
    const o = this.offset;
    const w = this.window;
    const f = this.frame;
    const first = t * HOP_LENGTH - N_FFT / 2;
    if (first >= 0 && first + N_FFT <= n) {
      for (let i = 0; i < N_FFT; i++) f[i] = x[first - o + i] * w[i];
    } else {
      for (let i = 0; i < N_FFT; i++) f[i] = x[reflectIndex(first + i, n) - o] * w[i];
    }
    this.fft.power(f, out);
  }
}

/**
 * The stretch of samples [from, to) that frames [t0, t1) of a `total`-sample signal read,
 * reflections at the ends included (they stay within n_fft/2 of the end they reflect from).
 */
export function framesSpan(t0: number, t1: number, total: number): { from: number; to: number } {
  if (total < N_FFT) return { from: 0, to: total }; // short signals reflect more than once
  return { from: Math.max(0, t0 * HOP_LENGTH - N_FFT / 2), to: Math.min(total, (t1 - 1) * HOP_LENGTH + N_FFT / 2) };
}
