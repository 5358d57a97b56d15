#!/usr/bin/env node
/**
 * The forced aligner's own time on a file, as the pipeline spends it: the same windows
 * (analyseSpeech + cutWindows, 8 s), each window's words aligned through startAligner (the warm
 * llama-server the CLI starts). A synthetic ASR model writes no words, so each window gets the
 * words of bench/speech.txt in reading order at the file's speaking rate (espeak -s 150: 2.5
 * words per second of speech): the aligner's work (encoder, one prefill over audio and words, the
 * head at each <timestamp>) is then the real one's. Prints one JSON line: seconds, words, windows.
 *
 *   npm run build && QWEN3ASR_BIN_DIR=<bin> node bench/align-cost.mjs ALIGNER-TEXT.gguf AUDIO.wav [threads]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HERE, dist, windowsOf } from './dist.mjs';

const { startAligner } = await dist('align/aligner.js');
const { readSeconds } = await dist('audio/audio.js');
const { resolveModel } = await dist('models/resolve.js');
const { createLog } = await dist('util/log.js');
const { loadArgs } = await dist('llamacpp/load-args.js');
const { prebuiltFromEnv } = await dist('llamacpp/index.js');

const [alignerText, audioFile, threadsArg] = process.argv.slice(2);
if (!audioFile || !process.env.QWEN3ASR_BIN_DIR) {
  console.error('usage: QWEN3ASR_BIN_DIR=<bin> node bench/align-cost.mjs ALIGNER-TEXT.gguf AUDIO.wav [threads]');
  process.exit(2);
}
const WORDS_PER_SECOND = 2.5;
const log = createLog('quiet');
const { audio, speech, windows } = await windowsOf(audioFile, 8);
const words = fs.readFileSync(path.join(HERE, 'speech.txt'), 'utf8').split(/\s+/).filter(Boolean);
const started = process.hrtime.bigint(); // the server's start counts: the CLI waits for it too
const files = await resolveModel(alignerText, null, log);
const aligner = await startAligner({
  server: path.join(process.env.QWEN3ASR_BIN_DIR, 'llama-server'),
  loadArgs: loadArgs(prebuiltFromEnv()),
  files,
  threads: Number(threadsArg ?? os.availableParallelism()),
  windowSeconds: 8,
  timeoutMs: 600_000,
  log,
});
let next = 0;
let aligned = 0;
try {
  for (const window of windows) {
    const spoken = window.speech.reduce((s, r) => s + (r.end - r.start), 0);
    const n = Math.max(1, Math.round(spoken * WORDS_PER_SECOND));
    const text = Array.from({ length: n }, (_, i) => words[(next + i) % words.length]).join(' ');
    next += n;
    const samples = readSeconds(audio, window.start, window.end);
    const got = await aligner.align({ window, language: 'English', text, ms: 0, stop: 'eos', tokens: 0 }, samples);
    aligned += got?.length ?? 0;
  }
} finally {
  await aligner.close();
  audio.close();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ seconds: +seconds.toFixed(2), windows: windows.length, words: aligned, audioSeconds: +speech.duration.toFixed(2) }));
