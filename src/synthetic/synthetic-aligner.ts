import fs from 'node:fs';
import path from 'node:path';
import type { AlignerHparams } from '../convert/qwen3asr-config.js';
import { writeSafetensors, type TensorSource } from '../convert/safetensors.js';
import { alignerConfigJson, ALIGNER_ADDED_TOKENS, generationConfigJson, type SyntheticDims } from './synthetic-files.js';
import { SYNTHETIC_DIMS, audioTokenIds, randomTensorData, syntheticTensorSpecs, writeSmallFiles, type SyntheticResult } from './synthetic.js';
import { alignerVocab, tokenId } from './synthetic-vocab.js';

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
  fs.mkdirSync(dir, { recursive: true });

  // The aligner's generation_config.json has no temperature (it never generates).
  const { temperature: _t, ...generation } = generationConfigJson(id('<|endoftext|>'), id('<|im_end|>'));
  writeSmallFiles(dir, vocab, {
    config: alignerConfigJson(dims, vocabSize, audioTokenIds(vocab), aligner),
    generation,
    added: ALIGNER_ADDED_TOKENS,
  });

  // Every tensor draws from its own name: the head is its own matrix, not a copy of the embeddings.
  const sources: TensorSource[] = syntheticTensorSpecs(dims, vocabSize, true, aligner.classifyNum).map((spec) => ({
    name: spec.name,
    dtype: 'BF16',
    shape: spec.shape,
    data: () => randomTensorData(seed, spec.name, spec),
  }));
  const file = path.join(dir, 'model.safetensors');
  await writeSafetensors(file, sources);
  return { dir, vocabSize, files: [file], aligner };
}
