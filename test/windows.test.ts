import { afterAll, describe, expect, it } from 'vitest';
import type { Region } from '../src/speech/region.js';
import { analyseSpeech } from '../src/speech/speech-regions.js';
import { cutWindows } from '../src/windows/cut-windows.js';
import { quietestFrame } from '../src/speech/quietest-frame.js';
import type { Window } from '../src/windows/window.js';
import { SR, addNoise, cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';

afterAll(cleanupFixtures);

/** Invariants every cut must satisfy. */
function expectWellFormed(ws: readonly Window[], maxSeconds: number, duration: number): void {
  ws.forEach((w, i) => {
    expect(w.index).toBe(i);
    expect(w.start).toBeGreaterThanOrEqual(0);
    expect(w.end).toBeLessThanOrEqual(duration + 1e-9);
    expect(w.end).toBeGreaterThan(w.start);
    expect(w.end - w.start).toBeLessThanOrEqual(maxSeconds + 1e-9);
    expect(w.speech.length).toBeGreaterThan(0);
    let prev = w.start;
    for (const r of w.speech) {
      expect(r.start).toBeGreaterThanOrEqual(prev);
      expect(r.end).toBeGreaterThan(r.start);
      expect(r.end).toBeLessThanOrEqual(w.end);
      prev = r.end;
    }
    if (i > 0) expect(w.start).toBeGreaterThanOrEqual(ws[i - 1].end);
  });
}

/** True when t is not inside any true speech span (by more than `tol`). */
function inPause(t: number, truth: readonly Region[], tol = 0.05): boolean {
  return truth.every((r) => t <= r.start + tol || t >= r.end - tol);
}

/** Seconds of true speech not covered by any window. */
function uncovered(ws: readonly Window[], truth: readonly Region[]): number {
  let miss = 0;
  for (const r of truth) {
    let covered = 0;
    for (const w of ws) covered += Math.max(0, Math.min(r.end, w.end) - Math.max(r.start, w.start));
    miss += r.end - r.start - covered;
  }
  return miss;
}

/** Loudness track: 30 dB in regions, 0 outside, with optional dips. */
function track(seconds: number, regions: readonly Region[], dips: readonly number[] = []): Float32Array {
  const l = new Float32Array(Math.round(seconds * 100));
  for (const r of regions) l.fill(30, Math.round(r.start * 100), Math.round(r.end * 100));
  for (const d of dips) l.fill(8, Math.round(d * 100) - 2, Math.round(d * 100) + 3);
  return l;
}

describe('cutWindows on speech fixtures', () => {
  it('five sentences with 1.5 s pauses: boundaries fall inside the pauses', () => {
    const s = script(sentences(5).map((t, i) => ({ pause: i === 0 ? 1 : 1.5, audio: speak(t) })));
    addNoise(s.samples, -55);
    const a = analyseSpeech(s.samples);
    const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 8, duration: a.duration });
    expectWellFormed(ws, 8, a.duration);
    for (const w of ws) {
      expect(inPause(w.start, s.speech), `start ${w.start}`).toBe(true);
      expect(inPause(w.end, s.speech), `end ${w.end}`).toBe(true);
    }
    expect(uncovered(ws, s.speech)).toBeLessThan(0.05);
    // Each sentence (≈ 3–4 s) is whole in one window.
    expect(ws).toHaveLength(5);
  });

  it('a 3-minute monologue (one espeak-ng run, short sentence pauses): windows ≤ 8 s, every cut in a pause', () => {
    const clean = speak(sentences(60).join(' '), { wpm: 175 });
    expect(clean.length / SR).toBeGreaterThan(170);
    // Ground truth from the clean synthesis: runs of ≥ 150 ms of near-silence are pauses.
    const pauses: Region[] = [];
    let run = 0;
    for (let i = 0; i <= clean.length; i++) {
      if (i < clean.length && Math.abs(clean[i]) < 2e-3) run++;
      else {
        if (run >= 0.15 * SR) pauses.push({ start: (i - run) / SR, end: i / SR });
        run = 0;
      }
    }
    expect(pauses.length).toBeGreaterThan(50);
    const x = addNoise(clean.slice(), -50);
    const a = analyseSpeech(x);
    const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 8, duration: a.duration });
    expectWellFormed(ws, 8, a.duration);
    const inAPause = (t: number): boolean => t >= a.duration - 0.01 || t <= 0.01 || pauses.some((p) => t >= p.start - 0.03 && t <= p.end + 0.03);
    for (const w of ws) {
      expect(inAPause(w.start), `start ${w.start}`).toBe(true);
      expect(inAPause(w.end), `end ${w.end}`).toBe(true);
    }
    // Everything but the pauses is covered.
    const speech: Region[] = [];
    let t = 0;
    for (const p of pauses) {
      if (p.start > t) speech.push({ start: t, end: p.start });
      t = p.end;
    }
    if (t < a.duration) speech.push({ start: t, end: a.duration });
    expect(uncovered(ws, speech)).toBeLessThan(0.2);
    // Windows are well filled: not many more than the minimum needed.
    expect(ws.length).toBeLessThan((a.duration / 8) * 1.8);
  });

  it('with maxSeconds 30 windows hold several sentences', () => {
    const s = script(sentences(12).map((t, i) => ({ pause: i === 0 ? 0.5 : 0.4, audio: speak(t) })), 0.5);
    const a = analyseSpeech(s.samples);
    const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 30, duration: a.duration });
    expectWellFormed(ws, 30, a.duration);
    expect(ws.length).toBeLessThanOrEqual(Math.ceil(a.duration / 30) + 1);
    for (const w of ws) expect(inPause(w.end, s.speech)).toBe(true);
  });
});

