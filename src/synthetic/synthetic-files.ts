/**
 * The small JSON files of a synthetic Qwen3-ASR folder, laid out like the real Hugging Face
 * ones (same keys, same nesting) but built here from the stand-in's dimensions and token ids.
 */
import type { AlignerHparams, AudioHparams, TextHparams } from '../convert/qwen3asr-config.js';

/** The dimensions a synthetic stand-in chooses; the rest of its config.json keeps the real values. */
export interface SyntheticDims {
  readonly audio: Pick<AudioHparams, 'dModel' | 'layers' | 'heads' | 'ffnDim' | 'outputDim' | 'downsampleHiddenSize'>;
  readonly text: Pick<TextHparams, 'hiddenSize' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'intermediateSize'>;
}

/** Every added token of the official tokenizer_config.json, in id order, with its `special` flag. */
/** The tokenizer's added tokens in id order, each with its `special` flag. */
export type AddedTokens = readonly (readonly [string, boolean])[];

export const OFFICIAL_ADDED_TOKENS: AddedTokens = [
  ...['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>', '<|box_end|>',
    '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>'].map(
    (t) => [t, true] as const,
  ),
  ...['<tool_call>', '</tool_call>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>',
    '<tool_response>', '</tool_response>', '<think>', '</think>'].map((t) => [t, false] as const),
  ['<|audio_start|>', true],
  ['<|audio_end|>', true],
  ['<tts_pad>', true],
  ['<tts_text_bos>', true],
  ['<tts_text_eod>', true],
  ['<tts_text_bos_single>', true],
  ['<non_speech>', false],
  ['<|audio_pad|>', true],
  ...Array.from({ length: 27 }, (_, i) => [`<blank${i + 1}>`, true] as const),
  ['<asr_text>', false],
];

/** The forced aligner's tokenizer: the ASR's added tokens, then `<timestamp>` (not special: plain text may name it). */
export const ALIGNER_ADDED_TOKENS: AddedTokens = [...OFFICIAL_ADDED_TOKENS, ['<timestamp>', false]];

/** The aligner's support_languages, in its config.json's order. */
export const ALIGNER_LANGUAGES = [
  'Chinese', 'Cantonese', 'English', 'German', 'Spanish', 'French', 'Italian', 'Portuguese', 'Russian', 'Korean', 'Japanese',
];

export const SUPPORTED_LANGUAGES = [
  'Chinese', 'English', 'Cantonese', 'Arabic', 'German', 'French', 'Spanish', 'Portuguese', 'Indonesian', 'Italian', 'Korean',
  'Russian', 'Thai', 'Vietnamese', 'Japanese', 'Turkish', 'Hindi', 'Malay', 'Dutch', 'Swedish', 'Danish', 'Finnish', 'Polish',
  'Czech', 'Filipino', 'Persian', 'Greek', 'Romanian', 'Hungarian', 'Macedonian',
];

/** The generation boilerplate transformers' PretrainedConfig serializes into every sub-config. */
function pretrainedBoilerplate(): Record<string, unknown> {
  return {
    _name_or_path: '', add_cross_attention: false, architectures: null, bad_words_ids: null, begin_suppress_tokens: null,
    bos_token_id: null, chunk_size_feed_forward: 0, cross_attention_hidden_size: null, decoder_start_token_id: null,
    diversity_penalty: 0.0, do_sample: false, dtype: null, early_stopping: false, encoder_no_repeat_ngram_size: 0,
    eos_token_id: null, exponential_decay_length_penalty: null, finetuning_task: null, forced_bos_token_id: null,
    forced_eos_token_id: null, id2label: { '0': 'LABEL_0', '1': 'LABEL_1' }, initializer_range: 0.02, is_decoder: false,
    is_encoder_decoder: false, label2id: { LABEL_0: 0, LABEL_1: 1 }, length_penalty: 1.0, max_length: 20, min_length: 0,
    no_repeat_ngram_size: 0, num_beam_groups: 1, num_beams: 1, num_return_sequences: 1, output_attentions: false,
    output_hidden_states: false, output_scores: false, pad_token_id: null, prefix: null, problem_type: null, pruned_heads: {},
    remove_invalid_values: false, repetition_penalty: 1.0, return_dict: true, return_dict_in_generate: false, sep_token_id: null,
    suppress_tokens: null, task_specific_params: null, temperature: 1.0, tf_legacy_loss: false, tie_encoder_decoder: false,
    tie_word_embeddings: true, tokenizer_class: null, top_k: 50, top_p: 1.0, torchscript: false, typical_p: 1.0,
    use_bfloat16: false,
  };
}

