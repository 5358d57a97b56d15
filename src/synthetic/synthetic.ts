import fs from 'node:fs';
import path from 'node:path';
import { f32ToBf16, putU16 } from '../convert/ggml-types.js';
import { Prng, hashString } from './prng.js';
import { elementCount, writeSafetensors, type TensorSource } from '../convert/safetensors.js';
import {
  CHAT_TEMPLATE,
  configJson,
  generationConfigJson,
  preprocessorConfigJson,
  tokenizerConfigJson,
  type AddedTokens,
  type SpecialIds,
  type SyntheticDims,
} from './synthetic-files.js';
import { distinctTokenization, tinyVocab, tokenId, type TinyVocab } from './synthetic-vocab.js';

/**
 * Synthetic Qwen3-ASR checkpoints in the real Hugging Face layout, with deterministic random bf16
 * weights: `tiny` for tests (converts and loads in seconds), `0.6b`/`1.7b` with the real
 * dimensions for benchmarks, and `tiny` + `script` for a model whose greedy output is fixed text.
 */

export type SyntheticShape = 'tiny' | '0.6b' | '1.7b';
export const SYNTHETIC_SHAPES: readonly SyntheticShape[] = ['tiny', '0.6b', '1.7b'];

/** Fixed text, or `prefix` once then `loop` forever (e.g. prefix `language English<asr_text>`). */
export type SyntheticScript = string | { readonly prefix?: string; readonly loop: string };

export interface SyntheticOptions {
  readonly shape: SyntheticShape;
  /**
   * Text the model writes greedily after the prompt, whatever the audio, e.g.
   * `language English<asr_text>Hello world.<|im_end|>`; `{loop}` repeats a phrase forever. tiny only.
   */
  readonly script?: SyntheticScript;
  /** Leave `thinker.lm_head.weight` out (a tied checkpoint). Not with a script. */
  readonly tied?: boolean;
  readonly seed?: number;
  /**
   * Audio encoder layers instead of the shape's own (tiny has 2). Upstream llama.cpp's converter
   * needs at least 4: it maps the conv2d{1,2,3} tensors only for a block index below the count.
   */
  readonly audioLayers?: number;
}

export interface SyntheticResult {
  readonly dir: string;
  readonly vocabSize: number;
  readonly files: readonly string[];
  /** The token ids the scripted chain walks, prompt's last token first. */
  readonly chain?: readonly number[];
}

export const SYNTHETIC_DIMS: Record<SyntheticShape, SyntheticDims> = {
  tiny: {
    audio: { dModel: 64, layers: 2, heads: 4, ffnDim: 128, outputDim: 64, downsampleHiddenSize: 32 },
    text: { hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediateSize: 128 },
  },
  '0.6b': {
    audio: { dModel: 896, layers: 18, heads: 14, ffnDim: 3584, outputDim: 1024, downsampleHiddenSize: 480 },
    text: { hiddenSize: 1024, layers: 28, heads: 16, kvHeads: 8, headDim: 128, intermediateSize: 3072 },
  },
  '1.7b': {
    audio: { dModel: 1024, layers: 24, heads: 16, ffnDim: 4096, outputDim: 2048, downsampleHiddenSize: 480 },
    text: { hiddenSize: 2048, layers: 28, heads: 16, kvHeads: 8, headDim: 128, intermediateSize: 6144 },
  },
};

/** Embedding rows: the tiny vocabulary padded to a multiple of 64, or the real 151936 rows. */
export function syntheticVocabSize(shape: SyntheticShape, vocab: TinyVocab = tinyVocab()): number {
  return shape === 'tiny' ? Math.ceil(vocab.size / 64) * 64 : 151936;
}

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: 'weight' | 'bias' | 'norm' | 'zero';
}

