/**
 * Per-frame speech-band energy for speech detection, computed straight from the STFT in
 * O(1) memory per frame: the output is one float per 10 ms frame (≈ 1.4 MB per hour), so a
 * two-hour file never needs its 128 × T mel spectrogram.
 *
 *   E[t] = 10·log10( Σ_{k: lowHz ≤ f_k ≤ highHz} P[t][k] / P_ref + 1e−12 )     (dB)
 *
 * with P from ./stft.ts (Whisper framing, f_k = 40·k Hz) and P_ref = (n_fft/2)·Σ w[n]² = 200·150,
 * the one-sided spectral power of a full-scale sine, so a full-scale sine inside the band reads
 * ≈ 0 dB and the value is a level relative to full scale (dBFS-like).
 *
 * Why a band, not total energy: mains hum (50/60 Hz and its first harmonics) and DC/rumble sit
 * below ~200 Hz and can be louder than speech; leaving them out makes a constant hum invisible.
 * The upper limit drops hiss above the band where speech has little energy.
 */
import { N_FFT, N_FREQ_BINS, PowerStft, frameCount, framesSpan } from '../mel/stft.js';
import type { SampleSource } from '../audio/audio.js';

/** Frames per second of every per-frame array in this project (hop 160 at 16 kHz). */
export const FRAMES_PER_SECOND = 100;

/** Energy reported for digital silence (and the floor of every frame). */
export const SILENCE_DB = -120;

export interface BandEnergyOptions {
  /**
   * Lowest frequency counted. 250 Hz keeps 50/60/100/120 Hz hum and its Hann-window leakage out
   * (the main lobe is ±80 Hz wide) while keeping voiced speech, whose harmonics and formants
   * are mostly above 250 Hz even for low voices.
   */
  readonly lowHz?: number;
  /** Highest frequency counted: 4 kHz covers formants F1–F3 and most fricative onsets. */
  readonly highHz?: number;
}

const BIN_HZ = 16_000 / N_FFT;
/** One-sided power of a full-scale sine: (n_fft/2) · Σ w[n]², Σ w² = 3·n_fft/8 for periodic Hann. */
const POWER_REF = (N_FFT / 2) * ((3 * N_FFT) / 8);

/** Frames analysed per read: a minute of audio (3.8 MB of samples) at a time. */
const BLOCK_FRAMES = 60 * FRAMES_PER_SECOND;

/**
 * Speech-band energy in dB per 10 ms frame; length floor(N / 160). The samples are read a
 * minute at a time, so a source backed by a file is never held whole; every frame is computed
 * from the same samples as over one array, so the result does not depend on the blocks.
 */
export function frameBandEnergyDb(source: Float32Array | SampleSource, options: BandEnergyOptions = {}): Float32Array {
  // An array is read through views (the STFT only reads), not copies a minute at a time.
  const x: SampleSource = source instanceof Float32Array ? { length: source.length, read: (a, b) => source.subarray(a, b) } : source;
  const lowBin = Math.max(0, Math.ceil((options.lowHz ?? 250) / BIN_HZ));
  const highBin = Math.min(N_FREQ_BINS - 1, Math.floor((options.highHz ?? 4000) / BIN_HZ));
  const out = new Float32Array(frameCount(x.length));
  const power = new Float64Array(N_FREQ_BINS);
  const silence = 10 ** (SILENCE_DB / 10);
  for (let t0 = 0; t0 < out.length; t0 += BLOCK_FRAMES) {
    const t1 = Math.min(out.length, t0 + BLOCK_FRAMES);
    const span = framesSpan(t0, t1, x.length);
    const stft = new PowerStft(x.read(span.from, span.to), span.from, x.length);
    for (let t = t0; t < t1; t++) {
      stft.power(t, power);
      let s = 0;
      for (let k = lowBin; k <= highBin; k++) s += power[k];
      out[t] = 10 * Math.log10(s / POWER_REF + silence);
    }
  }
  return out;
}
