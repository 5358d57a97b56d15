/**
 * Speed of the mel / speech-detection core on synthetic audio.
 * Run: npx tsx bench/mel.ts [minutes=10]
 * Prints seconds of CPU per hour of audio for: the speech-band energy pass (the VAD's only STFT
 * pass), the decision part of speech detection (floor, hysteresis), window cutting, and the full
 * 128-bin log-mel (computed in one-minute slices, as a caller would per window).
 */
import { frameBandEnergyDb } from '../src/speech/frame-energy.js';
import { logMelSpectrogram } from '../src/mel/log-mel.js';
import { speechFromEnergy } from '../src/speech/speech-regions.js';
import { cutWindows } from '../src/windows/cut-windows.js';

const minutes = Number(process.argv[2] ?? 10);
const n = Math.round(minutes * 60 * 16_000);
const x = new Float32Array(n);
let seed = 1;
for (let i = 0; i < n; i++) {
  seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
  // 1 s of "speech" (tone + noise, amplitude-modulated at 4 Hz) then 0.5 s of faint noise, repeated.
  const on = i % 24_000 < 16_000 ? 1 : 0;
  const env = 0.5 + 0.5 * Math.sin((2 * Math.PI * 4 * i) / 16_000);
  x[i] = on * env * (0.2 * Math.sin(i * 0.07) + 0.05 * (seed / 2 ** 32 - 0.5)) + 1e-4 * (seed / 2 ** 32 - 0.5);
}
const perHour = (ms: number): string => `${((ms / 1000) * (60 / minutes)).toFixed(2)} s per hour of audio`;

/**
 * Best of `reps` runs, in CPU time of this process (user + system): the bench machine is shared,
 * and CPU time is far less disturbed by other processes than wall time.
 */
function time<T>(label: string, f: () => T, reps = 3): T {
  let best = Infinity;
  let wall = Infinity;
  let r!: T;
  for (let k = 0; k < reps; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    r = f();
    wall = Math.min(wall, performance.now() - t0);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  console.log(`${label.padEnd(28)} ${perHour(best)} CPU  (${perHour(wall)} wall)`);
  return r;
}

console.log(`input: ${minutes} min synthetic, node ${process.version}`);
const energy = time('band energy (STFT)', () => frameBandEnergyDb(x));
const a = time('speech decision', () => speechFromEnergy(energy, n / 16_000));
const ws = time('cutWindows (8 s)', () => cutWindows(a.regions, a.loudness, { duration: a.duration }));
time('speech detection + windows', () => {
  const r = speechFromEnergy(frameBandEnergyDb(x), n / 16_000);
  return cutWindows(r.regions, r.loudness, { duration: r.duration });
});
console.log(`(${a.regions.length} regions, ${ws.length} windows)`);
time('log-mel 128 x T', () => {
  for (let s = 0; s < n; s += 60 * 16_000) logMelSpectrogram(x.subarray(s, Math.min(n, s + 60 * 16_000)));
});
