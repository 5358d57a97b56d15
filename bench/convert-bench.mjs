#!/usr/bin/env node
// Converter benchmark: writes a synthetic checkpoint of the given shape (0.6b or 1.7b; the 1.7B
// one is ~4.7 GB of bf16 in two shards), converts it to GGUF, and reports wall time and peak RSS
// of each step (each in a child process). Needs `npm run build` first and ~10 GB free for 1.7b.
//   node bench/convert-bench.mjs [0.6b|1.7b] [work-dir] [outtype]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const shape = process.argv[2] ?? '1.7b';
const work = path.resolve(process.argv[3] ?? path.join(os.tmpdir(), `qwen3asr-convert-bench-${shape}`));
const outType = process.argv[4] ?? 'f16';
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'convert-child.mjs');
const dir = path.join(work, `Qwen3-ASR-${shape}`);
const out = path.join(work, 'out');
const run = (...args) => JSON.parse(execFileSync(process.execPath, [child, ...args], { encoding: 'utf8' }).trim().split('\n').pop());

fs.mkdirSync(work, { recursive: true });
const results = [];
if (!fs.existsSync(path.join(dir, 'config.json'))) results.push(run('generate', shape, dir));
results.push(run('convert', shape, dir, out, outType));
const sizes = Object.fromEntries(fs.readdirSync(out).map((f) => [f, +(fs.statSync(path.join(out, f)).size / 2 ** 30).toFixed(2)]));
for (const r of results) console.log(JSON.stringify(r));
console.log(JSON.stringify({ outputsGiB: sizes }));
