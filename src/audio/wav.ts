import wavefile from 'wavefile';
// wavefile is CommonJS: Node's ESM loader exposes it only as a default export.

import { SAMPLE_RATE, type Audio } from './audio.js';
import { resample } from './resample.js';

/** True when the bytes start like a RIFF/WAVE file (what decides the ffmpeg-free path). */
export function looksLikeWav(head: Uint8Array): boolean {
  return (
    head.length >= 12 &&
    String.fromCharCode(...head.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...head.subarray(8, 12)) === 'WAVE'
  );
}

/** Full-scale value of each integer PCM depth; 8-bit WAV is unsigned with its zero at 128. */
const INT_SCALE: Record<string, number> = { '16': 32768, '24': 8388608, '32': 2147483648 };

/**
 * Decodes a PCM or float WAV (any rate, any channel count) to 16 kHz mono without ffmpeg.
 * Channels are averaged, as the official toolkit does. Throws a plain Error describing what is
 * wrong with the file; the caller turns it into a user-facing message.
 */
export function decodeWav(bytes: Uint8Array): Audio {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number };
  const depth = wav.bitDepth;
  if (!(fmt.numChannels >= 1)) throw new Error('the WAV header gives no channels');
  if (!(fmt.sampleRate >= 1000 && fmt.sampleRate <= 1_000_000)) throw new Error(`unsupported sample rate ${fmt.sampleRate} Hz`);
  let offset = 0;
  let scale: number;
  if (depth === '8') {
    offset = -128;
    scale = 128;
  } else if (depth === '32f' || depth === '64') {
    scale = 1;
  } else if (INT_SCALE[depth] !== undefined) {
    scale = INT_SCALE[depth];
  } else {
    throw new Error(`unsupported WAV encoding (bit depth code '${depth}', format ${fmt.audioFormat})`);
  }
  const interleaved = wav.getSamples(true, Float64Array) as unknown as Float64Array;
  const channels = fmt.numChannels;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Float32Array(frames);
  const norm = 1 / (scale * channels);
  for (let i = 0, j = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < channels; c++, j++) acc += interleaved[j] + offset;
    mono[i] = acc * norm;
  }
  const samples = fmt.sampleRate === SAMPLE_RATE ? mono : resample(mono, fmt.sampleRate, SAMPLE_RATE);
  return { samples: clip(samples), sampleRate: SAMPLE_RATE };
}

/** The official toolkit clips to [-1, 1]; float WAVs can exceed it. */
function clip(x: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) {
    if (x[i] > 1) x[i] = 1;
    else if (x[i] < -1) x[i] = -1;
  }
  return x;
}
