import { describe, expect, it } from 'vitest';
import { analyseSpeech } from '../src/speech/speech-regions.js';
import { cutWindows } from '../src/windows/cut-windows.js';

/**
 * Two hours of 16 kHz audio (460 MB of float32) is analysed and windowed without materialising
 * anything proportional to T × 128: the extra peak memory is the per-frame arrays (a few MB).
 */
describe('two hours in bounded memory', () => {
  it('analyses and windows 2 h of silence and tone bursts with < 200 MB beyond the input', () => {
    const SR = 16_000;
    const seconds = 2 * 3600;
    const x = new Float32Array(seconds * SR);
    // A 1.2 s burst (two tones, 440 + 1320 Hz) every 10 s; silence with faint noise between.
    // One 10 s period is synthesised and repeated (the content is periodic anyway).
    const period = new Float32Array(10 * SR);
    let s = 1;
    for (let i = 0; i < period.length; i++) {
      s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
      const inBurst = i >= 3 * SR && i < 4.2 * SR;
      period[i] = (s / 2 ** 32 - 0.5) * 1e-3 + (inBurst ? 0.2 * Math.sin(i * 0.1728) + 0.1 * Math.sin(i * 0.5184) : 0);
    }
    for (let o = 0; o < x.length; o += period.length) x.set(period, o);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const a = analyseSpeech(x);
    const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 8, duration: a.duration });
    const ms = performance.now() - t0;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const heapDelta = process.memoryUsage().heapUsed - heap0;
    console.log(`2 h: ${(ms / 1000).toFixed(1)} s, peak RSS +${((peakRss - rss0) / 2 ** 20).toFixed(0)} MB, heap +${(heapDelta / 2 ** 20).toFixed(0)} MB, ${ws.length} windows`);
    expect(a.loudness.length).toBe(seconds * 100);
    expect(a.regions).toHaveLength(seconds / 10);
    expect(ws).toHaveLength(seconds / 10);
    for (const w of ws) {
      const burst = Math.floor(w.start / 10) * 10 + 3;
      expect(w.start).toBeGreaterThan(burst - 0.3);
      expect(w.end).toBeLessThan(burst + 1.5);
    }
    expect(peakRss - rss0).toBeLessThan(200 * 2 ** 20);
    expect(heapDelta).toBeLessThan(200 * 2 ** 20);
  });
});
