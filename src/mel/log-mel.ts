/**
 * Whisper log-mel features (WhisperFeatureExtractor._np_extract_fbank_features, transformers 4.57):
 *
 *   S[m][t]  = Σ_k mel[m][k] · P[t][k]                 (power spectrum P from ./stft.ts, 128 Slaney mels)
 *   L[m][t]  = log10(max(S[m][t], 1e−10))             for t = 0 … T−1, T = floor(N/160)
 *   L'       = max(L, max(L) − 8)                     (80 dB dynamic range below the loudest cell)
 *   out      = (L' + 4) / 4
 *
 * The maximum is over the whole (128 × T) matrix, so the result depends on the whole input:
 * callers wanting the features of one model window pass that window's samples (a subarray).
 * Layout is mel-major like transformers: out[m · T + t].
 *
 * This materialises 128 × T floats (≈ 184 MB per hour): use it per window or for verification;
 * speech detection uses ./frame-energy.ts instead.
 */
import { melFilterBank, type SparseFilter } from './mel-filters.js';
import { N_FREQ_BINS, PowerStft } from './stft.js';

export const N_MELS = 128;
/** log10 floor: power below this (−100 dB) is treated as silence. */
const LOG_FLOOR = 1e-10;
/** Dynamic range kept below the loudest cell, in log10 units (8 = 80 dB). */
const DYNAMIC_RANGE = 8;

export interface LogMel {
  /** Mel-major values: data[m · frames + t]. */
  readonly data: Float32Array;
  readonly nMels: number;
  readonly frames: number;
}

let whisperFilters: SparseFilter[] | null = null;

/** The 128-mel Slaney bank Whisper uses, built once. */
export function whisperMelFilters(): readonly SparseFilter[] {
  whisperFilters ??= melFilterBank();
  return whisperFilters;
}

/** Log-mel spectrogram of `samples` (16 kHz mono), Whisper-normalised. */
export function logMelSpectrogram(samples: Float32Array): LogMel {
  const stft = new PowerStft(samples);
  const frames = stft.frames;
  const filters = whisperMelFilters();
  const data = new Float32Array(N_MELS * frames);
  const power = new Float64Array(N_FREQ_BINS);
  let max = -Infinity;
  for (let t = 0; t < frames; t++) {
    stft.power(t, power);
    for (let m = 0; m < N_MELS; m++) {
      const { firstBin, weights } = filters[m];
      let s = 0;
      for (let j = 0; j < weights.length; j++) s += weights[j] * power[firstBin + j];
      const v = Math.log10(s > LOG_FLOOR ? s : LOG_FLOOR);
      data[m * frames + t] = v;
      if (v > max) max = v;
    }
  }
  const floor = max - DYNAMIC_RANGE;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    data[i] = ((v > floor ? v : floor) + 4) / 4;
  }
  return { data, nMels: N_MELS, frames };
}
