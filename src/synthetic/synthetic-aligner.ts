import fs from 'node:fs';
import path from 'node:path';
import type { AlignerHparams } from '../convert/qwen3asr-config.js';
import { f32ToBf16 } from '../convert/ggml-types.js';
import { toByteLevel } from '../convert/byte-level.js';
import { writeSafetensors, type TensorSource } from '../convert/safetensors.js';
import { alignerConfigJson, ALIGNER_ADDED_TOKENS, generationConfigJson, type SyntheticDims } from './synthetic-files.js';
import { SYNTHETIC_DIMS, audioTokenIds, randomTensorData, syntheticTensorSpecs, writeSmallFiles, type SyntheticResult } from './synthetic.js';
import { alignerVocab, tokenId, type TinyVocab } from './synthetic-vocab.js';

/**
 * Synthetic Qwen3-ForcedAligner-0.6B checkpoints in the official layout, with deterministic random
 * bf16 weights: `tiny` and `small` (the real head size) for tests, `0.6b` with the real dimensions
 * for benchmarks. The head keeps the real 5000 classes in every shape: the class count is what the
 * aligner's output means, not a size knob.
 */

export type AlignerShape = 'tiny' | 'small' | '0.6b';
export const ALIGNER_SHAPES: readonly AlignerShape[] = ['tiny', 'small', '0.6b'];

export const ALIGNER_DIMS: Record<AlignerShape, SyntheticDims> = {
  tiny: SYNTHETIC_DIMS.tiny,
  // The real head size (128) and grouped queries (2 heads per KV head), still small enough for a test.
  small: {
    audio: { dModel: 128, layers: 2, heads: 2, ffnDim: 256, outputDim: 256, downsampleHiddenSize: 32 },
    text: { hiddenSize: 256, layers: 2, heads: 2, kvHeads: 1, headDim: 128, intermediateSize: 512 },
  },
  // Qwen3-ForcedAligner-0.6B/config.json: the 1.7B's audio tower (1024 wide, 24 layers) projected to
  // the 0.6B's 1024-wide decoder.
  '0.6b': {
    audio: { dModel: 1024, layers: 24, heads: 16, ffnDim: 4096, outputDim: 1024, downsampleHiddenSize: 480 },
    text: SYNTHETIC_DIMS['0.6b'].text,
  },
};

/** The official classify_num and timestamp_segment_time. */
export const ALIGNER_CLASSES = 5000;
export const ALIGNER_SEGMENT_MS = 80;

export interface SyntheticAlignerOptions {
  readonly shape: AlignerShape;
  readonly seed?: number;
  /**
   * A "timed" aligner (tiny only): whatever the audio, the `<timestamp>` pair after each of these
   * words (written as in the aligner prompt, no leading space) answers exactly its [start, end] in
   * ms from the window start, each rounded to the 80 ms grid. Other words answer class 0.
   */
  readonly timed?: Readonly<Record<string, readonly [number, number]>>;
}

export interface SyntheticAlignerResult extends SyntheticResult {
  readonly aligner: AlignerHparams;
}

/** Embedding rows: the stand-in vocabulary padded to a multiple of 64, or the real aligner's 152064. */
export function alignerVocabSize(shape: AlignerShape): number {
  return shape === '0.6b' ? 152064 : Math.ceil(alignerVocab().size / 64) * 64;
}