const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

export interface SpecialIds {
  readonly audioStart: number;
  readonly audioEnd: number;
  readonly audioPad: number;
}

/**
 * The real models' M-RoPE split of the rotary pairs, [24, 20, 20] for head_dim 128, scaled to the
 * stand-in's head_dim: the sections must not exceed head_dim / 2 (llama.cpp's qwen3vl asserts it).
 */
export function mropeSection(headDim: number): number[] {
  const real = [24, 20, 20];
  const pairs = headDim / 2;
  const s = real.map((x) => Math.floor((x * pairs) / 64));
  s[0] += pairs - s.reduce((a, b) => a + b, 0);
  return s;
}

export function configJson(dims: SyntheticDims, vocabSize: number, ids: SpecialIds, tied: boolean): Record<string, unknown> {
  const a = dims.audio;
  const t = dims.text;
  const audio = sortKeys({
    ...pretrainedBoilerplate(),
    activation_dropout: 0, activation_function: 'gelu', attention_dropout: 0, conv_chunksize: 500, d_model: a.dModel,
    downsample_hidden_size: a.downsampleHiddenSize, dropout: 0, encoder_attention_heads: a.heads, encoder_ffn_dim: a.ffnDim,
    encoder_layers: a.layers, max_source_positions: 1500, model_type: 'qwen3_asr_audio_encoder', n_window: 50,
    n_window_infer: 800, num_hidden_layers: a.layers, num_mel_bins: 128, output_dim: a.outputDim, scale_embedding: false,
  });
  const text = sortKeys({
    ...pretrainedBoilerplate(),
    attention_bias: false, attention_dropout: 0.0, head_dim: t.headDim, hidden_act: 'silu', hidden_size: t.hiddenSize,
    intermediate_size: t.intermediateSize, max_position_embeddings: 65536, model_type: 'qwen3', num_attention_heads: t.heads,
    num_hidden_layers: t.layers, num_key_value_heads: t.kvHeads, rms_norm_eps: 1e-6,
    rope_scaling: { interleaved: true, mrope_interleaved: true, mrope_section: mropeSection(t.headDim), rope_type: 'default', type: 'default' },
    rope_theta: 1000000, tie_word_embeddings: tied, use_cache: true, vocab_size: vocabSize,
  });
  return {
    architectures: ['Qwen3ASRForConditionalGeneration'],
    model_type: 'qwen3_asr',
    support_languages: SUPPORTED_LANGUAGES,
    thinker_config: {
      model_type: 'qwen3_asr',
      architectures: ['Qwen3ASRForConditionalGeneration'],
      audio_config: audio,
      audio_end_token_id: ids.audioEnd,
      audio_start_token_id: ids.audioStart,
      audio_token_id: ids.audioPad,
      dtype: 'bfloat16',
      initializer_range: 0.02,
      text_config: text,
    },
    transformers_version: '4.57.6',
  };
}

/**
 * Qwen3-ForcedAligner's config.json: the ASR layout with the thinker renamed, the class count, the
 * two top-level timestamp keys, an untied head and the aligner's shorter context, keys in its order.
 */
