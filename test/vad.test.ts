import { afterAll, describe, expect, it } from 'vitest';
import type { Region } from '../src/speech/region.js';
import { analyseSpeech, detectSpeech, speechFromEnergy } from '../src/speech/speech-regions.js';
import { frameBandEnergyDb } from '../src/speech/frame-energy.js';
import { slidingPercentile } from '../src/speech/noise-floor.js';
import { N_FREQ_BINS, PowerStft } from '../src/mel/stft.js';
import { SR, addNoise, addTone, cleanupFixtures, gain, script, sentences, speak, type Scripted } from './fixtures/speech.js';

afterAll(cleanupFixtures);

const FIVE = sentences(5);
let fiveCache: Scripted | null = null;
/** Five sentences, 1 s lead-in, 1.5 s silences between, 1 s tail. Fresh copy each call. */
function five(): Scripted {
  fiveCache ??= script(FIVE.map((t, i) => ({ pause: i === 0 ? 1 : 1.5, audio: speak(t) })));
  return { samples: fiveCache.samples.slice(), speech: fiveCache.speech };
}

/** Each true span matched by exactly one detected region, both edges within `tol` seconds. */
function expectMatches(found: readonly Region[], truth: readonly Region[], tol: number): void {
  expect(found.map((r) => [+r.start.toFixed(2), +r.end.toFixed(2)])).toHaveLength(truth.length);
  truth.forEach((t, i) => {
    expect(Math.abs(found[i].start - t.start), `start of ${i}`).toBeLessThan(tol);
    expect(Math.abs(found[i].end - t.end), `end of ${i}`).toBeLessThan(tol);
  });
}

describe('noise floor', () => {
  it('is a sliding low percentile', () => {
    const e = Float32Array.from({ length: 1000 }, (_, t) => (t % 10 === 0 ? -60 : -20));
    const f = slidingPercentile(e, 100, 0.05);
    expect(Math.max(...f)).toBe(-60);
    const g = slidingPercentile(e, 100, 0.5);
    expect(Math.min(...g)).toBe(-20);
  });
});

describe('detectSpeech', () => {
  it('finds five sentences separated by 1.5 s silences', () => {
    const s = five();
    expectMatches(detectSpeech(s.samples), s.speech, 0.15);
  });

  it('ignores low background noise', () => {
    const s = five();
    addNoise(s.samples, -50);
    expectMatches(detectSpeech(s.samples), s.speech, 0.15);
  });

  it('ignores a constant 50/100 Hz hum louder than the speech', () => {
    const s = five();
    addTone(addTone(s.samples, 50, 0.3), 100, 0.15);
    addNoise(s.samples, -55);
    expectMatches(detectSpeech(s.samples), s.speech, 0.15);
    const humOnly = addTone(addTone(new Float32Array(20 * SR), 50, 0.3), 100, 0.15);
    expect(detectSpeech(humOnly)).toEqual([]);
  });

  it('follows a level change (first half 20 dB quieter, noise included)', () => {
    const s = five();
    addNoise(s.samples, -50);
    gain(s.samples, -20, 0, Math.floor(s.samples.length / 2));
    expectMatches(detectSpeech(s.samples), s.speech, 0.15);
  });

  it('keeps quiet speech next to loud speech over the same background', () => {
    const s = five();
    gain(s.samples, -20, 0, Math.floor(s.speech[2].end * SR));
    addNoise(s.samples, -60);
    expectMatches(detectSpeech(s.samples), s.speech, 0.15);
  });

  it('does not take sustained music-like tones for speech, but hears speech over them', () => {
    const chords = new Float32Array(20 * SR);
    const notes = [220, 262, 330, 294, 392, 349, 440, 262, 330, 220];
    for (let n = 0; n < notes.length; n++) {
      const from = n * 2 * SR;
      const to = from + 2 * SR;
      for (const h of [1, 1.25, 1.5]) addTone(chords, notes[n] * h, 0.05, from, to);
    }
    addNoise(chords, -60);
    expect(detectSpeech(chords)).toEqual([]);

    const s = five();
    const bed = chords.subarray(0, Math.min(chords.length, s.samples.length));
    for (let i = 0; i < bed.length; i++) s.samples[i] += bed[i] * 0.3;
    const found = detectSpeech(s.samples);
    // Each sentence is found; nothing is found in the silences (speech over tones may extend a little).
    expectMatches(found, s.speech, 0.3);
  });

  it('finds nothing in silence (digital zero and quiet noise)', () => {
    expect(detectSpeech(new Float32Array(10 * SR))).toEqual([]);
    expect(detectSpeech(addNoise(new Float32Array(10 * SR), -70))).toEqual([]);
    expect(detectSpeech(addNoise(new Float32Array(10 * SR), -30))).toEqual([]);
    expect(detectSpeech(new Float32Array(0))).toEqual([]);
    expect(detectSpeech(new Float32Array(100))).toEqual([]);
  });

  it('returns 100 loudness frames per second, non-negative', () => {
    const s = five();
    const a = analyseSpeech(s.samples);
    expect(a.loudness.length).toBe(Math.floor(s.samples.length / 160));
    expect(Math.min(...a.loudness)).toBeGreaterThanOrEqual(0);
    expect(a.duration).toBeCloseTo(s.samples.length / SR, 6);
  });

  it('decides from band energies alone (pure core)', () => {
    // 2 s at −80 dB, 1 s at −20 dB, 2 s at −80 dB
    const e = Float32Array.from({ length: 500 }, (_, t) => (t >= 200 && t < 300 ? -20 : -80));
    const r = speechFromEnergy(e, 5).regions;
    expect(r).toHaveLength(1);
    expect(r[0].start).toBeCloseTo(2, 1);
    expect(r[0].end).toBeCloseTo(3, 1);
    expect(frameBandEnergyDb(new Float32Array(16_000)).every((v) => v <= -119)).toBe(true);
  });
});

describe('band energy read a minute at a time', () => {
  /** The oracle: every frame from one PowerStft over the whole array (no blocks). */
  function wholeArrayEnergy(x: Float32Array): Float32Array {
    const stft = new PowerStft(x);
    const out = new Float32Array(stft.frames);
    const p = new Float64Array(N_FREQ_BINS);
    for (let t = 0; t < stft.frames; t++) {
      stft.power(t, p);
      let s = 0;
      for (let k = Math.ceil(250 / 40); k <= Math.floor(4000 / 40); k++) s += p[k];
      out[t] = 10 * Math.log10(s / (200 * 150) + 1e-12);
    }
    return out;
  }
  const noise = (n: number, seed: number): Float32Array => {
    let s = seed;
    return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.3);
  };
  // Around the one-minute block edge (6000 frames = 960000 samples) and the n_fft/2 reflections.
  for (const n of [0, 159, 160, 399, 400, 401, 1000, 960_000 - 1, 960_000, 960_000 + 199, 960_000 + 201, 2 * 960_000 + 37]) {
    it(`${n} samples: the same bits as one pass over the whole array, from an array or a reader`, () => {
      const x = noise(n, n + 1);
      const want = wholeArrayEnergy(x);
      expect(frameBandEnergyDb(x)).toEqual(want);
      // A reader that hands out only what is asked for, as the temp-file audio does.
      const reads: Array<[number, number]> = [];
      const source = { length: n, read: (a: number, b: number) => (reads.push([a, b]), x.slice(a, b)) };
      expect(frameBandEnergyDb(source)).toEqual(want);
      for (const [a, b] of reads) expect(b - a).toBeLessThanOrEqual(60 * SR + 400);
    });
  }
});
