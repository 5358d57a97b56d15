import fs from 'node:fs';
import { GgufFormatError, metaNumber, metaString, readGgufHeader, type GgufHeader } from '../gguf/read-header.js';
import { UserError } from '../errors.js';
import { expectedMinimumSize } from '../gguf/tensor-size.js';

/**
 * The text architectures a Qwen3-ASR decoder comes in: `qwen3` (our converter) or `qwen3vl`
 * (upstream llama.cpp's convert_hf_to_gguf.py, the files on Hugging Face), the same weights.
 */
export type TextArchitecture = 'qwen3' | 'qwen3vl';

/** A text model and audio encoder that belong together, checked before any binary starts. */
export interface ModelPair {
  readonly text: string;
  readonly mmproj: string;
  readonly textArchitecture: TextArchitecture;
  /** 'qwen3asr' (ours) or 'qwen3a' (upstream llama.cpp's format). */
  readonly projector: 'qwen3asr' | 'qwen3a';
  /** The encoder's attention window in seconds: the natural longest window for one call. */
  readonly windowSeconds: number;
  readonly embeddingWidth: number;
  /** A Qwen3-ForcedAligner's timestamps (its text GGUF's qwen3asr.aligner.* keys); null for a transcription model. */
  readonly aligner: AlignerMeta | null;
}

/** What an aligner's text GGUF says about its timestamps (src/convert writes these keys). */
export interface AlignerMeta {
  readonly timestampToken: number;
  readonly segmentMs: number;
}

function alignerMeta(h: GgufHeader): AlignerMeta | null {
  const timestampToken = metaNumber(h, 'qwen3asr.aligner.timestamp_token_id');
  const segmentMs = metaNumber(h, 'qwen3asr.aligner.segment_ms');
  return timestampToken !== null && segmentMs !== null && segmentMs > 0 ? { timestampToken, segmentMs } : null;
}

const TEXT_ARCHITECTURES: readonly string[] = ['qwen3', 'qwen3vl'] satisfies TextArchitecture[];
/** Tokens only Qwen3-ASR's vocabulary has (a plain Qwen3 or Qwen3-VL stops at 151668). */
const AUDIO_MARKERS = ['<|audio_start|>', '<|audio_end|>', '<|audio_pad|>'];
const TOKENS_KEY = 'tokenizer.ggml.tokens';
const PROJECTORS = ['qwen3asr', 'qwen3a'] as const;
/** 100 mel frames per second (hop 160 at 16 kHz). */
const FRAMES_PER_SECOND = 100;
/** Upstream's qwen3a files carry no window size: the released models' 800 frames. */
const DEFAULT_WINDOW_FRAMES = 800;

/** How the files are named in messages, when their paths on disk are temporary (`*.part`). */
export interface PairLabels {
  readonly text: string;
  readonly mmproj: string;
}

function header(file: string, role: string, label: string, keepArrays: readonly string[] = []): GgufHeader {
  if (!fs.existsSync(file)) throw new UserError(`${role} not found: ${label}`, { hint: 'check the path' });
  let h: GgufHeader;
  try {
    h = readGgufHeader(file, { keepArrays });
  } catch (err) {
    if (err instanceof GgufFormatError) throw new UserError(`${label} is not a usable GGUF ${role}: ${err.message}`);
    throw err;
  }
  // A cut-short download or copy keeps a perfect header: only the length gives it away.
  const need = expectedMinimumSize(h);
  if (need !== null && BigInt(h.fileSize) < need) {
    throw new UserError(`${label} is truncated: ${h.fileSize} bytes, but its tensors need ${need}`, {
      hint: 'download or copy it again',
    });
  }
  return h;
}

/**
 * The decoder's architecture, if it is a Qwen3-ASR decoder: `qwen3`, or `qwen3vl` without
 * deepstack layers (upstream writes n_deepstack_layers = 0 for Qwen3-ASR; a Qwen3-VL has them).
 * Where the file has a vocabulary it must hold the audio markers; a qwen3vl file must have one.
 */
