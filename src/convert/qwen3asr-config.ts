import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

/** The hyperparameters of a Qwen3-ASR checkpoint that the GGUF files carry, read from config.json. */
export interface AudioHparams {
  readonly dModel: number;
  readonly layers: number;
  readonly heads: number;
  readonly ffnDim: number;
  readonly numMelBins: number;
  readonly outputDim: number;
  readonly downsampleHiddenSize: number;
  readonly maxSourcePositions: number;
  readonly nWindow: number;
  readonly nWindowInfer: number;
  readonly convChunksize: number;
  readonly layerNormEps: number;
}

export interface TextHparams {
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly tieWordEmbeddings: boolean;
}

/** What a checkpoint is for: transcription, or forced alignment (Qwen3-ForcedAligner). */
export type ModelKind = 'asr' | 'aligner';

/** The forced aligner's head: one class per `segmentMs` slice of audio, read at `<timestamp>` tokens. */
export interface AlignerHparams {
  readonly classifyNum: number;
  readonly timestampTokenId: number;
  readonly segmentMs: number;
}

export interface Qwen3AsrConfig {
  readonly kind: ModelKind;
  readonly audio: AudioHparams;
  readonly text: TextHparams;
  /** Present exactly when kind is 'aligner'. */
  readonly aligner?: AlignerHparams;
}

/** thinker_config.model_type of each kind (the top-level model_type is qwen3_asr for both). */
const THINKER_TYPES: Record<string, ModelKind> = { qwen3_asr: 'asr', qwen3_forced_aligner: 'aligner' };

type Json = Record<string, unknown>;

export function readQwen3AsrConfig(dir: string): Qwen3AsrConfig {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) {
    throw new UserError(`${dir} has no config.json`, { hint: 'point convert at a Hugging Face Qwen3-ASR model folder' });
  }
  let cfg: Json;
  try {
    cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new UserError(`config.json in ${dir} is not valid JSON`, { cause: err });
  }
  return parseQwen3AsrConfig(cfg);
}

export function parseQwen3AsrConfig(cfg: Json): Qwen3AsrConfig {
  const thinker = cfg.thinker_config as Json | undefined;
  const modelType = String(cfg.model_type ?? 'unknown');
  const thinkerType = String(thinker?.model_type ?? modelType);
  const kind = Object.hasOwn(THINKER_TYPES, thinkerType) ? THINKER_TYPES[thinkerType] : undefined;
  if (modelType !== 'qwen3_asr' || !kind) {
    const shown = modelType === 'qwen3_asr' ? thinkerType : modelType;
    throw new UserError(`unsupported model architecture "${shown}" (expected qwen3_asr)`, {
      hint: 'convert only handles Qwen/Qwen3-ASR-0.6B, Qwen/Qwen3-ASR-1.7B and Qwen/Qwen3-ForcedAligner-0.6B checkpoints',
    });
  }
  const a = thinker?.audio_config as Json | undefined;
  const t = thinker?.text_config as Json | undefined;
  if (!a || !t) throw new UserError('config.json lacks thinker_config.audio_config or thinker_config.text_config');
  const num = (o: Json, key: string, where: string, fallback?: number): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`config.json: ${where ? `${where}.` : ''}${key} is missing or not a number`);
    return v;
  };
  const A = 'thinker_config.audio_config';
  const T = 'thinker_config.text_config';
  const ropeScaling = t.rope_scaling as Json | undefined;
  const headDim = num(t, 'head_dim', T, num(t, 'hidden_size', T) / num(t, 'num_attention_heads', T));
  const aligner: AlignerHparams | undefined =
    kind === 'aligner'
      ? {
          classifyNum: num(thinker!, 'classify_num', 'thinker_config'),
          // The aligner's own keys sit at the top level of config.json, beside thinker_config.
          timestampTokenId: num(cfg, 'timestamp_token_id', ''),
          segmentMs: num(cfg, 'timestamp_segment_time', ''),
        }
      : undefined;
  return {
    kind,
    ...(aligner ? { aligner } : {}),
    audio: {
      dModel: num(a, 'd_model', A),
      layers: num(a, 'encoder_layers', A, a.num_hidden_layers as number),
      heads: num(a, 'encoder_attention_heads', A),
      ffnDim: num(a, 'encoder_ffn_dim', A),
      numMelBins: num(a, 'num_mel_bins', A),
      outputDim: num(a, 'output_dim', A),
      downsampleHiddenSize: num(a, 'downsample_hidden_size', A),
      maxSourcePositions: num(a, 'max_source_positions', A),
      nWindow: num(a, 'n_window', A),
      nWindowInfer: num(a, 'n_window_infer', A),
      convChunksize: num(a, 'conv_chunksize', A),
      layerNormEps: num(a, 'layer_norm_eps', A, 1e-5),
    },
    text: {
      hiddenSize: num(t, 'hidden_size', T),
      layers: num(t, 'num_hidden_layers', T),
      heads: num(t, 'num_attention_heads', T),
      kvHeads: num(t, 'num_key_value_heads', T),
      headDim,
      intermediateSize: num(t, 'intermediate_size', T),
      vocabSize: num(t, 'vocab_size', T),
      maxPositionEmbeddings: num(t, 'max_position_embeddings', T),
      rmsNormEps: num(t, 'rms_norm_eps', T),
      ropeTheta: num(t, 'rope_theta', T, (ropeScaling?.rope_theta as number | undefined) ?? 1e6),
      tieWordEmbeddings: t.tie_word_embeddings !== false,
    },
  };
}
