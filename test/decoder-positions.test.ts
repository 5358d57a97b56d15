// Decoder positions: the official Qwen3-ASR model gives every token (audio pads, audio markers,
// text) the same sequential index in all three M-RoPE rows, which is plain NEOX rotation, what a
// `qwen3` text file gets. Upstream's converter labels the same decoder `qwen3vl` (no deepstack
// layers), which unpatched llama.cpp runs with IMROPE and a 4th position component of 0 for text:
// that rotates the last sectors wrongly (measured on the files below with unpatched positions:
// hidden states off by 1.5e-4 to 4.9e-4 relative). The patch makes qwen3vl files without deepstack
// layers use NEOX positions, so the two labels of the same weights must give the very same numbers.
//
// Hidden states come from llama-server --embeddings --pooling none, on a prompt with an audio clip
// in the middle (the rows after the audio depend on the audio tokens' positions through attention).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer } from '../src/runner/local/server-process.js';
import { MEDIA_MARKER } from '../src/runner/request/prompt.js';
import { upstreamModelSet } from './helpers/upstream-convert.js';

const BIN_DIR = inject('binDir');
const GGUF_PY = process.env.QWEN3ASR_TEST_GGUF_PY ?? path.join(inject('llamaSource'), 'gguf-py');
const PYTHON = '/usr/bin/python3';
const REF = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference');

/** The official prompt around one audio clip, with a forced-language prefill: text on both sides. */
const PROMPT = `<|im_start|>system\nthe cat<|im_end|>\n<|im_start|>user\n<|audio_start|>${MEDIA_MARKER}<|audio_end|><|im_end|>\n`
  + '<|im_start|>assistant\nlanguage English<asr_text>the the';

describe('qwen3vl text files decode with the official (NEOX) positions', () => {
  let tmp = '';
  const f = (name: string) => path.join(tmp, name);

  function py(args: string[]): void {
    const r = spawnSync(PYTHON, args, { env: { ...process.env, PYTHONPATH: GGUF_PY }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${r.stderr}`);
  }

  /** Per-token hidden states (after the final norm) of PROMPT with the clip, from llama-server. */
  async function hiddenStates(model: string, mmproj: string, wav: string): Promise<number[][]> {
    const server = await startServer({
      server: path.join(BIN_DIR, 'llama-server'), model, mmproj, threads: 2, slots: 1, slotContext: 1024,
      extraArgs: ['--embeddings', '--pooling', 'none'],
    });
    try {
      const res = await fetch(`${server.url}/embedding`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: { prompt_string: PROMPT, multimodal_data: [fs.readFileSync(wav).toString('base64')] } }),
      });
      if (!res.ok) throw new Error(`/embedding answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { embedding: number[][] }[];
      return body[0].embedding;
    } finally {
      await server.stop();
    }
  }

  /** Greedy answer of llama-mtmd-cli (the subprocess runner's binary) on the same prompt. */
  function mtmdAnswer(model: string, mmproj: string, wav: string, tag: string): { text: string; n_prompt: number } {
    const result = f(`${tag}.json`);
    const r = spawnSync(path.join(BIN_DIR, 'llama-mtmd-cli'), [
      '-m', model, '--mmproj', mmproj, '--audio', wav, '-p', PROMPT, '-n', '16', '--ignore-eos',
      '--temp', '0', '-c', '1024', '-t', '2',
    ], { env: { ...process.env, MTMD_RAW_PROMPT: '1', MTMD_RESULT_FILE: result }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`llama-mtmd-cli failed (${r.status}):\n${r.stderr.slice(-3000)}`);
    return JSON.parse(fs.readFileSync(result, 'utf8'));
  }

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-positions-test-'));
    py([path.join(REF, 'make_mmproj.py'), '--shape', 'tiny', '--out', f('asr.gguf')]);
    // the released models' rotary layout: head_dim 128, sections [24, 20, 20, 0]
    for (const arch of ['qwen3', 'qwen3vl']) {
      py([path.join(REF, 'make_text_model.py'), '--arch', arch, '--head-dim', '128', '--out', f(`${arch}.gguf`)]);
    }
    py([path.join(REF, 'qwen3asr_encoder.py'), 'wav', '--seconds', '8.01', '--out', f('clip.wav')]);
  });
  afterAll(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

  it('gguf-py files: qwen3vl hidden states are bit-identical to qwen3 ones (real rotary layout)', async () => {
    const plain = await hiddenStates(f('qwen3.gguf'), f('asr.gguf'), f('clip.wav'));
    const vl = await hiddenStates(f('qwen3vl.gguf'), f('asr.gguf'), f('clip.wav'));
    expect(plain.length).toBeGreaterThan(10);
    expect(vl).toEqual(plain);
  });

  it('llama-mtmd-cli gives both labels the same greedy answer', () => {
    const plain = mtmdAnswer(f('qwen3.gguf'), f('asr.gguf'), f('clip.wav'), 'mtmd-qwen3');
    const vl = mtmdAnswer(f('qwen3vl.gguf'), f('asr.gguf'), f('clip.wav'), 'mtmd-qwen3vl');
    expect(vl).toMatchObject({ text: plain.text, n_prompt: plain.n_prompt });
  });

  it('upstream-converted qwen3vl file vs our qwen3 file of the same checkpoint: bit-identical', async () => {
    // upstream's text tensors are byte-identical to our converter's (tiny head_dim 16, sections [4, 2, 2, 0])
    const set = await upstreamModelSet({ llamaSource: inject('llamaSource') });
    const upstream = await set.upstream('f16');
    const ours = await set.ours('f16');
    const plain = await hiddenStates(ours.text, ours.mmproj, f('clip.wav'));
    const vl = await hiddenStates(upstream.text, ours.mmproj, f('clip.wav'));
    expect(plain.length).toBeGreaterThan(10);
    expect(vl).toEqual(plain);
  }, 300_000);
});
