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
  /** Frees what holds the samples (removes the temp file); reading afterwards throws. */
  close(): void;
}

export function durationSeconds(audio: { readonly length: number; readonly sampleRate: number }): number {
  return audio.length / audio.sampleRate;
}

/** Audio held in memory (the ffmpeg-free WAV path, tests); reads are copies, so callers cannot alter it. */
export function memoryAudio(samples: Float32Array): Audio {
  let open = true;
  return {
    sampleRate: SAMPLE_RATE,
    length: samples.length,
    read(from, to) {
      if (!open) throw new Error('audio read after close');
      return samples.slice(Math.max(0, from), Math.min(samples.length, to));
    },
    close() {
      open = false;
    },
  };
}
