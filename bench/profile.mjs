#!/usr/bin/env node
/**
 * Where a window's time goes on the default runner (issue 19): the windows the CLI cuts, sent one
 * at a time to one warm llama-server started as the server runner starts it, each request built
 * as the runner builds it, every window generating exactly ceil(3.5 × window seconds) tokens
 * (ignore_eos, as QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 does).
 *
 *   npm run build    # (or npx tsc -p tsconfig.json) this runs dist/
 *   QWEN3ASR_BIN_DIR=~/.cache/qwen3asr/builds/cpu-<newest>/bin \
 *     node bench/profile.mjs TEXT.gguf MMPROJ.gguf AUDIO [--reps N] [--threads N] [--split-tokenize]
 *
 * A pass is what one CLI run does: decode the input and cut its windows, start the server, send
 * the windows in order. --reps N runs N passes and keeps the minimum of each phase (each phase on
 * its own: the minima come from different passes, so they may sum to less than the best pass).
 * Prints a markdown table (per phase: total ms, share of the pass's wall, per window, per audio
 * second), a per-window table, and one JSON line with the raw numbers of every pass.
 *
 * The phases of a pass; they add up to its wall time by construction, `unaccounted` is the check
 * (the bench loop itself, waiting for the log's last line included; it should stay within a few %):
 *   input          client: decodeInput + analyseSpeech + cutWindows (once per pass).
 *   server start   spawn → first 200 from /health, polled by the runner's own waitHealthy (its
 *                  50 ms polling step is part of what a run waits for).
 *   client build   client: the window's samples, the float WAV, base64, JSON.stringify of the
 *                  /completion body, and JSON.parse of the answer.
 *   http           client wall of the POST minus the server's logged span (below): loopback
 *                  transfer of the ~0.7 MB body, httplib reading it, the server's json::parse of
 *                  it (it runs before the first log line), the answer's serialisation and transfer.
 * The server's own span runs from its first log line for the request to its last; each request's
 * lines are timestamped by llama.cpp itself (--log-timestamps, µs) and mtmd's lines need -lv 4
 * (library INFO is logged at verbosity 4); these flags only add log lines, none per token.
 *   tokenize       "conv_id=" (the HTTP thread, right after json::parse) → "processing task" (the
 *                  slot takes the task): tokenize_input_prompts = base64 decode, WAV decode, the
 *                  mel spectrogram, text tokenisation; then queueing to the main loop.
 *   text prefill   the prompt's text tokens, two batches: "new prompt" (the start of the
 *                  server's prompt_ms) → "encoding mtmd batch" (the ~16 tokens before the audio),
 *                  and the last "audio decoded" → the end of prompt_ms (the ~9 tokens after it).
 *   encode         "encoding mtmd batch" → "decoding audio batch 1/n": mtmd_batch_encode, the
 *                  encoder graph's build, allocation and compute (the first window of a pass also
 *                  reserves its compute buffers: --no-warmup).
 *   audio prefill  "decoding audio batch 1/n" → "audio decoded (batch n/n)": llama_decode of the
 *                  audio embeddings into the KV cache (mtmd_helper_decode_image_chunk).
 *   generation     the answer's predicted_ms: from the end of the prompt to the last token,
 *                  predicted_n tokens in predicted_n − 1 decode steps (the first comes from the
 *                  prompt's logits), sampling and detokenising included.
 *   rest           server time none of the above explains: "processing task" → "new prompt"
 *                  (slot setup, sampler init) and the end of generation → "stop processing"
 *                  (the final result handed to the HTTP thread).
 * --split-tokenize (-lv 5 instead of 4; its ~14 debug lines per generated token cost a little
 * generation time) splits tokenize by mtmd's debug lines: media decode (base64, WAV decode), mel
 * (the spectrogram) and the rest (text tokens, task set-up, queueing).
 * Graph build/alloc of the text model is inside each of its phases (llama_decode does it; the
 * server reports graph reuse in its log). prompt_ms = text prefill + encode + audio prefill.
 *
 * One slot, windows in order: what the default runner does (--jobs 1); with more slots the
 * windows' phases would overlap and no longer add up.
 */
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { dist, windowsOf } from './dist.mjs';

