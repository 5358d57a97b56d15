#!/usr/bin/env node
// Decode + speech analysis + windows of one long input: wall time and peak RSS, for one or more
// builds of the tool side by side (each a dist/ folder, e.g. one from a worktree of an older
// commit), plus ffmpeg alone decoding the same file (the floor). Runs are interleaved and each
// is a fresh child process, so the peak RSS is that run's own.
//
//   node bench/audio.mjs FILE [REPS] [NAME=DIST ...]     (default: this checkout's dist/)
//
// What a dist must offer: audio/decode.js decodeInput, speech/speech-regions.js analyseSpeech,
// windows/cut-windows.js cutWindows. Older builds returned { samples }; newer ones a readable,
// closable Audio. Both are handled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';

const [file, repsArg, ...distArgs] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/audio.mjs FILE [REPS] [NAME=DIST ...]');
  process.exit(2);
}
const reps = Number(repsArg ?? 3);
const here = path.resolve(import.meta.dirname, '..', 'dist');
const dists = distArgs.length ? distArgs.map((a) => a.split('=')) : [['this', here]];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-bench-audio-'));

/** The speech detector's module: src/speech/ now, src/mel/ in builds from before the move. */
function speechModule(dist) {
  return fs.existsSync(path.join(dist, 'speech/speech-regions.js')) ? 'speech/speech-regions.js' : 'mel/speech-regions.js';
}

function childScript(dist) {
  const p = path.join(tmp, `probe-${path.basename(path.dirname(dist))}-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(
    p,
    `import { decodeInput } from ${JSON.stringify(path.join(dist, 'audio/decode.js'))};
import { analyseSpeech } from ${JSON.stringify(path.join(dist, speechModule(dist)))};
import { cutWindows } from ${JSON.stringify(path.join(dist, 'windows/cut-windows.js'))};
const t0 = performance.now();
const audio = await decodeInput(process.argv[2], null);
const t1 = performance.now();
const a = analyseSpeech(audio.samples ?? audio);
const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 8, duration: a.duration });
const t2 = performance.now();
audio.close?.();
process.stdout.write(JSON.stringify({ decode: (t1 - t0) / 1000, analyse: (t2 - t1) / 1000, windows: ws.length, rssMiB: process.resourceUsage().maxRSS / 1024 }));
`,
  );
  return p;
}

const probes = dists.map(([name, dist]) => ({ name, script: childScript(path.resolve(dist)), runs: [] }));
const ffmpegRuns = [];
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  const ff = spawnSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', '16000', '-f', 'f32le', '-y', '/dev/null']);
  if (ff.status !== 0) throw new Error(String(ff.stderr));
  ffmpegRuns.push((performance.now() - t0) / 1000);
  for (const p of probes) {
    const t = performance.now();
    const out = execFileSync(process.execPath, [p.script, file], { env: { ...process.env, TMPDIR: tmp }, maxBuffer: 1 << 20 });
    p.runs.push({ ...JSON.parse(String(out)), wall: (performance.now() - t) / 1000 });
  }
}
fs.rmSync(tmp, { recursive: true, force: true });

const min = (xs) => Math.min(...xs);
const sec = (x) => x.toFixed(x < 10 ? 2 : 1);
const floor = min(ffmpegRuns);
console.log(`${path.basename(file)}, ${reps} interleaved runs, min of each; ffmpeg alone ${sec(floor)} s`);
console.log('| build | decode s | analysis + windows s | whole child s | vs ffmpeg alone | peak RSS MiB | windows |');
console.log('|---|---|---|---|---|---|---|');
for (const p of probes) {
  const wall = min(p.runs.map((x) => x.wall));
  console.log(`| ${p.name} | ${sec(min(p.runs.map((x) => x.decode)))} | ${sec(min(p.runs.map((x) => x.analyse)))} | ${sec(wall)} | ${(wall / floor).toFixed(2)}× | ${Math.round(min(p.runs.map((x) => x.rssMiB)))} | ${p.runs[0].windows} |`);
}