/** `headRows`: lm_head's rows, the vocabulary for Qwen3-ASR, the time classes for the aligner. */
export function syntheticTensorSpecs(dims: SyntheticDims, vocabSize: number, withLmHead: boolean, headRows = vocabSize): TensorSpec[] {
  const a = dims.audio;
  const t = dims.text;
  const specs: TensorSpec[] = [];
  const add = (name: string, shape: number[], init: TensorSpec['init'] = shape.length > 1 ? 'weight' : 'bias') =>
    specs.push({ name, shape, init });
  // Audio-tower layers carry a bias, one per output row (all but conv_out).
  const withBias = (name: string, shape: number[]) => {
    add(`${name}.weight`, shape);
    add(`${name}.bias`, [shape[0]]);
  };
  const layerNorm = (name: string, width: number) => {
    add(`${name}.weight`, [width], 'norm');
    add(`${name}.bias`, [width]);
  };
  const A = 'thinker.audio_tower.';
  const C = a.downsampleHiddenSize;
  withBias(`${A}conv2d1`, [C, 1, 3, 3]);
  withBias(`${A}conv2d2`, [C, C, 3, 3]);
  withBias(`${A}conv2d3`, [C, C, 3, 3]);
  add(`${A}conv_out.weight`, [a.dModel, C * 16]);
  for (let i = 0; i < a.layers; i++) {
    const l = `${A}layers.${i}.`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) withBias(`${l}self_attn.${p}`, [a.dModel, a.dModel]);
    layerNorm(`${l}self_attn_layer_norm`, a.dModel);
    withBias(`${l}fc1`, [a.ffnDim, a.dModel]);
    withBias(`${l}fc2`, [a.dModel, a.ffnDim]);
    layerNorm(`${l}final_layer_norm`, a.dModel);
  }
  layerNorm(`${A}ln_post`, a.dModel);
  withBias(`${A}proj1`, [a.dModel, a.dModel]);
  withBias(`${A}proj2`, [a.outputDim, a.dModel]);
  const T = 'thinker.model.';
  const H = t.hiddenSize;
  add(`${T}embed_tokens.weight`, [vocabSize, H]);
  for (let i = 0; i < t.layers; i++) {
    const l = `${T}layers.${i}.`;
    add(`${l}input_layernorm.weight`, [H], 'norm');
    add(`${l}self_attn.q_proj.weight`, [t.heads * t.headDim, H]);
    add(`${l}self_attn.k_proj.weight`, [t.kvHeads * t.headDim, H]);
    add(`${l}self_attn.v_proj.weight`, [t.kvHeads * t.headDim, H]);
    add(`${l}self_attn.o_proj.weight`, [H, t.heads * t.headDim]);
    add(`${l}self_attn.q_norm.weight`, [t.headDim], 'norm');
    add(`${l}self_attn.k_norm.weight`, [t.headDim], 'norm');
    add(`${l}post_attention_layernorm.weight`, [H], 'norm');
    add(`${l}mlp.gate_proj.weight`, [t.intermediateSize, H]);
    add(`${l}mlp.up_proj.weight`, [t.intermediateSize, H]);
    add(`${l}mlp.down_proj.weight`, [H, t.intermediateSize]);
  }
  add(`${T}norm.weight`, [H], 'norm');
  if (withLmHead) add('thinker.lm_head.weight', [headRows, H]);
  return specs.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

const CHUNK_ELEMENTS = 1 << 20;

/** Values for one element: weights ~U(±1/√fan_in), biases small, norms near 1. */
function scaleOf(spec: TensorSpec): number {
  if (spec.init === 'weight') return 1 / Math.sqrt(elementCount(spec.shape.slice(1)));
  return 0.02;
}

function bf16Chunk(prng: Prng, n: number, spec: TensorSpec): Buffer {
  const out = Buffer.allocUnsafe(n * 2);
  const s = scaleOf(spec);
  const base = spec.init === 'norm' ? 1 : 0;
  for (let i = 0; i < n; i++) {
    putU16(out, 2 * i, spec.init === 'zero' ? 0 : f32ToBf16(base + prng.symmetric(s)));
  }
  return out;
}

/**
 * Deterministic bf16 data for a tensor, streamed. Big tensors draw 64K-element runs at random
 * offsets from a 1M-element pool, which keeps the 1.7B stand-in fast to write and still looks
 * random to a matmul; the seed comes from the tensor name so a copy (lm_head) is bit-identical.
 */