/** Writes a synthetic aligner checkpoint folder into `dir` (created; existing files overwritten). */
export async function generateSyntheticAligner(dir: string, opts: SyntheticAlignerOptions): Promise<SyntheticAlignerResult> {
  if (!ALIGNER_SHAPES.includes(opts.shape)) throw new Error(`the aligner comes in ${ALIGNER_SHAPES.join(', ')} only, not ${opts.shape}`);
  const seed = opts.seed ?? 1234;
  const dims = ALIGNER_DIMS[opts.shape];
  const vocab = alignerVocab();
  const vocabSize = alignerVocabSize(opts.shape);
  const id = (t: string) => tokenId(vocab, t);
  const aligner: AlignerHparams = { classifyNum: ALIGNER_CLASSES, timestampTokenId: id('<timestamp>'), segmentMs: ALIGNER_SEGMENT_MS };
  const config = alignerConfigJson(dims, vocabSize, audioTokenIds(vocab), aligner);
  const ropeTheta = (config.thinker_config as { text_config: { rope_theta: number } }).text_config.rope_theta;
  const timed = opts.timed === undefined ? undefined : timedWeights(opts.timed, opts.shape, dims, vocab, vocabSize, ropeTheta);
  fs.mkdirSync(dir, { recursive: true });

  // The aligner's generation_config.json has no temperature (it never generates).
  const { temperature: _t, ...generation } = generationConfigJson(id('<|endoftext|>'), id('<|im_end|>'));
  writeSmallFiles(dir, vocab, {
    config,
    generation,
    added: ALIGNER_ADDED_TOKENS,
  });

  // Every tensor draws from its own name: the head is its own matrix, not a copy of the embeddings.
  const sources: TensorSource[] = syntheticTensorSpecs(dims, vocabSize, true, aligner.classifyNum).map((spec) => {
    const fixed = timed?.get(spec.name);
    if (fixed && fixed.length !== spec.shape.reduce((a, b) => a * b, 1)) throw new Error(`timed ${spec.name}: ${fixed.length} values for [${spec.shape}]`);
    return {
      name: spec.name,
      dtype: 'BF16',
      shape: spec.shape,
      data: fixed ? () => [bf16Buffer(fixed)] : () => randomTensorData(seed, spec.name, spec),
    };
  });
  const file = path.join(dir, 'model.safetensors');
  await writeSafetensors(file, sources);
  return { dir, vocabSize, files: [file], aligner };
}

function bf16Buffer(v: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(v.length * 2);
  for (let i = 0; i < v.length; i++) out.writeUInt16LE(f32ToBf16(v[i]), 2 * i);
  return out;
}

/** The canonical BPE encoding of one pre-token (a word with no space): merges applied by rank. */
export function bpeEncode(vocab: TinyVocab, word: string): number[] {
  const rank = new Map(vocab.merges.map((m, i) => [m, i]));
  let parts = [...toByteLevel(word)];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rank.get(`${parts[i]} ${parts[i + 1]}`);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) break;
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
  return parts.map((t) => tokenId(vocab, t));
}

/**
 * The weights of a timed aligner, by tensor name (the rest stay random). With every MLP and layer 1's
 * attention zeroed, layer 0's attention alone decides the answer:
 *  - embeddings: every token has a constant bias in dim 0; the last token of timed word j has in
 *    addition a one-hot feature in dim 1 + j;
 *  - q and k read the bias only, so they are the same for every token (q_norm / k_norm set their
 *    size); per RoPE pair i, k = (1, 0) and q = (cos Δθ_i, −sin Δθ_i), so the score of the key Δ'
 *    tokens back is ∝ Σ_i cos((Δ' − Δ) θ_i): query head 0 (KV group 0) attends to the previous
 *    token (Δ = 1), head 2 (KV group 1) to the one before it (Δ = 2), one-hot to ~e^-23;
 *  - v is the word feature (zero for every other token); o_proj writes head 0 to dims A = 16 + j
 *    and head 2 to dims B = 32 + j (heads 1 and 3 dropped);
 *  - the head maps A_j to class start_j and B_j to class end_j.
 * At the first <timestamp> after word j the previous token is the word (A = onehot j, B = 0); at
 * the second the token two back is (A = 0, B = onehot j).
 */
