#!/usr/bin/env node
/**
 * Runner benchmarks: qwen3asr end to end (subprocess and server runners, --jobs 1 and 2) against
 * the same model work done by raw llama-mtmd-cli calls and by a raw llama-server, on the same
 * windows, interleaved and repeated. Every decode generates exactly ceil(3.5 × window seconds)
 * tokens (QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 for qwen3asr, --ignore-eos -n for the raw runs).
 *
 *   npm run build && node bench/runners.mjs TEXT.gguf MMPROJ.gguf AUDIO.wav [reps] [configs]
 *
 * configs: comma list of raw-cli, raw-srv1 (llama-server, 1 slot), raw-server (2 slots), sub-j1,
 * sub-j2, srv-j1, srv-j2 (default: all).
 * Prints one JSON line per run (wall seconds, peak RSS of the whole process tree and of the
 * largest llama.cpp process, load average) and a markdown table of medians at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const { contextSizeFor } = await import(path.join(ROOT, 'dist/runner/request/budget.js'));
const { floatWavBytes } = await import(path.join(ROOT, 'dist/runner/request/window-wav.js'));
const { buildPrompt } = await import(path.join(ROOT, 'dist/runner/request/prompt.js'));
const { freeLoopbackPort } = await import(path.join(ROOT, 'dist/runner/local/free-port.js'));

const [textModel, mmproj, audioFile, repsArg, configsArg] = process.argv.slice(2);
if (!audioFile) {
  console.error('usage: node bench/runners.mjs TEXT.gguf MMPROJ.gguf AUDIO.wav [reps] [configs]');
  process.exit(2);
}
const REPS = Number(repsArg ?? 3);
const CONFIGS = (configsArg ?? 'raw-cli,raw-srv1,raw-server,sub-j1,sub-j2,srv-j1,srv-j2').split(',');
const RATE = 3.5;
const THREADS = os.availableParallelism();
const BIN = process.env.QWEN3ASR_BIN_DIR ?? (await binDir());
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-bench-'));

async function binDir() {
  const r = await run(process.execPath, [path.join(ROOT, 'bin/qwen3asr.js'), 'build', '--print-path'], {});
  return r.stdout.trim().split('\n').pop();
}

/** Runs a command; resolves with wall time and the peak RSS of its process tree (polled /proc). */
function run(cmd, args, env, input) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let peakTree = 0;
    let peakLlama = 0;
    const poll = setInterval(() => {
      const m = treeRss(child.pid);
      peakTree = Math.max(peakTree, m.total);
      peakLlama = Math.max(peakLlama, m.llama);
    }, 25);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-800)}`));
      else resolve({ wall, stdout, stderr, peakTree, peakLlama });
    });
  });
}

/** RSS (MB) of pid and all its descendants, and of the largest llama.cpp process among them. */
function treeRss(root) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  let total = 0;
  let llama = 0;
  for (const [pid] of parent) {
    let p = pid;
    while (p && p !== root) p = parent.get(p);
    if (p !== root) continue;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      total += rss;
      if (/Name:\s+llama-/.test(status)) llama = Math.max(llama, rss);
    } catch {}
  }
  return { total, llama };
}

// Windows: what qwen3asr cuts (read from its JSON output once, not timed).
const probe = await run(process.execPath, [path.join(ROOT, 'bin/qwen3asr.js'), audioFile, '-f', 'json', '-o', '-', '--no-guard', '--runner', 'server', '-m', textModel, '--mmproj', mmproj], { QWEN3ASR_FIXED_TOKENS_PER_SECOND: String(RATE) });
const windows = JSON.parse(probe.stdout).windows.map((w) => ({ start: w.start, end: w.end }));
const { samples } = readFloatWav(audioFile);
const jobs = windows.map((w, i) => {
  const s = samples.subarray(Math.floor(w.start * 16000), Math.ceil(w.end * 16000));
  const file = path.join(tmp, `w${i}.wav`);
  fs.writeFileSync(file, floatWavBytes(s));
  const n = Math.ceil(RATE * (s.length / 16000));
  return { file, n, ctx: contextSizeFor(s.length, null, n), bytes: fs.readFileSync(file) };
});
const audioSeconds = samples.length / 16000;
console.error(`audio ${audioSeconds.toFixed(1)} s, ${windows.length} windows, ${jobs.reduce((a, j) => a + j.n, 0)} tokens to generate, ${THREADS} threads`);

/** The WAV qwen3asr reads; the bench makes it with ffmpeg as 16 kHz mono float. */
function readFloatWav(file) {
  const b = fs.readFileSync(file);
  const data = b.indexOf('data', 12);
  const bytes = b.readUInt32LE(data + 4);
  const f = new Float32Array(b.buffer.slice(b.byteOffset + data + 8, b.byteOffset + data + 8 + bytes));
  return { samples: f };
}

const prompt = buildPrompt(null, null);
const configs = {
  'raw-cli': async () => {
    let wall = 0, peakTree = 0, peakLlama = 0;
    for (const j of jobs) {
      const r = await run(`${BIN}/llama-mtmd-cli`, ['-m', textModel, '--mmproj', mmproj, '--audio', j.file, '-p', prompt, '-n', String(j.n), '-c', String(j.ctx), '-t', String(THREADS), '--temp', '0', '--seed', '0', '--no-warmup', '--ignore-eos'], { MTMD_RAW_PROMPT: '1' });
      wall += r.wall;
      peakTree = Math.max(peakTree, r.peakTree);
      peakLlama = Math.max(peakLlama, r.peakLlama);
    }
    return { wall, peakTree, peakLlama };
  },
  'raw-srv1': () => rawServer(1),
  'raw-server': () => rawServer(2),
  'sub-j1': () => tool(['--runner', 'subprocess', '--jobs', '1']),
  'sub-j2': () => tool(['--runner', 'subprocess', '--jobs', '2']),
  'srv-j1': () => tool(['--runner', 'server', '--jobs', '1']),
  'srv-j2': () => tool(['--runner', 'server', '--jobs', '2']),
};

async function tool(extra) {
  const r = await run(process.execPath, [path.join(ROOT, 'bin/qwen3asr.js'), audioFile, '-f', 'txt', '-o', '-', '--no-guard', '-q', '-m', textModel, '--mmproj', mmproj, ...extra], { QWEN3ASR_FIXED_TOKENS_PER_SECOND: String(RATE), QWEN3ASR_BIN_DIR: BIN });
  return { wall: r.wall, peakTree: r.peakTree, peakLlama: r.peakLlama };
}

/** llama-server started by hand with the same settings, the windows posted `slots` at a time: start to last answer. */
async function rawServer(slots) {
  const started = process.hrtime.bigint();
  const port = await freeLoopbackPort();
  const slotCtx = Math.max(...jobs.map((j) => j.ctx));
  const child = spawn(`${BIN}/llama-server`, ['-m', textModel, '--mmproj', mmproj, '--host', '127.0.0.1', '--port', String(port), '-np', String(slots), '-c', String(slots * slotCtx), '-t', String(THREADS), '--cont-batching', '--cache-ram', '0', '--no-webui', '--no-warmup'], { stdio: 'ignore', env: { ...process.env, LLAMA_MEDIA_MARKER: '<__media__>' } });
  let peakLlama = 0;
  const poll = setInterval(() => (peakLlama = Math.max(peakLlama, treeRss(process.pid).llama)), 25);
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      const body = { prompt: { prompt_string: prompt, multimodal_data: [j.bytes.toString('base64')] }, n_predict: j.n, temperature: 0, seed: 0, cache_prompt: false, ignore_eos: true };
      const r = await fetch(`${url}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await r.json();
    }
  };
  await Promise.all(Array.from({ length: slots }, worker));
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(poll);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('close', r));
  return { wall, peakTree: peakLlama, peakLlama };
}