export function* randomTensorData(seed: number, dataName: string, spec: TensorSpec): Generator<Buffer> {
  const n = elementCount(spec.shape);
  const prng = new Prng((seed ^ hashString(dataName)) >>> 0);
  if (n <= CHUNK_ELEMENTS) {
    yield bf16Chunk(prng, n, spec);
    return;
  }
  const pool = bf16Chunk(prng, CHUNK_ELEMENTS, spec);
  const RUN = 1 << 16;
  for (let done = 0; done < n; ) {
    const len = Math.min(CHUNK_ELEMENTS, n - done);
    const out = Buffer.allocUnsafe(len * 2);
    for (let o = 0; o < len; o += RUN) {
      const take = Math.min(RUN, len - o);
      const from = prng.u32() % (CHUNK_ELEMENTS - take + 1);
      pool.copy(out, o * 2, from * 2, (from + take) * 2);
    }
    done += len;
    yield out;
  }
}

/** Embedding and head of the scripted model, built whole (tiny only). */
interface ScriptedWeights {
  readonly chain: number[];
  readonly embed: Float32Array;
  readonly lmHead: Float32Array;
}

function scriptedWeights(script: SyntheticScript, vocab: TinyVocab, vocabSize: number, hidden: number, seed: number): ScriptedWeights {
  // The prompt ends with "\n" after <|im_start|>assistant (or with <asr_text> when the language is
  // forced, which is itself a chain token), so the chain starts from the newline token.
  const newline = tokenId(vocab, 'Ċ');
  const head = typeof script === 'string' ? script : (script.prefix ?? '');
  const headIds = head ? distinctTokenization(vocab, head, [newline]) : [];
  const loopIds = typeof script === 'string' ? [] : distinctTokenization(vocab, script.loop, [newline, ...headIds]);
  const chain = [newline, ...headIds, ...loopIds];
  const loopStart = 1 + headIds.length;
  if (chain.length > hidden) throw new Error(`script is ${chain.length} tokens; the tiny model holds at most ${hidden}`);
  const prng = new Prng(seed ^ 0x5eed);
  const embed = new Float32Array(vocabSize * hidden).map(() => prng.symmetric(0.02));
  const lmHead = new Float32Array(vocabSize * hidden).map(() => prng.symmetric(0.01));
  const scale = Math.sqrt(hidden);
  // With attention and MLP outputs zeroed, the last hidden state is the token's own embedding;
  // a basis embedding survives RMSNorm unchanged, and lm_head maps basis i to chain token i+1.
  chain.forEach((tok, i) => {
    embed.fill(0, tok * hidden, (tok + 1) * hidden);
    embed[tok * hidden + i] = scale;
  });
  const point = (to: number, from: number) => {
    lmHead.fill(0, to * hidden, (to + 1) * hidden);
    lmHead[to * hidden + from] = 10;
  };
  for (let i = 0; i + 1 < chain.length; i++) point(chain[i + 1], i);
  // The loop's last token leads back to its first, so greedy decoding never ends.
  if (loopIds.length) lmHead[chain[loopStart] * hidden + chain.length - 1] = 10;
  return { chain, embed, lmHead };
}

function f32ToBf16Buffer(v: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(v.length * 2);
  for (let i = 0; i < v.length; i++) out.writeUInt16LE(f32ToBf16(v[i]), 2 * i);
  return out;
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Where config.json says the audio sits in the prompt. */
export function audioTokenIds(vocab: TinyVocab): SpecialIds {
  const id = (t: string) => tokenId(vocab, t);
  return { audioStart: id('<|audio_start|>'), audioEnd: id('<|audio_end|>'), audioPad: id('<|audio_pad|>') };
}

/** All of a checkpoint folder but its weights; `added` lists the tokenizer's added tokens after the vocabulary. */
export function writeSmallFiles(
  dir: string,
  vocab: TinyVocab,
  json: { readonly config: unknown; readonly generation: unknown; readonly added?: AddedTokens },
): void {
  writeJson(path.join(dir, 'config.json'), json.config);
  writeJson(path.join(dir, 'generation_config.json'), json.generation);
  writeJson(path.join(dir, 'preprocessor_config.json'), preprocessorConfigJson());
  writeJson(path.join(dir, 'tokenizer_config.json'), tokenizerConfigJson(vocab.firstAddedId, json.added));
  writeJson(path.join(dir, 'chat_template.json'), { chat_template: CHAT_TEMPLATE });
  // vocab.json holds the ordinary tokens; the added ones live in tokenizer_config.json.
  const vocabJson: Record<string, number> = {};
  vocab.tokens.slice(0, vocab.firstAddedId).forEach((t, i) => (vocabJson[t] = i));
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocabJson));
  fs.writeFileSync(path.join(dir, 'merges.txt'), `#version: 0.2\n${vocab.merges.join('\n')}\n`);
}