const { serverArgs } = await dist('runner/local/server-process.js');
const { runnerExtraArgs } = await dist('pipeline/choose-runner.js');
const { prebuiltFromEnv } = await dist('llamacpp/index.js');
const { slotContextFor } = await dist('runner/local/server-runner.js');
const { waitHealthy } = await dist('runner/local/health.js');
const { freeLoopbackPort } = await dist('runner/local/free-port.js');
const { completionBody } = await dist('runner/http/llama-server-client.js');
const { modelRequest } = await dist('runner/request/decoder.js');
const { MEDIA_MARKER } = await dist('runner/request/prompt.js');
const { resolveModel } = await dist('models/resolve.js');
const { findOnPath } = await dist('util/which.js');
const { createLog } = await dist('util/log.js');

const RATE = 3.5;
/** The server's extra flags: timestamps on every line, and mtmd's lines (library INFO = -lv 4). */
const LOG_ARGS = ['--log-timestamps', '--log-prefix', '-lv', '4'];
/** --split-tokenize: debug lines too, which bracket the media decode and the mel spectrogram. */
const DEBUG_LOG_ARGS = ['--log-timestamps', '--log-prefix', '-lv', '5'];
const PHASES = ['input', 'server start', 'client build', 'http', 'tokenize', 'text prefill', 'encode', 'audio prefill', 'generation', 'rest', 'unaccounted'];
const WINDOW_PHASES = ['client build', 'http', 'tokenize', 'text prefill', 'encode', 'audio prefill', 'generation', 'rest'];
const SPLIT_PHASES = ['span', 'media decode', 'mel', 'tokenize other'];

const now = () => performance.now();

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { reps: { type: 'string', default: '1' }, threads: { type: 'string' }, 'split-tokenize': { type: 'boolean', default: false } },
  });
  if (positionals.length !== 3 || !process.env.QWEN3ASR_BIN_DIR) {
    console.error('usage: QWEN3ASR_BIN_DIR=<bin> node bench/profile.mjs TEXT.gguf MMPROJ.gguf AUDIO [--reps N] [--threads N] [--split-tokenize]');
    process.exit(2);
  }
  const [text, mmproj, audio] = positionals;
  return {
    text, mmproj, audio,
    reps: Math.max(1, Number(values.reps)),
    // The CLI's default: all cores.
    threads: Number(values.threads ?? os.availableParallelism()),
    bin: process.env.QWEN3ASR_BIN_DIR,
    logArgs: values['split-tokenize'] ? DEBUG_LOG_ARGS : LOG_ARGS,
  };
}

/** What the transcriber does before the first window: decode, find speech, cut. */
async function cutInput(file, windowSeconds) {
  const { audio, speech, windows } = await windowsOf(file, windowSeconds);
  return { audio, windows, duration: speech.duration };
}

/** One stderr line of the server: llama.cpp's own timestamp "M.SS.mmm.uuu" in µs, or null. */
function parseLogLine(line) {
  const m = /^(\d+)\.(\d{2})\.(\d{3})\.(\d{3}) \S (.*)$/.exec(line);
  if (!m) return null; // a continuation line of a multi-line entry
  return { us: ((Number(m[1]) * 60 + Number(m[2])) * 1000 + Number(m[3])) * 1000 + Number(m[4]), text: m[5] };
}