function timedWeights(
  timed: Readonly<Record<string, readonly [number, number]>>,
  shape: AlignerShape,
  dims: SyntheticDims,
  vocab: TinyVocab,
  vocabSize: number,
  theta: number,
): Map<string, Float32Array> {
  if (shape !== 'tiny') throw new Error('a timed aligner is tiny only');
  const t = dims.text;
  const H = t.hiddenSize;
  const D = t.headDim;
  const words = Object.entries(timed);
  const A = 16;
  const B = 32;
  if (words.length === 0) throw new Error('a timed aligner needs at least one word');
  if (words.length > 15) throw new Error(`a timed aligner holds at most 15 words, not ${words.length}`);
  const cls = (word: string, ms: number): number => {
    const c = Math.round(ms / ALIGNER_SEGMENT_MS);
    if (!Number.isFinite(ms) || c < 0 || c >= ALIGNER_CLASSES) throw new Error(`timed word "${word}": ${ms} ms is outside 0..${(ALIGNER_CLASSES - 1) * ALIGNER_SEGMENT_MS} ms`);
    return c;
  };
  // The token right before each word's first <timestamp> carries the word; a word's other tokens
  // (two back from that <timestamp>) must not carry another word.
  const tokens = words.map(([w]) => {
    if (!w || /[\s<>]/.test(w) || !/^(\p{L}+|\p{N}+)$/u.test(w)) throw new Error(`timed word "${w}" must be one run of letters or digits (one pre-token)`);
    return bpeEncode(vocab, w);
  });
  const last = tokens.map((ids) => ids[ids.length - 1]);
  words.forEach(([w], j) => {
    if (last.indexOf(last[j]) !== j) throw new Error(`timed words "${w}" and "${words[last.indexOf(last[j])][0]}" end with the same token`);
    const inner = tokens[j].slice(0, -1).find((id) => last.includes(id));
    if (inner !== undefined) throw new Error(`timed word "${w}" contains token ${vocab.tokens[inner]}, which ends another timed word`);
  });

  const embed = new Float32Array(vocabSize * H);
  for (let v = 0; v < vocabSize; v++) embed[v * H] = 1;
  last.forEach((id, j) => (embed[id * H + 1 + j] = 1));

  const freq = (i: number) => theta ** ((-2 * i) / D);
  const q = new Float32Array(t.heads * D * H);
  const headsPerGroup = t.heads / t.kvHeads;
  for (let h = 0; h < t.heads; h++) {
    const delta = Math.floor(h / headsPerGroup) === 0 ? 1 : 2;
    for (let i = 0; i < D / 2; i++) {
      q[(h * D + i) * H] = Math.cos(delta * freq(i));
      q[(h * D + i + D / 2) * H] = -Math.sin(delta * freq(i));
    }
  }
  const k = new Float32Array(t.kvHeads * D * H);
  for (let g = 0; g < t.kvHeads; g++) for (let i = 0; i < D / 2; i++) k[(g * D + i) * H] = 1;
  const v = new Float32Array(t.kvHeads * D * H);
  for (let g = 0; g < t.kvHeads; g++) words.forEach((_, j) => (v[(g * D + j) * H + 1 + j] = 1));
  const o = new Float32Array(H * t.heads * D);
  const head2 = 1 * headsPerGroup; // the first query head of KV group 1
  words.forEach((_, j) => {
    o[(A + j) * t.heads * D + j] = 1;
    o[(B + j) * t.heads * D + head2 * D + j] = 1;
  });
  const lmHead = new Float32Array(ALIGNER_CLASSES * H);
  words.forEach(([w, [startMs, endMs]], j) => {
    lmHead[cls(w, startMs) * H + A + j] = 10;
    lmHead[cls(w, endMs) * H + B + j] = 10;
  });

  const T = 'thinker.model.';
  const ones = (n: number, x = 1) => new Float32Array(n).fill(x);
  const out = new Map<string, Float32Array>([
    [`${T}embed_tokens.weight`, embed],
    [`${T}norm.weight`, ones(H)],
    ['thinker.lm_head.weight', lmHead],
    [`${T}layers.0.input_layernorm.weight`, ones(H)],
    [`${T}layers.0.self_attn.q_proj.weight`, q],
    [`${T}layers.0.self_attn.k_proj.weight`, k],
    [`${T}layers.0.self_attn.v_proj.weight`, v],
    [`${T}layers.0.self_attn.o_proj.weight`, o],
    // The attention logit is 0.5 · 10 · 10 · Σ_i cos(...): 400 at the chosen key, 23.7 above any other.
    [`${T}layers.0.self_attn.q_norm.weight`, ones(D, 10)],
    [`${T}layers.0.self_attn.k_norm.weight`, ones(D, 10)],
  ]);
  for (let l = 0; l < t.layers; l++) {
    out.set(`${T}layers.${l}.mlp.down_proj.weight`, new Float32Array(H * t.intermediateSize));
    if (l > 0) out.set(`${T}layers.${l}.self_attn.o_proj.weight`, new Float32Array(H * t.heads * D));
  }
  return out;
}
