// Qwen3-ForcedAligner checkpoints: the synthetic generator against the official layout, the
// converter's text GGUF contract (cls head, classifier keys, <timestamp> token) read back with
// gguf-py (an independent reader), and the float64 reference's decoder (test/reference/qwen3_aligner.py)
// against llama.cpp's qwen3 decoder on a plain qwen3 GGUF of the same weights. The aligner itself
// (cls head output) is compared with the patched llama.cpp elsewhere, once the patch lands; until
// then the build's loader accepts our file (it knows cls.output from Qwen3 rerankers) but cannot
// return the head's output, so only /tokenize runs on it here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../src/cli.js';
import { openCheckpoint } from '../src/convert/checkpoint.js';
import { writeGguf } from '../src/convert/convert-checkpoint.js';
import { textMetadata } from '../src/convert/gguf-metadata.js';
import { readQwen3AsrConfig } from '../src/convert/qwen3asr-config.js';
import { planTextTensors } from '../src/convert/qwen3asr-tensors.js';
import { buildGgufVocab, readSourceTokenizer } from '../src/convert/tokenizer.js';
import { ALIGNER_DIMS, alignerVocabSize } from '../src/synthetic/synthetic-aligner.js';
import { syntheticTensorSpecs } from '../src/synthetic/synthetic.js';
import { alignerVocab, tokenId } from '../src/synthetic/synthetic-vocab.js';
import { syntheticAligner, type SyntheticAligner } from './helpers/models.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REF = path.join(HERE, 'reference');
// The official checkpoint's facts (config, tokenizer config, tensor names and shapes), kept beside the tests.
const OFFICIAL = path.join(HERE, 'fixtures', 'forced-aligner');
const PYTHON = '/usr/bin/python3';
const BIN_DIR = inject('binDir');
const GGUF_PY = process.env.QWEN3ASR_TEST_GGUF_PY ?? path.join(inject('llamaSource') || path.join(os.homedir(), '.cache/qwen3asr/src/llama.cpp-fd570ef5'), 'gguf-py');