/** The server's log as it arrives, with a way to wait for a line (llama.cpp logs from its own thread, after the answer may have left). */
function serverLog(stream) {
  const lines = [];
  const waiters = new Set();
  readline.createInterface({ input: stream }).on('line', (raw) => {
    const line = parseLogLine(raw);
    if (!line) return;
    lines.push(line);
    for (const w of waiters) w();
  });
  const until = (from, re, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const i = lines.findIndex((l, k) => k >= from && re.test(l.text));
        if (i < 0) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(lines.slice(from, i + 1));
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no server log line ${re} within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  return { lines, until };
}

/**
 * The server as the runner starts it (serverArgs, slotContextFor, the media marker, setpriv so a
 * killed bench leaves no server behind), plus the log flags; stderr kept whole for the profile.
 */
async function startProfiledServer(opts, model) {
  const setup = {
    server: path.join(opts.bin, 'llama-server'),
    model: model.text,
    mmproj: model.mmproj,
    threads: opts.threads,
    slots: 1,
    slotContext: slotContextFor({ windowSeconds: model.windowSeconds, context: null, budget: { tokensPerSecond: RATE } }),
    // What the runner adds (load options, QWEN3ASR_EXTRA_ARGS), then the log flags.
    extraArgs: [...runnerExtraArgs(prebuiltFromEnv({ QWEN3ASR_BIN_DIR: opts.bin })), ...opts.logArgs],
  };
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const setpriv = findOnPath('setpriv');
  const args = serverArgs(setup, port);
  const [command, commandArgs] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', setup.server, ...args]] : [setup.server, args];
  const started = now();
  const child = spawn(command, commandArgs, { env: { ...process.env, LLAMA_MEDIA_MARKER: MEDIA_MARKER }, stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  const done = new Promise((resolve) => child.on('close', () => resolve((exited = true))));
  const log = serverLog(child.stderr);
  const health = await waitHealthy(url, { timeoutMs: 120_000, signal: new AbortController().signal, gone: () => exited });
  const startMs = now() - started;
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await done;
  };
  if (health !== 'healthy') {
    await stop();
    throw new Error(`llama-server did not start (${health}): ${log.lines.slice(-3).map((l) => l.text).join(' | ')}`);
  }
  // The server's own load time, by its clock (its log starts at process start).
  const listening = log.lines.find((l) => /listening on/.test(l.text));
  return { url, log, stop, startMs, loadMs: listening ? listening.us / 1000 : null };
}

/** POST as the runner does (node:http, the default agent); resolves with the answer's text. */
function post(url, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks = [];
      response.on('data', (c) => chunks.push(c));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text);
      });
    });
    request.end(body);
  });
}

/** The µs timestamp of the first (or last) line matching `re`; throws when the server printed none. */
function at(lines, re, which = 'first') {
  const hits = lines.filter((l) => re.test(l.text));
  if (hits.length === 0) throw new Error(`the server's log has no line ${re} for this request`);
  return (which === 'first' ? hits[0] : hits[hits.length - 1]).us;
}