function withAudioLayers(dims: SyntheticDims, layers: number | undefined): SyntheticDims {
  if (layers === undefined) return dims;
  if (!Number.isInteger(layers) || layers < 1) throw new Error(`audioLayers must be a positive integer, not ${layers}`);
  return { ...dims, audio: { ...dims.audio, layers } };
}

/** Writes a synthetic checkpoint folder into `dir` (created; existing files overwritten). */
export async function generateSynthetic(dir: string, opts: SyntheticOptions): Promise<SyntheticResult> {
  const { shape } = opts;
  const seed = opts.seed ?? 1234;
  if (opts.script !== undefined && shape !== 'tiny') throw new Error('scripted models are tiny only');
  if (opts.script !== undefined && opts.tied) throw new Error('a scripted model needs its own lm_head (untied)');
  const dims = withAudioLayers(SYNTHETIC_DIMS[shape], opts.audioLayers);
  const vocab = tinyVocab();
  const vocabSize = syntheticVocabSize(shape, vocab);
  const withLmHead = !opts.tied;
  fs.mkdirSync(dir, { recursive: true });

  const id = (t: string) => tokenId(vocab, t);
  const tiedFlag = opts.script === undefined;
  writeSmallFiles(dir, vocab, {
    config: configJson(dims, vocabSize, audioTokenIds(vocab), tiedFlag),
    generation: generationConfigJson(id('<|endoftext|>'), id('<|im_end|>')),
  });

  const scripted = opts.script === undefined ? undefined : scriptedWeights(opts.script, vocab, vocabSize, dims.text.hiddenSize, seed);
  const specs = syntheticTensorSpecs(dims, vocabSize, withLmHead).map((s): TensorSpec => {
    if (!scripted) return s;
    if (/\.(o_proj|down_proj)\.weight$/.test(s.name) && s.name.startsWith('thinker.model.')) return { ...s, init: 'zero' };
    return s;
  });
  const sources: TensorSource[] = specs.map((spec) => {
    let data: () => Iterable<Buffer>;
    if (scripted && spec.name === 'thinker.model.embed_tokens.weight') data = () => [f32ToBf16Buffer(scripted.embed)];
    else if (scripted && spec.name === 'thinker.lm_head.weight') data = () => [f32ToBf16Buffer(scripted.lmHead)];
    else if (scripted && spec.name === 'thinker.model.norm.weight') data = () => [f32ToBf16Buffer(new Float32Array(spec.shape[0]).fill(1))];
    // lm_head is stored as a byte copy of embed_tokens, as in the real checkpoints.
    else data = () => randomTensorData(seed, spec.name === 'thinker.lm_head.weight' ? 'thinker.model.embed_tokens.weight' : spec.name, spec);
    return { name: spec.name, dtype: 'BF16', shape: spec.shape, data };
  });

  const files: string[] = [];
  if (shape === '1.7b') {
    // Two shards split near the middle by bytes, plus the index transformers writes.
    const bytes = sources.map((s) => elementCount(s.shape) * 2);
    const total = bytes.reduce((x, y) => x + y, 0);
    let acc = 0;
    let cut = 0;
    while (cut < sources.length && acc + bytes[cut] <= total / 2) acc += bytes[cut++];
    const shards = [sources.slice(0, cut), sources.slice(cut)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      for (const s of shard) weightMap[s.name] = file;
      await writeSafetensors(path.join(dir, file), shard);
      files.push(path.join(dir, file));
    }
    const params = sources.reduce((n, s) => n + elementCount(s.shape), 0);
    writeJson(path.join(dir, 'model.safetensors.index.json'), { metadata: { total_parameters: params, total_size: total }, weight_map: weightMap });
  } else {
    await writeSafetensors(path.join(dir, 'model.safetensors'), sources);
    files.push(path.join(dir, 'model.safetensors'));
  }
  return { dir, vocabSize, files, chain: scripted?.chain };
}
