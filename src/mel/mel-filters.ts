/**
 * Slaney-style mel filterbank as used by Whisper (librosa.filters.mel(sr=16000, n_fft=400,
 * n_mels=128, fmin=0, fmax=8000, htk=False, norm='slaney'); transformers' mel_filter_bank with
 * norm='slaney', mel_scale='slaney').
 *
 * Slaney mel scale: linear below 1 kHz, logarithmic above:
 *   mel(f) = 3f/200                                   for f < 1000 Hz
 *   mel(f) = 15 + ln(f/1000) · 27/ln(6.4)             for f ≥ 1000 Hz
 * Filter i (0 … n_mels−1) is a triangle over FFT-bin frequencies f_k = k·(sr/2)/(n_bins−1), with
 * corners h_i, h_{i+1}, h_{i+2} taken from n_mels+2 points equally spaced in mel between mel(fmin)
 * and mel(fmax):  weight = max(0, min((f − h_i)/(h_{i+1} − h_i), (h_{i+2} − f)/(h_{i+2} − h_{i+1}))),
 * scaled by 2/(h_{i+2} − h_i) so each filter has roughly constant energy ('slaney' norm).
 *
 * Each triangle touches only a few bins, so filters are stored sparsely (first bin + weights):
 * applying the bank costs ~n_bins·2 multiply-adds per frame instead of n_mels·n_bins.
 */

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hertzToMelSlaney(hz: number): number {
  return hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

export function melToHertzSlaney(mel: number): number {
  return mel < MIN_LOG_MEL ? mel * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

/** One triangular filter: weights[j] applies to FFT bin firstBin + j. */
export interface SparseFilter {
  readonly firstBin: number;
  readonly weights: Float64Array;
}

export interface MelFilterOptions {
  readonly nMels: number;
  readonly nFreqBins: number;
  readonly sampleRate: number;
  readonly minHz: number;
  readonly maxHz: number;
}

export const WHISPER_MEL_OPTIONS: MelFilterOptions = {
  nMels: 128,
  nFreqBins: 201,
  sampleRate: 16_000,
  minHz: 0,
  maxHz: 8000,
};

/** Slaney mel filterbank with Slaney area normalisation, sparse. */
export function melFilterBank(options: MelFilterOptions = WHISPER_MEL_OPTIONS): SparseFilter[] {
  const { nMels, nFreqBins, sampleRate, minHz, maxHz } = options;
  const melMin = hertzToMelSlaney(minHz);
  const melMax = hertzToMelSlaney(maxHz);
  const corners = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) corners[i] = melToHertzSlaney(melMin + ((melMax - melMin) * i) / (nMels + 1));
  // numpy.linspace(0, sr//2, n_bins): bin k sits at k·(sr/2)/(n_bins−1) Hz.
  const nyquist = Math.floor(sampleRate / 2);
  const binHz = (k: number): number => (nyquist * k) / (nFreqBins - 1);
  const filters: SparseFilter[] = [];
  for (let i = 0; i < nMels; i++) {
    const lo = corners[i];
    const mid = corners[i + 1];
    const hi = corners[i + 2];
    const enorm = 2 / (hi - lo);
    let first = -1;
    let last = -1;
    const dense = new Float64Array(nFreqBins);
    for (let k = 0; k < nFreqBins; k++) {
      const f = binHz(k);
      const w = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
      if (w > 0) {
        dense[k] = w * enorm;
        if (first < 0) first = k;
        last = k;
      }
    }
    filters.push(first < 0 ? { firstBin: 0, weights: new Float64Array(0) } : { firstBin: first, weights: dense.slice(first, last + 1) });
  }
  return filters;
}

/** Dense [nMels][nFreqBins] copy of a sparse bank, for comparison with other implementations. */
export function denseFilters(filters: readonly SparseFilter[], nFreqBins: number): Float64Array[] {
  return filters.map((f) => {
    const row = new Float64Array(nFreqBins);
    row.set(f.weights, f.firstBin);
    return row;
  });
}
