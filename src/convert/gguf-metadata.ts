import { FILE_TYPE, type OutType } from './ggml-types.js';
import { GGUF_ALIGNMENT, meta, type MetaValue } from './gguf-writer.js';
import type { MmprojFormat } from './qwen3asr-tensors.js';
import type { AlignerHparams, Qwen3AsrConfig } from './qwen3asr-config.js';
import type { GgufVocab } from './tokenizer.js';

/** The general.* keys both files open with. */
function generalMetadata(architecture: string, type: string, name: string, out: OutType): [string, MetaValue][] {
  return [
    ['general.architecture', meta.str(architecture)],
    ['general.type', meta.str(type)],
    ['general.name', meta.str(name)],
    ['general.alignment', meta.u32(GGUF_ALIGNMENT)],
    ['general.file_type', meta.u32(FILE_TYPE[out])],
    ['general.quantization_version', meta.u32(2)],
  ];
}

/** Most hyperparameters are u32s under one key prefix; `values` keeps the order they are written in. */
function u32Entries(prefix: string, values: Record<string, number>): [string, MetaValue][] {
  return Object.entries(values).map(([k, v]) => [prefix + k, meta.u32(v)]);
}

/** The metadata llama.cpp reads for the decoder: architecture qwen3 (llama-arch.cpp, models/qwen3.cpp). */
export function textMetadata(name: string, cfg: Qwen3AsrConfig, vocab: GgufVocab, out: OutType): Map<string, MetaValue> {
  const t = cfg.text;
  const m = new Map<string, MetaValue>([
    ...generalMetadata('qwen3', 'model', name, out),
    ...u32Entries('qwen3.', {
      block_count: t.layers,
      context_length: t.maxPositionEmbeddings,
      embedding_length: t.hiddenSize,
      feed_forward_length: t.intermediateSize,
      'attention.head_count': t.heads,
      'attention.head_count_kv': t.kvHeads,
      'attention.key_length': t.headDim,
      'attention.value_length': t.headDim,
    }),
    // Audio-only input gives all three M-RoPE streams the same position, which is plain NeoX rope.
    ['qwen3.rope.freq_base', meta.f32(t.ropeTheta)],
    ['qwen3.attention.layer_norm_rms_epsilon', meta.f32(t.rmsNormEps)],
    ['tokenizer.ggml.model', meta.str('gpt2')],
    ['tokenizer.ggml.pre', meta.str('qwen2')],
    ['tokenizer.ggml.tokens', meta.strings(vocab.tokens)],
    ['tokenizer.ggml.token_type', meta.i32s(vocab.tokenTypes)],
    ['tokenizer.ggml.merges', meta.strings(vocab.merges)],
    ...u32Entries('tokenizer.ggml.', { bos_token_id: vocab.bosId, eos_token_id: vocab.eosId, eot_token_id: vocab.eotId, padding_token_id: vocab.padId }),
    ['tokenizer.ggml.add_bos_token', meta.bool(false)],
  ]);
  if (vocab.chatTemplate !== undefined) m.set('tokenizer.chat_template', meta.str(vocab.chatTemplate));
  if (cfg.aligner) for (const [k, v] of alignerMetadata(cfg.aligner)) m.set(k, v);
  return m;
}

/**
 * The aligner's keys in the text GGUF (the contract with our llama.cpp patch): llama.cpp's own
 * classifier keys, so the cls head's output is returned per token instead of logits over the
 * vocabulary, plus what our pipeline needs to build the prompt and read the classes as times.
 */
export function alignerMetadata(a: AlignerHparams): Map<string, MetaValue> {
  // Label k is the start of class k in ms, so a reader can turn a class into a time without our keys.
  const labels = Array.from({ length: a.classifyNum }, (_, k) => String(k * a.segmentMs));
  return new Map<string, MetaValue>([
    ['qwen3.classifier.output_labels', meta.strings(labels)],
    ['qwen3.embedding_length_out', meta.u32(a.classifyNum)],
    ['qwen3.pooling_type', meta.u32(0)],
    ['qwen3asr.aligner.timestamp_token_id', meta.u32(a.timestampTokenId)],
    ['qwen3asr.aligner.segment_ms', meta.u32(a.segmentMs)],
  ]);
}

/**
 * The audio encoder's metadata. `qwen3a` is exactly what upstream llama.cpp's converter writes;
 * `qwen3asr` is the same plus the windowing keys our patched encoder reads.
 */
export function mmprojMetadata(name: string, cfg: Qwen3AsrConfig, out: OutType, format: MmprojFormat): Map<string, MetaValue> {
  const a = cfg.audio;
  const m = new Map<string, MetaValue>([
    ...generalMetadata('clip', 'mmproj', name, out),
    ['clip.has_audio_encoder', meta.bool(true)],
    ...u32Entries('clip.audio.', {
      projection_dim: cfg.text.hiddenSize,
      embedding_length: a.dModel,
      feed_forward_length: a.ffnDim,
      block_count: a.layers,
      'attention.head_count': a.heads,
      num_mel_bins: a.numMelBins,
    }),
    ['clip.audio.attention.layer_norm_epsilon', meta.f32(a.layerNormEps)],
    ['clip.audio.projector_type', meta.str(format)],
  ]);
  if (format === 'qwen3asr') {
    const windowing = u32Entries('clip.audio.', {
      n_window: a.nWindow,
      n_window_infer: a.nWindowInfer,
      downsample_hidden_size: a.downsampleHiddenSize,
      max_source_positions: a.maxSourcePositions,
      conv_chunksize: a.convChunksize,
    });
    for (const [k, v] of windowing) m.set(k, v);
  }
  return m;
}