function py(args: string[]): any {
  const r = spawnSync(PYTHON, args, { env: { ...process.env, PYTHONPATH: GGUF_PY }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
const summary = (file: string) => py([path.join(REF, 'gguf_summary.py'), file, '--full-arrays']) as { metadata: Record<string, any>; tensors: Record<string, { type: string; shape: number[] }> };
const readF32 = (file: string) => {
  const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { rows: number; cols: number };
  const b = fs.readFileSync(file);
  return { ...meta, data: new Float32Array(b.buffer, b.byteOffset, b.length / 4) };
};

async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const e = process.stderr.write;
  process.stderr.write = ((s: string) => ((err += String(s)), true)) as typeof process.stderr.write;
  const o = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return { code: await main(['node', 'qwen3asr', ...args]), err };
  } finally {
    process.stderr.write = e;
    process.stdout.write = o;
  }
}

/** A llama-server on `model`; resolves once /health answers. */
async function startServer(model: string, extra: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(path.join(BIN_DIR, 'llama-server'), ['-m', model, '--port', String(port), '-c', '512', '-t', '2', ...extra], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`llama-server exited with ${proc.exitCode}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) return { url, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error('llama-server did not start');
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-aligner-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('synthetic aligner checkpoint', () => {
  it('0.6b has exactly the official tensors: names, shapes, 708 of them', () => {
    const official = JSON.parse(fs.readFileSync(path.join(OFFICIAL, 'tensors.json'), 'utf8')) as {
      tensors: { name: string; shape: number[] }[];
    };
    const ours = syntheticTensorSpecs(ALIGNER_DIMS['0.6b'], alignerVocabSize('0.6b'), true, 5000).map((s) => ({ name: s.name, shape: [...s.shape] }));
    expect(ours).toEqual(official.tensors.map((t) => ({ name: t.name, shape: t.shape })));
  });

  it('config.json and tokenizer_config.json have the official keys; <timestamp> follows the ASR tokens', async () => {
    const m = await syntheticAligner('tiny');
    const keys = (o: unknown, at = ''): string[] =>
      o && typeof o === 'object' && !Array.isArray(o) ? Object.entries(o).flatMap(([k, v]) => [`${at}${k}`, ...keys(v, `${at}${k}.`)]) : [];
    const read = (dir: string, f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    const real = OFFICIAL;
    const cfg = read(m.dir, 'config.json');
    expect(keys(cfg).filter((k) => !k.includes('id2label') && !k.includes('label2id')).sort()).toEqual(
      keys(read(real, 'config.json')).filter((k) => !k.includes('id2label') && !k.includes('label2id')).sort(),
    );
    expect(cfg.thinker_config.model_type).toBe('qwen3_forced_aligner');
    expect(cfg.thinker_config.classify_num).toBe(5000);
    expect(cfg.timestamp_segment_time).toBe(80);
    expect(cfg.thinker_config.text_config.tie_word_embeddings).toBe(false);
    const v = alignerVocab();
    expect(cfg.timestamp_token_id).toBe(tokenId(v, '<timestamp>'));
    const dec = read(m.dir, 'tokenizer_config.json').added_tokens_decoder as Record<string, { content: string; special: boolean }>;
    expect(dec[String(cfg.timestamp_token_id)]).toMatchObject({ content: '<timestamp>', special: false });
    expect(dec[String(cfg.timestamp_token_id - 1)].content).toBe('<asr_text>');
    // The real aligner: <asr_text> 151704, <timestamp> 151705, same distance from <|endoftext|>.
    expect(cfg.timestamp_token_id - tokenId(v, '<|endoftext|>')).toBe(151705 - 151643);
  });
});

describe('aligner conversion', () => {
  let f16: SyntheticAligner;
  let q8: SyntheticAligner;
  beforeAll(async () => {
    f16 = await syntheticAligner('tiny');
    q8 = await syntheticAligner('tiny', { outType: 'q8_0' });
  });

  it('writes the text GGUF contract: qwen3 with a cls head, classifier keys, aligner keys', () => {
    expect(path.basename(f16.text)).toBe('Qwen3-ForcedAligner-tiny-text-f16.gguf');
    const { metadata: m, tensors: t } = summary(f16.text);
    expect(m['general.architecture']).toBe('qwen3');
    expect(m['qwen3.embedding_length_out']).toBe(5000);
    expect(m['qwen3.pooling_type']).toBe(0);
    expect(m['qwen3asr.aligner.segment_ms']).toBe(80);
    const tsId = tokenId(alignerVocab(), '<timestamp>');
    expect(m['qwen3asr.aligner.timestamp_token_id']).toBe(tsId);
    const labels = m['qwen3.classifier.output_labels'] as string[];
    expect(labels.length).toBe(5000);
    expect([labels[0], labels[1], labels[4999]]).toEqual(['0', '80', '399920']);
    expect(t['cls.output.weight']).toEqual({ type: 'F16', shape: [64, 5000] });
    expect(t['output.weight']).toBeUndefined();
    expect(t['token_embd.weight'].shape).toEqual([64, alignerVocabSize('tiny')]);
    expect(Object.keys(t).length).toBe(3 + 2 * 11);
    // user-defined (4), not control: the prompt names it as plain text
    expect(m['tokenizer.ggml.tokens'][tsId]).toBe('<timestamp>');
    expect(m['tokenizer.ggml.token_type'][tsId]).toBe(4);
  });

  it('writes the mmproj as for Qwen3-ASR (qwen3asr format)', () => {
    const { metadata: m, tensors: t } = summary(f16.mmproj);
    expect(m['clip.audio.projector_type']).toBe('qwen3asr');
    expect(m['clip.audio.projection_dim']).toBe(64);
    expect(m['clip.audio.n_window']).toBe(50);
    expect(t['mm.a.mlp.2.weight'].shape).toEqual([64, 64]);
  });

  it('q8_0 quantizes the cls head like every other matrix (as llama-quantize does)', () => {
    const { metadata: m, tensors: t } = summary(q8.text);
    expect(m['general.file_type']).toBe(7);
    expect(t['cls.output.weight']).toEqual({ type: 'Q8_0', shape: [64, 5000] });
  });

  it('rejects ASR-only options for the aligner with a one-line usage error', async () => {
    let r = await cli('convert', f16.dir, '-o', path.join(tmp, 'x'), '--mmproj-format', 'qwen3a');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^qwen3asr: --mmproj-format qwen3a is for Qwen3-ASR only[^\n]*\n$/);
    r = await cli('convert', '--synthetic', 'tiny', '--aligner', '--script', 'hi', '-o', path.join(tmp, 'y'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^qwen3asr: --script is for a synthetic Qwen3-ASR model[^\n]*\n$/);
    r = await cli('convert', '--synthetic', '1.7b', '--aligner', '-o', path.join(tmp, 'z'));
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(tmp, 'x'))).toBe(false);
  });

  it('llama-server tokenizes <timestamp> to the config id (no warmup: the build cannot run the head yet)', async () => {
    const { url, proc } = await startServer(f16.text, ['--no-warmup']);
    try {
      const res = (await (await fetch(`${url}/tokenize`, { method: 'POST', body: JSON.stringify({ content: 'hello<timestamp><timestamp>' }) })).json()) as { tokens: number[] };
      const tsId = tokenId(alignerVocab(), '<timestamp>');
      expect(res.tokens.slice(-2)).toEqual([tsId, tsId]);
    } finally {
      proc.kill();
    }
  });
});

describe('float64 aligner reference (test/reference/qwen3_aligner.py)', () => {
  let m: SyntheticAligner;
  let plain = '';
  beforeAll(async () => {
    m = await syntheticAligner('tiny', { outType: 'f32' });
    // The same checkpoint as a plain qwen3 text model (no cls head, no aligner keys, tied output),
    // which the current build runs: its hidden states check the reference's decoder.
    const cfg = readQwen3AsrConfig(m.dir);
    const asPlain = { ...cfg, kind: 'asr' as const, aligner: undefined };
    const tensors = new Map((await openCheckpoint(m.dir)).tensors);
    tensors.delete('thinker.lm_head.weight');
    const vocab = buildGgufVocab(readSourceTokenizer(m.dir), cfg.text.vocabSize);
    plain = path.join(tmp, 'plain-f32.gguf');
    await writeGguf(plain, textMetadata('plain', asPlain, vocab, 'f32'), planTextTensors(asPlain, tensors, 'f32'), 'text');
  });

  it('its decoder agrees with llama.cpp (qwen3, f32 weights, pooling none) on every position', async () => {
    const ts = tokenId(alignerVocab(), '<timestamp>');
    const ids = [300, ts, ts, 301, 302, ts, ts, 5, 600, 40, 41, ts, ts, 250, 251, 252, ts, ts];
    const hid = path.join(tmp, 'hidden.f32');
    const out = py([path.join(REF, 'qwen3_aligner.py'), 'align', '--text', m.text, '--ids', ids.join(','), '--out-hidden', hid]);
    expect(out.n_positions).toBe(ids.length);
    expect(out.timestamps.map((s: { pos: number }) => s.pos)).toEqual(ids.flatMap((t, i) => (t === ts ? [i] : [])));
    const ref = readF32(hid);
    const { url, proc } = await startServer(plain, ['--embeddings', '--pooling', 'none', '-ctk', 'f32', '-ctv', 'f32', '-fa', 'off']);
    let got: number[][];
    try {
      const res = (await (await fetch(`${url}/embedding`, { method: 'POST', body: JSON.stringify({ content: ids }) })).json()) as { embedding: number[][] }[];
      got = res[0].embedding;
    } finally {
      proc.kill();
    }
    expect(got.length).toBe(ref.rows);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < ref.rows; i++) {
      for (let j = 0; j < ref.cols; j++) {
        const r = ref.data[i * ref.cols + j];
        diff = Math.max(diff, Math.abs(got[i][j] - r));
        scale = Math.max(scale, Math.abs(r));
      }
    }
    console.log(`aligner reference decoder vs llama.cpp: max |diff| ${diff.toExponential(2)}, max |ref| ${scale.toFixed(3)}`);
    // Measured 2.8e-7 (f32 weights, f32 KV cache; the default f16 cache alone costs ~1e-3).
    expect(diff / scale).toBeLessThan(1e-5);
  });

  it('runs audio + text end to end: one class per <timestamp>, logits and hidden rows written', () => {
    const wav = path.join(tmp, 'a.wav');
    py([path.join(REF, 'qwen3asr_encoder.py'), 'wav', '--seconds', '2.3', '--out', wav]);
    const logits = path.join(tmp, 'logits.f32');
    const hidden = path.join(tmp, 'hidden-audio.f32');
    const ts = tokenId(alignerVocab(), '<timestamp>');
    const ids = [300, ts, ts, 301, 302, ts, ts];
    const out = py([path.join(REF, 'qwen3_aligner.py'), 'align', '--text', m.text, '--mmproj', m.mmproj, '--wav', wav, '--ids', ids.join(','),
      '--out-logits', logits, '--out-hidden', hidden]);
    // 2.3 s = 230 frames: 2 chunks of 100 frames (13 rows each) + 30 frames (4 rows)
    expect(out.n_audio).toBe(30);
    expect(out.n_positions).toBe(2 + 30 + ids.length);
    expect(out.timestamps.map((s: { pos: number }) => s.pos)).toEqual([33, 34, 37, 38]);
    for (const s of out.timestamps) {
      expect(s.cls).toBeGreaterThanOrEqual(0);
      expect(s.cls).toBeLessThan(5000);
      expect(s.ms).toBe(s.cls * 80);
      expect(s.margin).toBeGreaterThanOrEqual(0);
    }
    expect(readF32(logits)).toMatchObject({ rows: 4, cols: 5000 });
    expect(readF32(hidden)).toMatchObject({ rows: 39, cols: 64 });
  });
});