export function alignerConfigJson(dims: SyntheticDims, vocabSize: number, ids: SpecialIds, aligner: AlignerHparams): Record<string, unknown> {
  const base = configJson(dims, vocabSize, ids, false);
  const { model_type: _type, ...thinker } = base.thinker_config as Record<string, unknown>;
  const audio = { ...(thinker.audio_config as Record<string, unknown>), tie_word_embeddings: false };
  const text = { ...(thinker.text_config as Record<string, unknown>), max_position_embeddings: 8192 };
  return {
    architectures: base.architectures,
    timestamp_token_id: aligner.timestampTokenId,
    timestamp_segment_time: aligner.segmentMs,
    model_type: base.model_type,
    support_languages: ALIGNER_LANGUAGES,
    thinker_config: { model_type: 'qwen3_forced_aligner', classify_num: aligner.classifyNum, ...thinker, audio_config: audio, text_config: text },
    transformers_version: base.transformers_version,
  };
}

export function generationConfigJson(endOfText: number, imEnd: number): Record<string, unknown> {
  return { _from_model_config: true, eos_token_id: [endOfText, imEnd], pad_token_id: endOfText, do_sample: false, temperature: 0.000001 };
}

export function preprocessorConfigJson(): Record<string, unknown> {
  return {
    chunk_length: 30, dither: 0.0, feature_extractor_type: 'WhisperFeatureExtractor', feature_size: 128, hop_length: 160,
    n_fft: 400, n_samples: 480000, nb_max_frames: 3000, padding_side: 'right', padding_value: 0.0,
    processor_class: 'Qwen3ASRProcessor', return_attention_mask: true,
  };
}

export function tokenizerConfigJson(firstAddedId: number, added = OFFICIAL_ADDED_TOKENS): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  added.forEach(([content, special], i) => {
    decoder[String(firstAddedId + i)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special };
  });
  const extra = {
    audio_bos_token: '<|audio_start|>', audio_eos_token: '<|audio_end|>', audio_token: '<|audio_pad|>', image_token: '<|image_pad|>',
    video_token: '<|video_pad|>', vision_bos_token: '<|vision_start|>', vision_eos_token: '<|vision_end|>',
  };
  return sortKeys({
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>', '<|box_end|>',
      '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>',
      '<|audio_start|>', '<|audio_end|>', '<tts_pad>', '<tts_text_bos>', '<tts_text_bos_single>', '<|audio_pad|>'],
    ...extra,
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    extra_special_tokens: extra,
    model_max_length: 131072,
    pad_token: '<|endoftext|>',
    processor_class: 'Qwen3ASRProcessor',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  });
}

/**
 * Our own Jinja template with the official one's behaviour: system text gathered from every
 * system message, one audio placeholder per audio item (user text dropped), an always-present
 * system turn, one user turn, and the assistant header on request.
 */
export const CHAT_TEMPLATE = [
  '{%- set acc = namespace(sys="", audio="") -%}',
  '{%- for msg in messages -%}',
  '{%- if msg.role == "system" and msg.content is string -%}{%- set acc.sys = acc.sys + msg.content -%}',
  '{%- elif msg.role == "system" -%}{%- for part in msg.content -%}{%- if part.type == "text" and part.text is defined -%}{%- set acc.sys = acc.sys + part.text -%}{%- endif -%}{%- endfor -%}',
  '{%- endif -%}',
  '{%- if msg.content is not string -%}{%- for part in msg.content -%}',
  '{%- if part.type == "audio" or "audio" in part or "audio_url" in part -%}{%- set acc.audio = acc.audio + "<|audio_start|><|audio_pad|><|audio_end|>" -%}{%- endif -%}',
  '{%- endfor -%}{%- endif -%}',
  '{%- endfor -%}',
  '{{- "<|im_start|>system\\n" + acc.sys + "<|im_end|>\\n<|im_start|>user\\n" + acc.audio + "<|im_end|>\\n" -}}',
  '{%- if add_generation_prompt -%}{{- "<|im_start|>assistant\\n" -}}{%- endif -%}',
].join('\n');