/** Splits the server's span of one request by its log lines and its answer's timings (see the top). */
function serverPhases(lines, timings) {
  const request = at(lines, /conv_id=/);
  const taken = at(lines, /processing task/);
  const prompt = at(lines, /new prompt/);
  const encoding = at(lines, /encoding mtmd batch/);
  const audioFrom = at(lines, /decoding audio batch 1\//);
  const audioTo = at(lines, /audio decoded \(batch (\d+)\/\1\)/, 'last');
  const released = at(lines, /stop processing/, 'last');
  const promptEnd = prompt + timings.prompt_ms * 1000;
  const genEnd = promptEnd + timings.predicted_ms * 1000;
  const audioTokens = lines
    .map((l) => /decoding audio batch .*n_tokens_batch = (\d+)/.exec(l.text))
    .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
  const ms = (us) => us / 1000;
  return {
    span: ms(released - request),
    tokenize: ms(taken - request),
    'text prefill': ms(encoding - prompt + (promptEnd - audioTo)),
    encode: ms(audioFrom - encoding),
    'audio prefill': ms(audioTo - audioFrom),
    generation: timings.predicted_ms,
    rest: ms(prompt - taken + (released - genEnd)),
    promptTokens: timings.prompt_n,
    audioTokens,
    predicted: timings.predicted_n,
    ...tokenizeSplit(lines, request, taken),
  };
}

/**
 * With -lv 5, mtmd_tokenize's debug lines split `tokenize`: the request → its first text part
 * (base64 decode, WAV decode: mtmd_helper_bitmap_init_from_buf), the audio-begin text part → the
 * first audio chunk (the mel spectrogram), and the rest (text tokenisation, task set-up, queueing).
 */
function tokenizeSplit(lines, request, taken) {
  const firstChunk = lines.findIndex((l) => /audio_tokens->n_tokens/.test(l.text));
  const firstText = lines.findIndex((l) => /add_text:/.test(l.text));
  if (firstChunk < 0 || firstText < 0) return {};
  const melFrom = lines.slice(0, firstChunk).findLastIndex((l) => /add_text:/.test(l.text));
  const media = (lines[firstText].us - request) / 1000;
  const mel = (lines[firstChunk].us - lines[melFrom].us) / 1000;
  return { 'media decode': media, mel, 'tokenize other': (taken - request) / 1000 - media - mel };
}

/** One window, as the runner sends it; its phases in ms. */
async function profileWindow(server, audio, window) {
  const t0 = now();
  const request = modelRequest(audio, { start: window.start, end: window.end, name: String(window.index) }, { context: null, language: null }, { tokensPerSecond: RATE });
  const body = JSON.stringify(completionBody(request, MEDIA_MARKER));
  const t1 = now();
  const mark = server.log.lines.length;
  const text = await post(`${server.url}/completion`, body);
  const t2 = now();
  const answer = JSON.parse(text);
  const t3 = now();
  if (answer.tokens_predicted !== request.maxTokens) throw new Error(`window ${window.index}: ${answer.tokens_predicted} tokens, not ${request.maxTokens}`);
  const s = serverPhases(await server.log.until(mark, /stop processing/), answer.timings);
  return {
    index: window.index,
    seconds: request.samples.length / 16000,
    'client build': t1 - t0 + (t3 - t2),
    http: t2 - t1 - s.span,
    ...s,
  };
}

/** One CLI-like run: input, server start, every window; wall from the first byte read to the last answer. */
async function onePass(opts, model) {
  const t0 = now();
  const input = await cutInput(opts.audio, model.windowSeconds);
  const inputMs = now() - t0;
  let server;
  let end;
  const windows = [];
  try {
    server = await startProfiledServer(opts, model);
    for (const w of input.windows) {
      windows.push(await profileWindow(server, input.audio, w));
      // A long run on a busy machine shows where it is (and what it had, if it is killed).
      console.error(`window ${w.index + 1}/${input.windows.length}: ${fmt(windows.at(-1).span)} ms in the server`);
    }
    // The server's stop is not counted: a run's output is written before it.
    end = now();
  } finally {
    await server?.stop();
    input.audio.close();
  }
  const wall = end - t0;
  const phases = { input: inputMs, 'server start': server.startMs };
  for (const p of WINDOW_PHASES) phases[p] = sum(windows.map((w) => w[p]));
  phases.unaccounted = wall - sum(Object.values(phases));
  return { wall, audioSeconds: input.duration, serverLoadMs: server.loadMs, phases, windows };
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const min = (xs) => Math.min(...xs);
const fmt = (x, digits = 1) => x.toFixed(digits);

/** The minimum of each phase over the passes, and of each window's each phase. */
function minima(passes) {
  const phases = Object.fromEntries(PHASES.map((p) => [p, min(passes.map((r) => r.phases[p]))]));
  const windows = passes[0].windows.map((w, i) => ({
    ...w,
    ...Object.fromEntries([...WINDOW_PHASES, ...SPLIT_PHASES].filter((p) => p in w).map((p) => [p, min(passes.map((r) => r.windows[i][p]))])),
  }));
  return { phases, windows, wall: min(passes.map((r) => r.wall)) };
}

function phaseTable(m, audioSeconds) {
  const n = m.windows.length;
  const rows = PHASES.map((p) => {
    const v = m.phases[p];
    return `| ${p} | ${fmt(v)} | ${fmt((100 * v) / m.wall)} % | ${fmt(v / n)} | ${fmt(v / audioSeconds)} |`;
  });
  return [
    '| phase | total ms | share | ms per window | ms per audio s |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    `| **wall** | **${fmt(m.wall)}** | 100 % | ${fmt(m.wall / n)} | ${fmt(m.wall / audioSeconds)} |`,
  ].join('\n');
}

function windowTable(m) {
  const head = ['window', 's', 'tokens', ...WINDOW_PHASES];
  const rows = m.windows.map((w) => `| ${w.index} | ${fmt(w.seconds, 2)} | ${w.predicted} | ${WINDOW_PHASES.map((p) => fmt(w[p])).join(' | ')} |`);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---:').join('|')}|`, ...rows].join('\n');
}

/** Rates that make the phases comparable across models and files. */
function notes(m, audioSeconds) {
  const ws = m.windows;
  const steps = sum(ws.map((w) => w.predicted - 1));
  const audioTokens = sum(ws.map((w) => w.audioTokens));
  const textTokens = sum(ws.map((w) => w.promptTokens - w.audioTokens));
  const split = ws.every((w) => 'mel' in w)
    ? [`tokenize = media decode ${fmt(sum(ws.map((w) => w['media decode'])))} + mel ${fmt(sum(ws.map((w) => w.mel)))} + other ${fmt(sum(ws.map((w) => w['tokenize other'])))} ms (min per window)`]
    : [];
  return [
    `RTF ${fmt(m.wall / 1000 / audioSeconds, 3)} (${fmt(audioSeconds)} s of audio, ${ws.length} windows); ` +
      `the phase minima sum to ${fmt(sum(Object.values(m.phases)))} ms (= the wall with one pass)`,
    `generation ${fmt(m.phases.generation / steps, 2)} ms per decode step (${steps} steps); ` +
      `audio prefill ${fmt(m.phases['audio prefill'] / audioTokens, 2)} ms per audio token (${audioTokens}); ` +
      `text prefill ${fmt(m.phases['text prefill'] / textTokens, 2)} ms per text token (${textTokens}, in ${2 * ws.length} batches); ` +
      `encode ${fmt(m.phases.encode / audioSeconds)} ms per audio s`,
    ...split,
  ].join('\n');
}

/** The same pass's phases must be consistent: a negative HTTP share means the logs were misread. */
function checkPass(pass, i) {
  const bad = pass.windows.filter((w) => w.http < 0);
  if (bad.length) console.error(`pass ${i + 1}: windows ${bad.map((w) => w.index).join(',')} show the server's span longer than the client's wall`);
  const off = (100 * pass.phases.unaccounted) / pass.wall;
  console.error(`pass ${i + 1}: wall ${fmt(pass.wall)} ms, phases explain ${fmt(100 - off, 2)} %`);
}

const opts = options();
const model = await resolveModel(opts.text, opts.mmproj, createLog('quiet'));
const passes = [];
for (let i = 0; i < opts.reps; i++) {
  passes.push(await onePass(opts, model));
  checkPass(passes[i], i);
}
const audioSeconds = passes[0].audioSeconds;
const m = minima(passes);
console.log(`${path.basename(opts.text)} + ${path.basename(opts.mmproj)}, ${path.basename(opts.audio)}, ${opts.threads} threads, min of ${opts.reps} pass(es)\n`);
console.log(phaseTable(m, audioSeconds));
console.log();
console.log(windowTable(m));
console.log();
console.log(notes(m, audioSeconds));
console.log(JSON.stringify({ text: opts.text, mmproj: opts.mmproj, audio: opts.audio, threads: opts.threads, reps: opts.reps, audioSeconds, windowSeconds: model.windowSeconds, min: m.phases, minWall: m.wall, passes }));
