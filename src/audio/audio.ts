/** Every model run wants 16 kHz mono; decoders deliver exactly this. */
export const SAMPLE_RATE = 16_000;

/** Decoded audio: mono float32 samples in [-1, 1] at SAMPLE_RATE. */
export interface Audio {
  readonly samples: Float32Array;
  readonly sampleRate: typeof SAMPLE_RATE;
}

export function durationSeconds(audio: Audio): number {
  return audio.samples.length / audio.sampleRate;
}
