#!/usr/bin/env node
/**
 * What one decode step costs with k sequences in it (issue 19): whether windows decoded together
 * share the weight reads. One llama-server (the text model only, `-np` = the largest k), k
 * `/completion` requests at once, each generating exactly N tokens (ignore_eos, no prompt cache);
 * the wall of the k requests over N is the cost of a step carrying k tokens.
 *
 *   npm run build    # this runs dist/
 *   QWEN3ASR_BIN_DIR=$(node bin/qwen3asr.js build --print-path) \
 *     node bench/decode-steps.mjs TEXT.gguf [--seqs 1,2,4,8] [--tokens 48] [--rounds 2] [--threads 2]
 *
 * Rounds interleave the k values; the minimum per k is reported, with every round's value. A
 * step with k tokens costs k × (one token's arithmetic) + one read of the weights, so
 * "ms per step" / "ms per token" tells how bandwidth-bound (shared) or compute-bound (not) it is.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { dist } from './dist.mjs';

const { freeLoopbackPort } = await dist('runner/local/free-port.js');
const { waitHealthy } = await dist('runner/local/health.js');

const args = process.argv.slice(2);
const text = args.find((a) => !a.startsWith('--') && !/^\d/.test(a));
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
if (!text || !process.env.QWEN3ASR_BIN_DIR) {
  console.error('usage: QWEN3ASR_BIN_DIR=<build>/bin node bench/decode-steps.mjs TEXT.gguf [--seqs 1,2,4,8] [--tokens N] [--rounds N] [--threads N]');
  process.exit(2);
}
const seqs = opt('seqs', '1,2,4,8').split(',').map(Number);
const tokens = Number(opt('tokens', '48'));
const rounds = Number(opt('rounds', '2'));
const threads = opt('threads', '2');

const port = await freeLoopbackPort();
const maxSeqs = Math.max(...seqs);
const server = spawn(path.join(process.env.QWEN3ASR_BIN_DIR, 'llama-server'), [
  '-m', text, '--host', '127.0.0.1', '--port', String(port), '-np', String(maxSeqs), '-c', String(maxSeqs * 512),
  '-t', threads, '--cont-batching', '--no-webui', '--no-warmup',
], { stdio: 'ignore' });
const stop = () => server.kill('SIGKILL');
process.on('exit', stop);

const url = `http://127.0.0.1:${port}`;
const health = await waitHealthy(url, { timeoutMs: 120_000, signal: new AbortController().signal, gone: () => server.exitCode !== null });
if (health !== 'healthy') throw new Error(`llama-server did not become healthy (${health})`);

const complete = async (i) => {
  const body = JSON.stringify({ prompt: `window ${i}:`, n_predict: tokens, ignore_eos: true, temperature: 0, cache_prompt: false });
  const r = await fetch(`${url}/completion`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const j = await r.json();
  if (j.timings?.predicted_n !== tokens) throw new Error(`expected ${tokens} tokens, got ${JSON.stringify(j).slice(0, 200)}`);
};

await complete(-1); // the first request pays for the compute buffers
const walls = new Map(seqs.map((k) => [k, []]));
for (let round = 0; round < rounds; round++) {
  for (const k of seqs) {
    const t = performance.now();
    await Promise.all(Array.from({ length: k }, (_, i) => complete(i)));
    walls.get(k).push(performance.now() - t);
  }
}
stop();

const one = Math.min(...walls.get(seqs[0])) / tokens;
console.log(`${path.basename(text)}, ${threads} threads, ${tokens} tokens per sequence, min of ${rounds}\n`);
console.log('| sequences | ms per step (rounds) | ms per token | tokens per s | vs one sequence per step |');
console.log('|---:|---|---:|---:|---:|');
for (const k of seqs) {
  const step = Math.min(...walls.get(k)) / tokens;
  const runs = walls.get(k).map((w) => (w / tokens).toFixed(1)).join(' ');
  console.log(`| ${k} | ${step.toFixed(1)} (${runs}) | ${(step / k).toFixed(1)} | ${((1000 * k) / step).toFixed(1)} | ${(step / one).toFixed(2)}× |`);
}