describe('cutWindows rules (pure)', () => {
  it('no speech, no windows', () => {
    expect(cutWindows([], new Float32Array(1000))).toEqual([]);
    const a = analyseSpeech(new Float32Array(5 * SR));
    expect(cutWindows(a.regions, a.loudness)).toEqual([]);
  });

  it('trims leading and trailing silence with a 0.2 s margin', () => {
    const ws = cutWindows([{ start: 3, end: 5 }], track(10, [{ start: 3, end: 5 }]));
    expect(ws).toEqual([{ index: 0, start: 2.8, end: 5.2, speech: [{ start: 3, end: 5 }] }]);
  });

  it('skips long silences between windows', () => {
    const regions = [{ start: 1, end: 3 }, { start: 30, end: 32 }];
    const ws = cutWindows(regions, track(40, regions));
    expect(ws.map((w) => [w.start, w.end])).toEqual([[0.8, 3.2], [29.8, 32.2]]);
  });

  it('ends a window at a silence of 2 s or more even when the next speech would fit', () => {
    const regions = [{ start: 1, end: 2 }, { start: 2.8, end: 3.5 }, { start: 5.6, end: 6.5 }];
    const ws = cutWindows(regions, track(8, regions));
    expect(ws).toHaveLength(2);
    expect([ws[0].start, ws[0].end, ws[1].start, ws[1].end].map((v) => +v.toFixed(6))).toEqual([0.8, 3.7, 5.4, 6.7]);
    expect(ws[0].speech).toEqual(regions.slice(0, 2));
  });

  it('continuous speech is cut at the quietest frame near the limit', () => {
    const regions = [{ start: 0.5, end: 30.5 }];
    const dips = [2.1, 4.3, 6.2, 7.1, 9.9, 12.4, 13.8, 15.5, 17.2, 19.6, 21.3, 22.9, 24.4, 26.8, 28.5];
    const ws = cutWindows(regions, track(31, regions, dips), { maxSeconds: 8 });
    expectWellFormed(ws, 8, 31);
    expect(ws[0].start).toBeCloseTo(0.3, 6);
    for (let i = 0; i + 1 < ws.length; i++) {
      expect(dips.some((d) => Math.abs(d - ws[i].end) <= 0.03), `cut at ${ws[i].end}`).toBe(true);
      expect(ws[i + 1].start).toBe(ws[i].end);
    }
    expect(ws[ws.length - 1].end).toBeCloseTo(30.7, 6);
  });

  it('prefers a pause to cutting inside speech, and a long pause to a short one', () => {
    const regions = [
      { start: 0.5, end: 3 },
      { start: 3.35, end: 5 }, // 0.35 s pause
      { start: 5.8, end: 7.5 }, // 0.8 s pause
      { start: 7.9, end: 12 },
    ];
    const ws = cutWindows(regions, track(13, regions), { maxSeconds: 8 });
    expect(ws[0].end).toBeCloseTo(5.2, 6);
    expect(ws[1].start).toBeCloseTo(5.6, 6);
    expect(ws[0].speech).toEqual(regions.slice(0, 2));
  });

  it('cuts at the middle of a pause shorter than two margins', () => {
    const regions = [{ start: 0.5, end: 6 }, { start: 6.3, end: 10 }];
    const l = track(11, regions);
    l.fill(2, 615, 618); // the deepest part of the pause
    const ws = cutWindows(regions, l, { maxSeconds: 8 });
    expect(ws).toHaveLength(2);
    expect(ws[0].end).toBeGreaterThan(6);
    expect(ws[0].end).toBeLessThan(6.3);
    expect(ws[1].start).toBe(ws[0].end);
  });

  it('drops isolated quiet blips, keeps loud ones, joins blips to nearby speech', () => {
    const quiet = { start: 10, end: 10.15 };
    const loud = { start: 20, end: 20.2 };
    const near = { start: 3.5, end: 3.6 };
    const main = { start: 1, end: 3 };
    const l = track(30, [main, near]);
    l.fill(12, 1000, 1015);
    l.fill(35, 2000, 2020);
    const ws = cutWindows([main, near, quiet, loud], l);
    expect(ws.map((w) => w.speech)).toEqual([[{ start: 1, end: 3.6 }], [loud]]);
  });

  it('accepts unsorted, overlapping regions', () => {
    const regions = [{ start: 4, end: 5 }, { start: 1, end: 2.5 }, { start: 2, end: 3 }];
    const ws = cutWindows(regions, track(6, regions));
    expect(ws).toHaveLength(1);
    expect(ws[0].speech).toEqual([{ start: 1, end: 3 }, { start: 4, end: 5 }]);
  });

  it('rejects a window length outside (0, 30]', () => {
    expect(() => cutWindows([], new Float32Array(0), { maxSeconds: 31 })).toThrow(RangeError);
    expect(() => cutWindows([], new Float32Array(0), { maxSeconds: 0 })).toThrow(RangeError);
  });

  it('random region layouts always give well-formed windows covering all kept speech', () => {
    let seed = 99;
    const rand = (): number => {
      seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let trial = 0; trial < 200; trial++) {
      const regions: Region[] = [];
      let t = rand() * 2;
      while (t < 120) {
        const len = rand() < 0.2 ? 0.35 + rand() * 0.3 : 0.3 + rand() * (rand() < 0.1 ? 25 : 5);
        regions.push({ start: t, end: t + len });
        t += len + 0.3 + rand() * (rand() < 0.3 ? 3 : 0.6);
      }
      const duration = t + 1;
      const l = track(duration, regions);
      for (let f = 0; f < l.length; f++) if (l[f] > 0 && rand() < 0.05) l[f] = 5 + rand() * 10;
      const maxSeconds = [8, 8, 15, 30][trial % 4];
      const ws = cutWindows(regions, l, { maxSeconds, duration });
      expectWellFormed(ws, maxSeconds, duration);
      expect(uncovered(ws, regions)).toBeLessThan(1e-6);
    }
  });
});

describe('quietestFrame (shared by the cutter and the split step)', () => {
  // Frames 2 and 6 are equally quiet after 1-2-1 smoothing; frame 4 is the middle of [2, 6].
  const loud = [9, 9, 0, 9, 5, 9, 0, 9, 9];
  const at = (f: number) => (f >= 0 && f < loud.length ? loud[f] : 0);

  it('breaks ties by the rule it is given', () => {
    expect(quietestFrame(at, 1, 7, 'latest')).toBe(6);
    expect(quietestFrame(at, 1, 7, 'middle')).toBe(2);
    expect(quietestFrame(at, 3, 7, 'middle')).toBe(6);
  });

  it('finds nothing in an empty span', () => {
    expect(quietestFrame(at, 5, 4, 'latest')).toBe(-1);
    expect(quietestFrame(at, 5, 4, 'middle')).toBe(-1);
  });
});
