import type { Timeline } from './timeline.js';

/** Every model run wants 16 kHz mono; decoders deliver exactly this. */
export const SAMPLE_RATE = 16_000;

/** Mono float32 samples in [-1, 1], read a stretch at a time (in memory, or from a file). */
export interface SampleSource {
  /** Number of samples. */
  readonly length: number;
  /** Samples [from, to), clamped to [0, length]; the caller may keep or change the array. */
  read(from: number, to: number): Float32Array;
}

/**
 * Decoded audio at SAMPLE_RATE. Whoever decoded it closes it when done: a long input lives in a
 * temp file (./sample-file.ts), so that memory stays bounded whatever the length.
 */
export interface Audio extends SampleSource {
  readonly sampleRate: typeof SAMPLE_RATE;
  /** Samples that were NaN or ±Infinity in the decoded stream, now silence (see repairSamples). */
  readonly repaired: number;
  /** How the samples line up with the input's own timeline (ffmpeg decodes only; see ./timeline.ts). */
  readonly timeline?: Timeline;
  /** Frees what holds the samples (removes the temp file); reading afterwards throws. */
  close(): void;
}

/** The samples of [start, end) seconds, widened to whole samples and clamped to the input. */
export function readSeconds(audio: SampleSource & { readonly sampleRate: number }, start: number, end: number): Float32Array {
  return audio.read(Math.max(0, Math.floor(start * audio.sampleRate)), Math.min(audio.length, Math.ceil(end * audio.sampleRate)));
}

export function durationSeconds(audio: { readonly length: number; readonly sampleRate: number }): number {
  return audio.length / audio.sampleRate;
}

/**
 * Sets NaN and ±Infinity samples to 0 in place; returns how many there were. A float WAV can hold
 * them (a broken recorder or editor), and one such sample turns every mel frame it touches, and
 * then its whole window's encoder output, into NaN: the window would come back empty.
 */
export function repairSamples(x: Float32Array): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      x[i] = 0;
      n++;
    }
  }
  return n;
}

/** Audio held in memory (the ffmpeg-free WAV path, tests); reads are copies, so callers cannot alter it. */
export function memoryAudio(samples: Float32Array, repaired = 0): Audio {
  let open = true;
  return {
    sampleRate: SAMPLE_RATE,
    length: samples.length,
    repaired,
    read(from, to) {
      if (!open) throw new Error('audio read after close');
      return samples.slice(Math.max(0, from), Math.min(samples.length, to));
    },
    close() {
      open = false;
    },
  };
}