function textArchitecture(h: GgufHeader, label: string): TextArchitecture {
  const arch = metaString(h, 'general.architecture');
  if (arch === 'clip') {
    throw new UserError(`${label} is an encoder (mmproj) file, not a text model`, { hint: 'pass it with --mmproj and the text GGUF with --model' });
  }
  if (!arch || !TEXT_ARCHITECTURES.includes(arch)) {
    throw new UserError(`${label} is a '${arch ?? 'unknown'}' model, not a Qwen3-ASR text model (architecture qwen3 or qwen3vl)`);
  }
  if (arch === 'qwen3vl') {
    const deepstack = metaNumber(h, 'qwen3vl.n_deepstack_layers');
    if (deepstack === null) throw new UserError(`${label} is a qwen3vl model without qwen3vl.n_deepstack_layers, not a Qwen3-ASR text model`);
    if (deepstack !== 0) {
      throw new UserError(`${label} is a Qwen3-VL vision-language model (${deepstack} deepstack layers), not a Qwen3-ASR text model`);
    }
  }
  const tokens = h.metadata.get(TOKENS_KEY);
  const items = typeof tokens === 'object' ? tokens.items : undefined;
  if (items || arch === 'qwen3vl') {
    const have = new Set(items ?? []);
    const missing = AUDIO_MARKERS.filter((t) => !have.has(t));
    if (missing.length) {
      throw new UserError(`${label} is a ${arch} text model without Qwen3-ASR's audio tokens (no ${missing.join(', ')}), not a Qwen3-ASR text model`);
    }
  }
  return arch as TextArchitecture;
}

/**
 * Checks both files and that they fit together; throws a UserError naming the file at fault.
 * `labels` names the files in messages when the paths are temporary ones.
 */
export function validateModelPair(textPath: string, mmprojPath: string, labels?: PairLabels): ModelPair {
  const textLabel = labels?.text ?? textPath;
  const mmLabel = labels?.mmproj ?? mmprojPath;
  const text = header(textPath, 'text model', textLabel, [TOKENS_KEY]);
  const arch = textArchitecture(text, textLabel);
  const width = metaNumber(text, `${arch}.embedding_length`);
  if (!width) throw new UserError(`${textLabel} lacks ${arch}.embedding_length`);

  const mm = header(mmprojPath, 'audio encoder', mmLabel);
  if (metaString(mm, 'general.architecture') !== 'clip') {
    throw new UserError(`${mmLabel} is not an encoder (mmproj) file`, { hint: 'give the Qwen3-ASR mmproj GGUF with --mmproj' });
  }
  const projector = metaString(mm, 'clip.audio.projector_type') ?? metaString(mm, 'clip.projector_type');
  if (!projector || !(PROJECTORS as readonly string[]).includes(projector)) {
    const what = mm.metadata.get('clip.has_vision_encoder') === true && mm.metadata.get('clip.has_audio_encoder') !== true ? 'a vision encoder' : `projector '${projector ?? 'unknown'}'`;
    throw new UserError(`${mmLabel} is ${what}, not a Qwen3-ASR audio encoder (qwen3asr or qwen3a)`);
  }
  const out = mm.tensors.find((t) => t.name === 'mm.a.mlp.2.weight');
  const outWidth = out?.shape[1] ?? metaNumber(mm, 'clip.audio.projection_dim');
  if (outWidth !== width) {
    throw new UserError(
      `${mmLabel} produces ${outWidth ?? 'unknown'}-wide embeddings but ${textLabel} expects ${width}`,
      { hint: 'use the text model and mmproj of the same size (0.6B with 0.6B, 1.7B with 1.7B)' },
    );
  }
  const windowFrames = metaNumber(mm, 'clip.audio.n_window_infer') ?? DEFAULT_WINDOW_FRAMES;
  return {
    text: textPath,
    mmproj: mmprojPath,
    textArchitecture: arch,
    projector: projector as ModelPair['projector'],
    windowSeconds: windowFrames / FRAMES_PER_SECOND,
    embeddingWidth: width,
    aligner: alignerMeta(text),
  };
}
