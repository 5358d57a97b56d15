import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gguf } from '@huggingface/gguf';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { convertCheckpoint } from '../src/convert/convert-checkpoint.js';
import { generateSynthetic, syntheticVocabSize } from '../src/synthetic/synthetic.js';
import { tinyVocab, tokenId } from '../src/synthetic/synthetic-vocab.js';
import { UserError } from '../src/errors.js';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { BIN } from './helpers/cli.js';
import { pcm16WavHeader } from './fixtures/wav.js';

type Parsed = Awaited<ReturnType<typeof readGguf>>;

async function readGguf(file: string) {
  const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
  const meta = metadata as unknown as Record<string, unknown>;
  const tensors = new Map(tensorInfos.map((t) => [t.name, { shape: t.shape.map(Number), dtype: Number(t.dtype), offset: Number(t.offset) }]));
  return { meta, tensors, dataStart: Number(tensorDataOffset), file };
}

function tensorBytes(g: Parsed, name: string, bytes: number): Buffer {
  const t = g.tensors.get(name)!;
  const fd = fs.openSync(g.file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    fs.readSync(fd, buf, 0, bytes, g.dataStart + t.offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

const F32 = 0;
const F16 = 1;
const Q8_0 = 8;

let model: SyntheticModel;
let text: Parsed;
let mmproj: Parsed;
let mmprojA: Parsed;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-convert-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny');
  [text, mmproj, mmprojA] = await Promise.all([readGguf(model.text), readGguf(model.mmproj), readGguf(model.mmprojQwen3a)]);
});

describe('text GGUF', () => {
  it('carries the qwen3 hyperparameters of the config', () => {
    expect(text.meta['general.architecture']).toBe('qwen3');
    expect(text.meta['general.alignment']).toBe(32);
    expect(text.meta['general.file_type']).toBe(1);
    expect(text.meta['qwen3.block_count']).toBe(2);
    expect(text.meta['qwen3.embedding_length']).toBe(64);
    expect(text.meta['qwen3.feed_forward_length']).toBe(128);
    expect(text.meta['qwen3.attention.head_count']).toBe(4);
    expect(text.meta['qwen3.attention.head_count_kv']).toBe(2);
    expect(text.meta['qwen3.attention.key_length']).toBe(16);
    expect(text.meta['qwen3.attention.value_length']).toBe(16);
    expect(text.meta['qwen3.context_length']).toBe(65536);
    expect(text.meta['qwen3.rope.freq_base']).toBe(1e6);
    expect(text.meta['qwen3.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-6, 12);
  });

  it('has the byte-level BPE vocabulary with llama.cpp token types and Qwen3-ASR special ids', () => {
    const v = tinyVocab();
    const size = syntheticVocabSize('tiny');
    const tokens = text.meta['tokenizer.ggml.tokens'] as string[];
    const types = text.meta['tokenizer.ggml.token_type'] as number[];
    expect(text.meta['tokenizer.ggml.model']).toBe('gpt2');
    expect(text.meta['tokenizer.ggml.pre']).toBe('qwen2');
    expect(size % 64).toBe(0);
    expect(tokens.length).toBe(size);
    expect(types.length).toBe(size);
    expect((text.meta['tokenizer.ggml.merges'] as string[]).length).toBe(v.merges.length);
    const id = (t: string) => tokenId(v, t);
    expect(text.meta['tokenizer.ggml.eos_token_id']).toBe(id('<|im_end|>'));
    expect(text.meta['tokenizer.ggml.eot_token_id']).toBe(id('<|im_end|>'));
    expect(text.meta['tokenizer.ggml.padding_token_id']).toBe(id('<|endoftext|>'));
    expect(text.meta['tokenizer.ggml.bos_token_id']).toBe(id('<|endoftext|>'));
    expect(text.meta['tokenizer.ggml.add_bos_token']).toBe(false);
    expect(types[id('Ġthe')]).toBe(1);
    expect(types[id('<|im_end|>')]).toBe(3);
    expect(types[id('<|audio_pad|>')]).toBe(3);
    expect(types[id('<|fim_prefix|>')]).toBe(3); // non-special but <|…|>: control, as upstream
    expect(types[id('<tool_call>')]).toBe(4);
    expect(types[id('<non_speech>')]).toBe(4);
    expect(types[id('<asr_text>')]).toBe(4);
    expect(tokens[size - 1]).toBe(`[PAD${size - 1}]`);
    expect(types[size - 1]).toBe(5);
    const template = JSON.parse(fs.readFileSync(path.join(model.dir, 'chat_template.json'), 'utf8')).chat_template;
    expect(text.meta['tokenizer.chat_template']).toBe(template);
  });

  it('maps every decoder tensor with ggml shapes and types', () => {
    const names = [...text.tensors.keys()];
    expect(names.length).toBe(3 + 11 * 2);
    expect(text.tensors.get('token_embd.weight')).toMatchObject({ shape: [64, syntheticVocabSize('tiny')], dtype: F16 });
    expect(text.tensors.get('output.weight')).toMatchObject({ shape: [64, syntheticVocabSize('tiny')], dtype: F16 });
    expect(text.tensors.get('output_norm.weight')).toMatchObject({ shape: [64], dtype: F32 });
    for (const [n, shape, dtype] of [
      ['attn_norm', [64], F32],
      ['attn_q', [64, 64], F16],
      ['attn_k', [64, 32], F16],
      ['attn_v', [64, 32], F16],
      ['attn_output', [64, 64], F16],
      ['attn_q_norm', [16], F32],
      ['attn_k_norm', [16], F32],
      ['ffn_norm', [64], F32],
      ['ffn_gate', [64, 128], F16],
      ['ffn_up', [64, 128], F16],
      ['ffn_down', [128, 64], F16],
    ] as const) {
      expect(text.tensors.get(`blk.1.${n}.weight`), n).toMatchObject({ shape, dtype });
    }
  });
});

describe('mmproj GGUF', () => {
  it('writes upstream qwen3a keys, and ours adds the window keys', () => {
    for (const g of [mmproj, mmprojA]) {
      expect(g.meta['general.architecture']).toBe('clip');
      expect(g.meta['clip.has_audio_encoder']).toBe(true);
      expect(g.meta['clip.audio.embedding_length']).toBe(64);
      expect(g.meta['clip.audio.feed_forward_length']).toBe(128);
      expect(g.meta['clip.audio.block_count']).toBe(2);
      expect(g.meta['clip.audio.attention.head_count']).toBe(4);
      expect(g.meta['clip.audio.num_mel_bins']).toBe(128);
      expect(g.meta['clip.audio.projection_dim']).toBe(64);
      expect(g.meta['clip.audio.attention.layer_norm_epsilon']).toBeCloseTo(1e-5, 10);
    }
    expect(mmprojA.meta['clip.audio.projector_type']).toBe('qwen3a');
    expect(mmproj.meta['clip.audio.projector_type']).toBe('qwen3asr');
    expect(mmprojA.meta['clip.audio.n_window']).toBeUndefined();
    expect(mmproj.meta['clip.audio.n_window']).toBe(50);
    expect(mmproj.meta['clip.audio.n_window_infer']).toBe(800);
    expect(mmproj.meta['clip.audio.downsample_hidden_size']).toBe(32);
    expect(mmproj.meta['clip.audio.max_source_positions']).toBe(1500);
    expect(mmproj.meta['clip.audio.conv_chunksize']).toBe(500);
  });

  it('names, shapes and types the audio tensors like upstream', () => {
    for (const g of [mmproj, mmprojA]) {
      expect(g.tensors.size).toBe(1 + 13 + 16 * 2);
      expect(g.tensors.get('a.conv2d.1.weight')).toMatchObject({ shape: [3, 3, 1, 32], dtype: F16 });
      expect(g.tensors.get('a.conv2d.3.weight')).toMatchObject({ shape: [3, 3, 32, 32], dtype: F16 });
      expect(g.tensors.get('a.conv2d.2.bias')).toMatchObject({ shape: [1, 1, 32], dtype: F32 });
      expect(g.tensors.get('a.conv_out.weight')).toMatchObject({ shape: [512, 64], dtype: F16 });
      expect(g.tensors.has('a.conv_out.bias')).toBe(false);
      expect(g.tensors.get('a.blk.1.attn_k.bias')).toMatchObject({ shape: [64], dtype: F32 });
      expect(g.tensors.get('a.blk.0.ln1.weight')).toMatchObject({ shape: [64], dtype: F32 });
      expect(g.tensors.get('a.blk.0.ln2.bias')).toMatchObject({ shape: [64], dtype: F32 });
      expect(g.tensors.get('a.blk.0.ffn_up.weight')).toMatchObject({ shape: [64, 128], dtype: F16 });
      expect(g.tensors.get('a.blk.0.ffn_down.weight')).toMatchObject({ shape: [128, 64], dtype: F16 });
      expect(g.tensors.get('a.blk.0.attn_out.weight')).toMatchObject({ shape: [64, 64], dtype: F16 });
      expect(g.tensors.get('a.post_ln.weight')).toMatchObject({ shape: [64], dtype: F32 });
      expect(g.tensors.get('mm.a.mlp.1.weight')).toMatchObject({ shape: [64, 64], dtype: F16 });
      expect(g.tensors.get('mm.a.mlp.2.bias')).toMatchObject({ shape: [64], dtype: F32 });
      expect(g.tensors.get('a.position_embd.weight')).toMatchObject({ shape: [64, 1500], dtype: F32 });
    }
  });

  it('holds the concatenated sin/cos position table', () => {
    const C = 64;
    const rows = tensorBytes(mmproj, 'a.position_embd.weight', C * 4 * 1500);
    const at = (p: number, c: number) => rows.readFloatLE((p * C + c) * 4);
    const inv = (c: number) => Math.exp((-c * Math.log(10000)) / (C / 2 - 1));
    for (const p of [0, 1, 12, 777, 1499]) {
      for (const c of [0, 1, 17, 31]) {
        expect(at(p, c)).toBeCloseTo(Math.sin(p * inv(c)), 4);
        expect(at(p, C / 2 + c)).toBeCloseTo(Math.cos(p * inv(c)), 4);
      }
    }
    expect(tensorBytes(mmprojA, 'a.position_embd.weight', C * 4 * 1500).equals(rows)).toBe(true);
  });
});

describe('checkpoint variants', () => {
  it('omits output.weight for a tied checkpoint (no lm_head)', async () => {
    const tied = await ensureSyntheticModel('tiny', { tied: true });
    const g = await readGguf(tied.text);
    expect(g.tensors.has('output.weight')).toBe(false);
    expect(g.tensors.has('token_embd.weight')).toBe(true);
  });

  it('follows a sharded index to the same GGUF as the single file', async () => {
    const { openCheckpoint } = await import('../src/convert/checkpoint.js');
    const { readTensorBytes, writeSafetensors } = await import('../src/convert/safetensors.js');
    const dir = path.join(tmp, 'Qwen3-ASR-tiny');
    fs.cpSync(model.dir, dir, { recursive: true });
    const entries = [...(await openCheckpoint(dir)).tensors.values()];
    const cut = Math.floor(entries.length / 3);
    const weightMap: Record<string, string> = {};
    for (const [i, part] of [entries.slice(0, cut), entries.slice(cut)].entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const srcs = await Promise.all(part.map(async (e) => ({ ...e, data: async function* () { yield await readTensorBytes(e); } })));
      await writeSafetensors(path.join(dir, file), srcs);
      for (const e of part) weightMap[e.name] = file;
    }
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const out = path.join(tmp, 'sharded-out');
    const r = await convertCheckpoint({ modelDir: dir, outDir: out });
    expect(fs.readFileSync(r.text).equals(fs.readFileSync(model.text))).toBe(true);
    expect(fs.readFileSync(r.mmproj).equals(fs.readFileSync(model.mmproj))).toBe(true);
  });

  it('reads tokenizer.json when vocab.json and merges.txt are absent', async () => {
    const dir = path.join(tmp, 'tokjson', 'Qwen3-ASR-tiny');
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.cpSync(model.dir, dir, { recursive: true });
    const v = tinyVocab();
    const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    const added = Object.entries(cfg.added_tokens_decoder as Record<string, { content: string; special: boolean }>).map(([id, t]) => ({
      id: Number(id), content: t.content, special: t.special,
    }));
    const tokenizerJson = { model: { type: 'BPE', vocab, merges: v.merges.map((m) => m.split(' ')) }, added_tokens: added };
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
    fs.rmSync(path.join(dir, 'vocab.json'));
    fs.rmSync(path.join(dir, 'merges.txt'));
    const r = await convertCheckpoint({ modelDir: dir, outDir: path.join(tmp, 'tokjson', 'out') });
    expect(fs.readFileSync(r.text).equals(fs.readFileSync(model.text))).toBe(true);
  });

  it('writes f32 and q8_0 with the types llama.cpp expects', async () => {
    const f32 = await convertCheckpoint({ modelDir: model.dir, outDir: path.join(tmp, 'f32'), outType: 'f32' });
    const q8 = await convertCheckpoint({ modelDir: model.dir, outDir: path.join(tmp, 'q8'), outType: 'q8_0', mmprojFormat: 'qwen3a' });
    expect(path.basename(f32.text)).toBe('Qwen3-ASR-tiny-text-f32.gguf');
    expect(path.basename(q8.mmproj)).toBe('Qwen3-ASR-tiny-mmproj-q8_0.gguf');
    const [t32, m32, t8, m8] = await Promise.all([readGguf(f32.text), readGguf(f32.mmproj), readGguf(q8.text), readGguf(q8.mmproj)]);
    expect(t32.tensors.get('blk.0.attn_q.weight')?.dtype).toBe(F32);
    expect(m32.tensors.get('a.conv2d.1.weight')?.dtype).toBe(F32); // our format keeps f32 convs at f32
    expect(t8.tensors.get('blk.0.attn_q.weight')?.dtype).toBe(Q8_0);
    expect(t8.tensors.get('blk.0.attn_norm.weight')?.dtype).toBe(F32);
    expect(m8.tensors.get('a.conv2d.1.weight')?.dtype).toBe(F16);
    expect(m8.tensors.get('a.blk.0.attn_q.weight')?.dtype).toBe(Q8_0);
    // f32 output is the bf16 source widened exactly.
    const { openCheckpoint } = await import('../src/convert/checkpoint.js');
    const { readTensorBytes } = await import('../src/convert/safetensors.js');
    const src = await readTensorBytes((await openCheckpoint(model.dir)).tensors.get('thinker.model.layers.0.mlp.up_proj.weight')!);
    const out = tensorBytes(t32, 'blk.0.ffn_up.weight', (src.length / 2) * 4);
    for (let i = 0; i < src.length / 2; i += 97) expect(out.readUInt32LE(i * 4)).toBe(src.readUInt16LE(i * 2) << 16 >>> 0);
  });
});

describe('bad input', () => {
  async function freshCopy(name: string): Promise<string> {
    const dir = path.join(tmp, 'bad', name, 'Qwen3-ASR-tiny');
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.cpSync(model.dir, dir, { recursive: true });
    return dir;
  }

  async function expectFailure(modelDir: string, message: string | RegExp, outDir = path.join(path.dirname(modelDir), 'out')) {
    const err = await convertCheckpoint({ modelDir, outDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    if (typeof message === 'string') expect((err as Error).message).toBe(message);
    else expect((err as Error).message).toMatch(message);
    const left = fs.existsSync(outDir) ? fs.readdirSync(outDir) : [];
    expect(left).toEqual([]);
  }

  it('a missing model folder', async () => {
    await expectFailure(path.join(tmp, 'nope'), `model folder not found: ${path.join(tmp, 'nope')}`, path.join(tmp, 'nope-out'));
  });

  it('a folder without config.json', async () => {
    const dir = await freshCopy('noconfig');
    fs.rmSync(path.join(dir, 'config.json'));
    await expectFailure(dir, `${dir} has no config.json`);
  });

  it('an unknown architecture', async () => {
    const dir = await freshCopy('arch');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    cfg.model_type = 'whisper';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    await expectFailure(dir, 'unsupported model architecture "whisper" (expected qwen3_asr)');
  });

  it('missing weights', async () => {
    const dir = await freshCopy('noweights');
    fs.rmSync(path.join(dir, 'model.safetensors'));
    await expectFailure(dir, `no weights in ${dir}: expected model.safetensors or model.safetensors.index.json`);
  });

  it('a missing tokenizer', async () => {
    const dir = await freshCopy('notok');
    fs.rmSync(path.join(dir, 'vocab.json'));
    await expectFailure(dir, `no tokenizer in ${dir}: expected vocab.json + merges.txt, or tokenizer.json`);
  });

  it('a truncated safetensors file', async () => {
    const dir = await freshCopy('trunc');
    const file = path.join(dir, 'model.safetensors');
    fs.truncateSync(file, fs.statSync(file).size - 1000);
    await expectFailure(dir, /^model\.safetensors is truncated: \d+ bytes, its header describes \d+$/);
  });

  it('an unsupported dtype', async () => {
    const dir = await freshCopy('dtype');
    const file = path.join(dir, 'model.safetensors');
    const buf = fs.readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    const header = buf.subarray(8, 8 + n).toString().replace('"dtype":"BF16","shape":[32]', '"dtype": "I16","shape":[32]');
    fs.writeFileSync(file, Buffer.concat([buf.subarray(0, 8), Buffer.from(header), buf.subarray(8 + n)]));
    await expectFailure(dir, 'model.safetensors: tensor thinker.audio_tower.conv2d1.bias has unsupported dtype I16');
  });

  it('an unwritable output folder', async () => {
    const dir = await freshCopy('unwritable');
    const blocker = path.join(tmp, 'bad', 'unwritable', 'a-file');
    fs.writeFileSync(blocker, '');
    const err = await convertCheckpoint({ modelDir: dir, outDir: path.join(blocker, 'out') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`cannot write to output folder ${path.join(blocker, 'out')} (ENOTDIR)`);
  });

  it('an interrupted conversion leaves nothing behind', async () => {
    const out = path.join(tmp, 'bad', 'interrupted-out');
    const ac = new AbortController();
    const err = await convertCheckpoint({
      modelDir: model.dir,
      outDir: out,
      signal: ac.signal,
      onProgress: (p) => p.file === 'text' && p.tensor.startsWith('blk.1') && ac.abort(new UserError('interrupted (test)')),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('interrupted (test)');
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

describe('synthetic generator', () => {
  it('writes the real folder layout with sorted bf16 tensors', async () => {
    const files = fs.readdirSync(model.dir).sort();
    expect(files).toEqual([
      'chat_template.json', 'config.json', 'generation_config.json', 'merges.txt', 'model.safetensors',
      'preprocessor_config.json', 'tokenizer_config.json', 'vocab.json',
    ]);
    const buf = fs.readFileSync(path.join(model.dir, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const headerText = buf.subarray(8, 8 + n).toString();
    expect(headerText.startsWith('{"__metadata__":{"format":"pt"},')).toBe(true);
    const names = Object.keys(JSON.parse(headerText)).slice(1);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('thinker.audio_tower.layers.0.self_attn.k_proj.bias');
    expect(names).not.toContain('thinker.audio_tower.conv_out.bias');
    const cfg = JSON.parse(fs.readFileSync(path.join(model.dir, 'config.json'), 'utf8'));
    expect(cfg.thinker_config.audio_config.n_window).toBe(50);
    expect(cfg.thinker_config.audio_config.n_window_infer).toBe(800);
    expect(cfg.thinker_config.audio_token_id).toBe(tokenId(tinyVocab(), '<|audio_pad|>'));
  });

  it('0.6b and 1.7b stand-ins have the real tensor counts, element counts and header size', async () => {
    const { SYNTHETIC_DIMS, syntheticTensorSpecs } = await import('../src/synthetic/synthetic.js');
    const { elementCount, safetensorsHeader } = await import('../src/convert/safetensors.js');
    const s06 = syntheticTensorSpecs(SYNTHETIC_DIMS['0.6b'], 151936, true);
    const s17 = syntheticTensorSpecs(SYNTHETIC_DIMS['1.7b'], 151936, true);
    // Facts about the published checkpoints: 612 / 708 tensors, 938,008,576 / 2,349,217,408
    // elements, and a 74,544-byte safetensors header for the single-file 0.6B.
    expect(s06.length).toBe(612);
    expect(s17.length).toBe(708);
    expect(s06.reduce((n, t) => n + elementCount(t.shape), 0)).toBe(938_008_576);
    expect(s17.reduce((n, t) => n + elementCount(t.shape), 0)).toBe(2_349_217_408);
    expect(safetensorsHeader(s06.map((t) => ({ ...t, dtype: 'BF16' as const, data: () => [] }))).length - 8).toBe(74_544);
  });

  it('is deterministic, and lm_head is a byte copy of embed_tokens', async () => {
    const again = path.join(tmp, 'again');
    await generateSynthetic(again, { shape: 'tiny' });
    expect(fs.readFileSync(path.join(again, 'model.safetensors')).equals(fs.readFileSync(path.join(model.dir, 'model.safetensors')))).toBe(true);
    const { openCheckpoint } = await import('../src/convert/checkpoint.js');
    const { readTensorBytes } = await import('../src/convert/safetensors.js');
    const t = (await openCheckpoint(again)).tensors;
    expect((await readTensorBytes(t.get('thinker.lm_head.weight')!)).equals(await readTensorBytes(t.get('thinker.model.embed_tokens.weight')!))).toBe(true);
  });

  it('builds a scripted chain of distinct tokens', async () => {
    const r = await generateSynthetic(path.join(tmp, 'scripted'), { shape: 'tiny', script: 'language English<asr_text>Hello world.<|im_end|>' });
    const v = tinyVocab();
    const chain = r.chain!;
    expect(new Set(chain).size).toBe(chain.length);
    expect(chain.map((i) => v.tokens[i]).join('')).toBe('Ċlanguage ĠEnglish<asr_text>Hello Ġworld.<|im_end|>'.replace(/ /g, ''));
  });
});

describe('scripted models', () => {
  it('a loop points the last chain token back to the first', async () => {
    const { openCheckpoint } = await import('../src/convert/checkpoint.js');
    const { readTensorBytes } = await import('../src/convert/safetensors.js');
    const { bf16ToF32 } = await import('../src/convert/ggml-types.js');
    const dir = path.join(tmp, 'loop');
    const r = await generateSynthetic(dir, { shape: 'tiny', script: { prefix: 'language English<asr_text>', loop: ' very good' } });
    const chain = r.chain!;
    const t = (await openCheckpoint(dir)).tensors;
    const head = await readTensorBytes(t.get('thinker.lm_head.weight')!);
    const embed = await readTensorBytes(t.get('thinker.model.embed_tokens.weight')!);
    const H = 64;
    const row = (buf: Buffer, tok: number) => Array.from({ length: H }, (_, i) => bf16ToF32(buf.readUInt16LE((tok * H + i) * 2)));
    // Greedy next token after chain[i]: the lm_head row with the largest dot product.
    const next = (tok: number) => {
      const e = row(embed, tok);
      let best = -1;
      let bestV = -Infinity;
      for (let v = 0; v < r.vocabSize; v++) {
        const h = row(head, v);
        const dot = h.reduce((a, x, i) => a + x * e[i], 0);
        if (dot > bestV) [best, bestV] = [v, dot];
      }
      return best;
    };
    for (let i = 0; i + 1 < chain.length; i++) expect(next(chain[i])).toBe(chain[i + 1]);
    expect(next(chain[chain.length - 1])).toBe(chain[4]); // after "\n", language, ĠEnglish, <asr_text>
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg.thinker_config.text_config.tie_word_embeddings).toBe(false);
  });

  it('rejects scripts that need a repeated token it cannot avoid', async () => {
    await expect(generateSynthetic(path.join(tmp, 'rep'), { shape: 'tiny', script: '<asr_text><asr_text>' })).rejects.toThrow(/distinct/);
  });
});

describe('the patched llama.cpp (built once by global-setup) loads what we write', () => {
  const binDir = () => inject('binDir');
  for (const format of ['qwen3asr', 'qwen3a'] as const) {
  it(`the scripted pair with a ${format} mmproj transcribes to its script`, async () => {
    const { execa } = await import('execa');
    const scripted = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
    const wav = path.join(tmp, 'tone.wav');
    fs.writeFileSync(wav, toneWav(1));
    const mmproj = format === 'qwen3asr' ? scripted.mmproj : scripted.mmprojQwen3a;
    // The result file of our mtmd-cli patch: stdout comes from llama.cpp's asynchronous logger,
    // which can drop its tail when the process exits.
    const resultFile = path.join(tmp, `result-${format}.json`);
    const r = await execa(path.join(binDir(), 'llama-mtmd-cli'),
      ['-m', scripted.text, '--mmproj', mmproj, '--audio', wav, '-p', 'Transcribe', '-n', '16', '--temp', '0', '-t', '1'],
      { input: '', reject: false, env: { MTMD_RESULT_FILE: resultFile } });
    expect(r.exitCode, String(r.stderr).slice(-2000)).toBe(0);
    const result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
    expect(result).toMatchObject({ text: 'language English<asr_text>Hello world.', stop: 'eos' });
  });
  }

  it('quantizes the text model with llama-quantize and leaves no intermediate', async () => {
    const out = path.join(tmp, 'quantized');
    const r = await convertCheckpoint({ modelDir: model.dir, outDir: out, quantize: 'q8_0', quantizeBin: path.join(binDir(), 'llama-quantize') });
    expect(fs.readdirSync(out).sort()).toEqual(['Qwen3-ASR-tiny-mmproj-f16.gguf', 'Qwen3-ASR-tiny-text-q8_0.gguf']);
    const g = await readGguf(r.text);
    expect(g.tensors.get('blk.0.attn_q.weight')?.dtype).toBe(Q8_0);
    expect(g.meta['tokenizer.ggml.eos_token_id']).toBe(text.meta['tokenizer.ggml.eos_token_id']);
  });

  it('`qwen3asr convert --quantize` finds the project\'s own llama-quantize (the build), no variable needed', async () => {
    const out = path.join(tmp, 'quantized-cli');
    const r = await execa(process.execPath, [BIN, 'convert', model.dir, '-o', out, '--quantize', 'q8_0'], {
      reject: false,
      env: { QWEN3ASR_BIN_DIR: binDir(), QWEN3ASR_LLAMA_QUANTIZE: '' },
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['Qwen3-ASR-tiny-mmproj-f16.gguf', 'Qwen3-ASR-tiny-text-q8_0.gguf']);
    expect((await readGguf(path.join(out, 'Qwen3-ASR-tiny-text-q8_0.gguf'))).tensors.get('blk.0.attn_q.weight')?.dtype).toBe(Q8_0);
  });
});

function toneWav(seconds: number): Buffer {
  const n = 16000 * seconds;
  const b = Buffer.concat([pcm16WavHeader(n), Buffer.alloc(n * 2)]);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), 44 + 2 * i);
  return b;
}
