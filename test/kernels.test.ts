/**
 * The patch's CPU kernels against the ones they stand in for, with the real binaries: a kernel
 * that is only faster must give the same floats. Q6_K rows against four columns at once
 * (ggml-cpu/arch/x86/quants.c, ggml_vec_dot_q6_K_q8_K_x4; issue 19): a random Qwen3 text model
 * whose matrices are all Q6_K, answered by llama-server with the kernel and without it
 * (QWEN3ASR_ONE_COLUMN_Q6_K=1), four requests at once so that prefill and the decode steps both
 * take the four-column path: same text and same top-5 probabilities, to the last digit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PYTHON } from './helpers/upstream-convert.js';
import { readGgufHeader } from '../src/gguf/read-header.js';
import { freeLoopbackPort } from '../src/runner/local/free-port.js';
import { waitHealthy } from '../src/runner/local/health.js';

const GGUF_PY = process.env.QWEN3ASR_TEST_GGUF_PY ?? path.join(inject('llamaSource'), 'gguf-py');
const REF = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference');
const GGML_TYPE_Q6_K = 14;

let tmp = '';
let q6k = '';

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-kernels-test-'));
  const f16 = path.join(tmp, 'text256-f16.gguf');
  q6k = path.join(tmp, 'text256-q6_k.gguf');
  // n_embd 256: Q6_K needs rows of whole 256-value blocks (the 128-wide FFN's down matrix keeps another type)
  const made = spawnSync(PYTHON, [path.join(REF, 'make_text_model.py'), '--n-embd', '256', '--out', f16], {
    env: { ...process.env, PYTHONPATH: GGUF_PY }, encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`make_text_model.py failed:\n${made.stderr}`);
  const quantized = spawnSync(inject('quantize'), ['--pure', f16, q6k, 'Q6_K'], { encoding: 'utf8' });
  if (quantized.status !== 0) throw new Error(`llama-quantize failed:\n${quantized.stderr}`);
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Four completions at once from a llama-server on `model` (four slots), with `env` added. */
async function answers(model: string, env: Record<string, string>): Promise<unknown[]> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const server = execa(inject('server'), ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-np', '4', '-c', '2048', '-t', '2', '--no-warmup', '-fit', 'off'], {
    env, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', reject: false,
  });
  try {
    let exited = false;
    void server.then(() => (exited = true));
    expect(await waitHealthy(url, { timeoutMs: 60_000, signal: new AbortController().signal, gone: () => exited })).toBe('healthy');
    const prompts = ['The quick brown fox jumps over the lazy dog, again and again', 'Hello', 'Once upon a time, in a land far away, there lived', 'abc def ghi jkl mno pqr stu'];
    return await Promise.all(prompts.map(async (prompt) => {
      const r = await fetch(`${url}/completion`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, n_predict: 12, temperature: 0, n_probs: 5, cache_prompt: false }),
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { content: string; completion_probabilities: unknown[] };
      return { content: body.content, probs: body.completion_probabilities };
    }));
  } finally {
    server.kill('SIGTERM');
    await server;
  }
}

describe('Q6_K rows against four columns at once (x86 AVX2)', () => {
  it('the same text and the same probabilities as the one-column kernel', async () => {
    const types = readGgufHeader(q6k).tensors.filter((t) => t.shape.length === 2).map((t) => t.type);
    // most matrices are Q6_K, or the comparison would not reach the kernel
    expect(types.filter((t) => t === GGML_TYPE_Q6_K).length).toBeGreaterThan(types.length / 2);
    const four = await answers(q6k, {});
    const one = await answers(q6k, { QWEN3ASR_ONE_COLUMN_Q6_K: '1' });
    expect(JSON.stringify(four)).toBe(JSON.stringify(one));
    // random weights still give answers that differ between prompts: a meaningful comparison
    expect(new Set(four.map((a) => JSON.stringify(a))).size).toBe(4);
  });
});
