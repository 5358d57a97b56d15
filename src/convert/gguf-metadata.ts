import { FILE_TYPE, type OutType } from './ggml-types.js';
import { GGUF_ALIGNMENT, meta, type MetaValue } from './gguf-writer.js';
import type { MmprojFormat } from './qwen3asr-tensors.js';
import type { Qwen3AsrConfig } from './qwen3asr-config.js';
import type { GgufVocab } from './tokenizer.js';

/** The metadata llama.cpp reads for the decoder: architecture qwen3 (llama-arch.cpp, models/qwen3.cpp). */
export function textMetadata(name: string, cfg: Qwen3AsrConfig, vocab: GgufVocab, out: OutType): Map<string, MetaValue> {
  const t = cfg.text;
  const m = new Map<string, MetaValue>([
    ['general.architecture', meta.str('qwen3')],
    ['general.type', meta.str('model')],
    ['general.name', meta.str(name)],
    ['general.alignment', meta.u32(GGUF_ALIGNMENT)],
    ['general.file_type', meta.u32(FILE_TYPE[out])],
    ['general.quantization_version', meta.u32(2)],
    ['qwen3.block_count', meta.u32(t.layers)],
    ['qwen3.context_length', meta.u32(t.maxPositionEmbeddings)],
    ['qwen3.embedding_length', meta.u32(t.hiddenSize)],
    ['qwen3.feed_forward_length', meta.u32(t.intermediateSize)],
    ['qwen3.attention.head_count', meta.u32(t.heads)],
    ['qwen3.attention.head_count_kv', meta.u32(t.kvHeads)],
    ['qwen3.attention.key_length', meta.u32(t.headDim)],
    ['qwen3.attention.value_length', meta.u32(t.headDim)],
    // Audio-only input gives all three M-RoPE streams the same position, which is plain NeoX rope.
    ['qwen3.rope.freq_base', meta.f32(t.ropeTheta)],
    ['qwen3.attention.layer_norm_rms_epsilon', meta.f32(t.rmsNormEps)],
    ['tokenizer.ggml.model', meta.str('gpt2')],
    ['tokenizer.ggml.pre', meta.str('qwen2')],
    ['tokenizer.ggml.tokens', meta.strings(vocab.tokens)],
    ['tokenizer.ggml.token_type', meta.i32s(vocab.tokenTypes)],
    ['tokenizer.ggml.merges', meta.strings(vocab.merges)],
    ['tokenizer.ggml.bos_token_id', meta.u32(vocab.bosId)],
    ['tokenizer.ggml.eos_token_id', meta.u32(vocab.eosId)],
    ['tokenizer.ggml.eot_token_id', meta.u32(vocab.eotId)],
    ['tokenizer.ggml.padding_token_id', meta.u32(vocab.padId)],
    ['tokenizer.ggml.add_bos_token', meta.bool(false)],
  ]);
  if (vocab.chatTemplate !== undefined) m.set('tokenizer.chat_template', meta.str(vocab.chatTemplate));
  return m;
}

/**
 * The audio encoder's metadata. `qwen3a` is exactly what upstream llama.cpp's converter writes;
 * `qwen3asr` is the same plus the windowing keys our patched encoder reads.
 */
export function mmprojMetadata(name: string, cfg: Qwen3AsrConfig, out: OutType, format: MmprojFormat): Map<string, MetaValue> {
  const a = cfg.audio;
  const m = new Map<string, MetaValue>([
    ['general.architecture', meta.str('clip')],
    ['general.type', meta.str('mmproj')],
    ['general.name', meta.str(name)],
    ['general.alignment', meta.u32(GGUF_ALIGNMENT)],
    ['general.file_type', meta.u32(FILE_TYPE[out])],
    ['general.quantization_version', meta.u32(2)],
    ['clip.has_audio_encoder', meta.bool(true)],
    ['clip.audio.projection_dim', meta.u32(cfg.text.hiddenSize)],
    ['clip.audio.embedding_length', meta.u32(a.dModel)],
    ['clip.audio.feed_forward_length', meta.u32(a.ffnDim)],
    ['clip.audio.block_count', meta.u32(a.layers)],
    ['clip.audio.attention.head_count', meta.u32(a.heads)],
    ['clip.audio.num_mel_bins', meta.u32(a.numMelBins)],
    ['clip.audio.attention.layer_norm_epsilon', meta.f32(a.layerNormEps)],
    ['clip.audio.projector_type', meta.str(format)],
  ]);
  if (format === 'qwen3asr') {
    m.set('clip.audio.n_window', meta.u32(a.nWindow));
    m.set('clip.audio.n_window_infer', meta.u32(a.nWindowInfer));
    m.set('clip.audio.downsample_hidden_size', meta.u32(a.downsampleHiddenSize));
    m.set('clip.audio.max_source_positions', meta.u32(a.maxSourcePositions));
    m.set('clip.audio.conv_chunksize', meta.u32(a.convChunksize));
  }
  return m;
}
