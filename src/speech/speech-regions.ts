/**
 * Energy-based speech detection on 10 ms frames.
 *
 *   E[t]  speech-band energy in dB (./frame-energy.ts: 250 Hz – 4 kHz, so hum does not count),
 *         smoothed in the power domain with weights [1, 2, 1]/4 over neighbouring frames. The
 *         smoothing cancels the frame-to-frame flicker that periodic low tones (50 + 100 Hz hum)
 *         leave in the band through window leakage, whose pattern repeats every 2 hops; speech
 *         events last ≥ 50 ms, so 30 ms of smoothing moves region edges by at most 10 ms.
 *   F[t]  local noise floor: 10th percentile of E over ±3 s (./noise-floor.ts)
 *   L[t]  = E[t] − F[t], "loudness": dB above the local floor   (exported for the window cutter)
 *
 * A frame is active when L[t] > OFF_DB and E[t] > ABSOLUTE_MIN_DB. Runs of active frames separated by
 * less than the hangover are joined; a joined run is speech when some frame in it exceeds ON_DB
 * (hysteresis: it takes a clear onset to start speech, but speech continues through weaker frames)
 * and it lasts at least MIN_REGION seconds.
 *
 * Normalising against the local floor, not the global maximum, keeps quiet passages (a speaker
 * 20 dB softer, a distant voice) detected next to loud ones.
 */
import type { Region } from './region.js';
import { FRAMES_PER_SECOND, SILENCE_DB, frameBandEnergyDb, type BandEnergyOptions } from './frame-energy.js';
import { slidingPercentile } from './noise-floor.js';
import type { SampleSource } from '../audio/audio.js';

export interface SpeechOptions extends BandEnergyOptions {
  /**
   * Noise-floor window, seconds (centred). 6 s nearly always contains a few hundred ms of pause
   * in natural speech, so the 10th percentile lands on background, yet a change of background
   * level is followed within ~3 s.
   */
  readonly floorWindowSeconds?: number;
  /** Percentile of the window taken as floor: 0.1 = the quietest 0.6 s of a 6 s window. */
  readonly floorPercentile?: number;
  /** dB above floor needed to start speech: ~3× the floor's power, clear of noise fluctuation. */
  readonly onDb?: number;
  /** dB above floor that keeps speech going once started (hysteresis against flicker). */
  readonly offDb?: number;
  /**
   * Gaps shorter than this inside speech are bridged: stop closures and inter-word dips last
   * up to ~250 ms; sentence pauses are longer.
   */
  readonly hangoverSeconds?: number;
  /** Shorter active runs are clicks or breaths, not speech. */
  readonly minRegionSeconds?: number;
  /**
   * Absolute band level below which nothing is speech (dB re full-scale sine). −65 dBFS is below
   * any usable speech recording but above dither/quantisation noise of 16-bit audio.
   */
  readonly absoluteMinDb?: number;
}

export const SPEECH_DEFAULTS = {
  floorWindowSeconds: 6,
  floorPercentile: 0.1,
  onDb: 10,
  offDb: 5,
  hangoverSeconds: 0.3,
  minRegionSeconds: 0.08,
  absoluteMinDb: -65,
} as const;

export interface SpeechAnalysis {
  /** Speech regions in seconds, in order, non-overlapping. */
  readonly regions: Region[];
  /** Per 10 ms frame: dB above the local noise floor (≥ 0 where nothing beats the floor). */
  readonly loudness: Float32Array;
  /** Input length in seconds. */
  readonly duration: number;
}

/** Detects speech in 16 kHz mono samples: regions plus per-frame loudness for the window cutter. */
export function analyseSpeech(samples: Float32Array | SampleSource, options: SpeechOptions = {}): SpeechAnalysis {
  const energy = frameBandEnergyDb(samples, options);
  return speechFromEnergy(energy, samples.length / 16_000, options);
}

/** Speech regions (seconds) of 16 kHz mono samples. */
export function detectSpeech(samples: Float32Array | SampleSource, options: SpeechOptions = {}): Region[] {
  return analyseSpeech(samples, options).regions;
}

/** The decision part of detectSpeech on precomputed band energies (pure, array in → regions out). */
export function speechFromEnergy(energyDb: Float32Array, duration: number, options: SpeechOptions = {}): SpeechAnalysis {
  const o = { ...SPEECH_DEFAULTS, ...options };
  const n = energyDb.length;
  const smooth = smoothEnergy(energyDb);
  const floor = slidingPercentile(smooth, Math.round(o.floorWindowSeconds * FRAMES_PER_SECOND), o.floorPercentile);
  const loudness = new Float32Array(n);
  for (let t = 0; t < n; t++) loudness[t] = Math.max(0, smooth[t] - floor[t]);

  const active = (t: number): boolean => loudness[t] > o.offDb && smooth[t] > o.absoluteMinDb && smooth[t] > SILENCE_DB;
  const hangover = Math.round(o.hangoverSeconds * FRAMES_PER_SECOND);
  const minFrames = Math.max(1, Math.round(o.minRegionSeconds * FRAMES_PER_SECOND));
  const regions: Region[] = [];
  let t = 0;
  while (t < n) {
    if (!active(t)) {
      t++;
      continue;
    }
    // Extend the run, bridging inactive gaps shorter than the hangover.
    const first = t;
    let last = t;
    let peak = loudness[t];
    let u = t + 1;
    while (u < n && u - last <= hangover) {
      if (active(u)) {
        last = u;
        if (loudness[u] > peak) peak = loudness[u];
      }
      u++;
    }
    if (peak > o.onDb && last - first + 1 >= minFrames) {
      regions.push({ start: first / FRAMES_PER_SECOND, end: Math.min(duration, (last + 1) / FRAMES_PER_SECOND) });
    }
    t = last + 1;
  }
  return { regions, loudness, duration };
}

/** [1, 2, 1]/4 smoothing of dB values, done on powers. */
function smoothEnergy(db: Float32Array): Float32Array {
  const n = db.length;
  const out = new Float32Array(n);
  const p = (t: number): number => 10 ** (db[t < 0 ? 0 : t >= n ? n - 1 : t] / 10);
  for (let t = 0; t < n; t++) out[t] = 10 * Math.log10((p(t - 1) + 2 * p(t) + p(t + 1)) / 4);
  return out;
}