const results = Object.fromEntries(CONFIGS.map((c) => [c, []]));
for (let rep = 0; rep < REPS; rep++) {
  // Rotated order each repetition, so a change in machine load does not favour one config.
  const order = CONFIGS.map((_, i) => CONFIGS[(i + rep) % CONFIGS.length]);
  for (const c of order) {
    const load = os.loadavg()[0];
    const r = await configs[c]();
    const line = { config: c, rep, wall: +r.wall.toFixed(2), rtf: +(r.wall / audioSeconds).toFixed(3), peakTreeMB: Math.round(r.peakTree), peakLlamaMB: Math.round(r.peakLlama), load1: +load.toFixed(2) };
    results[c].push(line);
    console.log(JSON.stringify(line));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = results['raw-cli']?.length ? median(results['raw-cli'].map((r) => r.wall)) : null;
// On a shared machine the minimum is the figure least disturbed by other work; the median is shown too.
const min = (xs) => Math.min(...xs);
const baseMin = results['raw-cli']?.length ? min(results['raw-cli'].map((r) => r.wall)) : null;
console.log(`\n| config | wall s, min of ${REPS} | RTF (min) | vs raw llama-mtmd-cli (min) | wall s, median | vs raw (median) | peak RSS whole tool MB | peak RSS llama.cpp process MB | load avg at each run |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const c of CONFIGS) {
  const walls = results[c].map((r) => r.wall);
  const m = min(walls);
  const w = median(walls);
  console.log(`| ${c} | ${m.toFixed(2)} | ${(m / audioSeconds).toFixed(3)} | ${baseMin ? (m / baseMin).toFixed(2) + '×' : '—'} | ${w.toFixed(2)} | ${base ? (w / base).toFixed(2) + '×' : '—'} | ${Math.max(...results[c].map((r) => r.peakTreeMB))} | ${Math.max(...results[c].map((r) => r.peakLlamaMB))} | ${results[c].map((r) => r.load1).join(', ')} |`);
}
fs.rmSync(tmp, { recursive: true, force: true });
