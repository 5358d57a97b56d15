import { WhisperFeatureExtractor } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { ComplexFft, RealPowerFft } from '../src/mel/fft.js';
import { logMelSpectrogram } from '../src/mel/log-mel.js';
import { denseFilters, melFilterBank } from '../src/mel/mel-filters.js';
import { frameCount } from '../src/mel/stft.js';
import { addNoise, addTone, cleanupFixtures, rng, speak } from './fixtures/speech.js';

/** transformers.js's own extractor is the oracle; nb_max_frames is lifted so nothing is truncated. */
const oracle = new WhisperFeatureExtractor({
  feature_size: 128,
  sampling_rate: 16_000,
  hop_length: 160,
  n_fft: 400,
  chunk_length: 30,
  n_samples: 480_000,
  nb_max_frames: Number.MAX_SAFE_INTEGER,
  padding_value: 0,
});

async function reference(x: Float32Array): Promise<{ data: Float32Array; dims: number[] }> {
  // _extract_fbank_features is the un-padded feature path (_call would pad to 30 s).
  const t = await (oracle as unknown as { _extract_fbank_features(x: Float32Array): Promise<{ data: Float32Array; dims: number[] }> })._extract_fbank_features(x);
  return { data: t.data, dims: t.dims };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

afterAll(cleanupFixtures);

describe('fft', () => {
  it('matches a direct DFT for mixed-radix lengths', () => {
    const r = rng(3);
    for (const n of [1, 2, 3, 4, 5, 8, 15, 40, 200]) {
      const re = Float64Array.from({ length: n }, () => r() - 0.5);
      const im = Float64Array.from({ length: n }, () => r() - 0.5);
      const eRe = new Float64Array(n);
      const eIm = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        for (let j = 0; j < n; j++) {
          const a = (-2 * Math.PI * k * j) / n;
          eRe[k] += re[j] * Math.cos(a) - im[j] * Math.sin(a);
          eIm[k] += re[j] * Math.sin(a) + im[j] * Math.cos(a);
        }
      }
      new ComplexFft(n).transform(re, im);
      expect(maxAbsDiff(re, eRe)).toBeLessThan(1e-12);
      expect(maxAbsDiff(im, eIm)).toBeLessThan(1e-12);
    }
  });

  it('gives the exact 400-point real power spectrum', () => {
    const r = rng(4);
    const x = Float64Array.from({ length: 400 }, () => r() - 0.5);
    const out = new Float64Array(201);
    new RealPowerFft(400).power(x, out);
    for (let k = 0; k <= 200; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < 400; j++) {
        sr += x[j] * Math.cos((2 * Math.PI * k * j) / 400);
        si -= x[j] * Math.sin((2 * Math.PI * k * j) / 400);
      }
      expect(Math.abs(out[k] - (sr * sr + si * si))).toBeLessThan(1e-9);
    }
  });
});

describe('mel filters', () => {
  it('match transformers.js mel_filter_bank (slaney, 128 × 201)', () => {
    // The extractor's constructor builds them with its own mel_filter_bank(201, 128, 0, 8000, 16000, 'slaney', 'slaney').
    const ref = (oracle as unknown as { config: { mel_filters: number[][] } }).config.mel_filters;
    const ours = denseFilters(melFilterBank(), 201);
    let d = 0;
    for (let m = 0; m < 128; m++) d = Math.max(d, maxAbsDiff(ours[m], ref[m]));
    expect(d).toBeLessThan(1e-9);
  });
});

describe('log-mel vs transformers.js WhisperFeatureExtractor', () => {
  const r = rng(11);
  const noise = (n: number): Float32Array => addNoise(new Float32Array(n), -20, 5);
  const cases: [string, () => Float32Array][] = [
    ['silence 1 s', () => new Float32Array(16_000)],
    ['440 Hz tone 1.23 s', () => addTone(new Float32Array(19_680 + 13), 440, 0.5)],
    ['white noise 2 s + 57', () => noise(32_057)],
    ['white noise, shortest (160)', () => noise(160)],
    ['white noise 199 (shorter than the padding)', () => noise(199)],
    ['speech-like mix 3.3 s', () => {
      const x = addTone(addTone(new Float32Array(52_801), 180, 0.3), 720, 0.1);
      for (let i = 0; i < x.length; i++) x[i] *= 0.5 + 0.5 * Math.sin(i / 600) + 0.01 * (r() - 0.5);
      return x;
    }],
    ['espeak-ng utterance', () => speak('The quick brown fox jumps over the lazy dog.')],
    ['speech over noise and hum, 20 s + 37', () => {
      const v = speak('Seven slow sentences later, the quiet engineer finally opened the wooden door and smiled.');
      const x = new Float32Array(20 * 16_000 + 37);
      for (let o = 0; o + v.length <= x.length; o += v.length + 8000) x.set(v, o);
      return addTone(addNoise(x, -40, 9), 50, 0.2);
    }],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const x = make();
      const ref = await reference(x);
      const ours = logMelSpectrogram(x);
      expect(ours.frames).toBe(frameCount(x.length));
      expect(ref.dims).toEqual([128, ours.frames]);
      expect(maxAbsDiff(ours.data, ref.data)).toBeLessThan(1e-4);
    });
  }

  it('gives no frames for under 10 ms', () => {
    expect(logMelSpectrogram(new Float32Array(159)).frames).toBe(0);
  });
});
