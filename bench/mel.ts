/**
 * Speed of the mel / speech-detection core on synthetic audio.
 * Run: npx tsx bench/mel.ts [minutes=10]
 * Reports seconds of CPU per hour of audio for: band energy (the VAD's only STFT pass),
 * full speech detection (energy + floor + regions), window cutting, and full log-mel.
 */
import { frameBandEnergyDb } from '../src/mel/frame-energy.js';
import { logMelSpectrogram } from '../src/mel/log-mel.js';

const minutes = Number(process.argv[2] ?? 10);
const n = Math.round(minutes * 60 * 16_000);
const x = new Float32Array(n);
let seed = 1;
for (let i = 0; i < n; i++) {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  const burst = Math.floor(i / 24_000) % 3 === 0 ? 0 : 1;
  x[i] = burst * (0.2 * Math.sin(i * 0.07) + 0.05 * (seed / 2 ** 32 - 0.5)) + 1e-4 * (seed / 2 ** 32 - 0.5);
}
const perHour = (ms: number): string => `${((ms / 1000) * (60 / minutes)).toFixed(2)} s per hour of audio`;

function time(label: string, f: () => unknown): void {
  const t0 = performance.now();
  f();
  console.log(`${label}: ${perHour(performance.now() - t0)}`);
}

console.log(`input: ${minutes} min synthetic, node ${process.version}`);
time('frame band energy', () => frameBandEnergyDb(x));
time('log-mel (128 x T)', () => {
  // one-minute slices, as a caller would do per window, so memory stays small
  for (let s = 0; s < n; s += 60 * 16_000) logMelSpectrogram(x.subarray(s, Math.min(n, s + 60 * 16_000)));
});
