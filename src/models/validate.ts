import fs from 'node:fs';
import { GgufFormatError, metaNumber, metaString, readGgufHeader, type GgufHeader } from '../gguf/read-header.js';
import { UserError } from '../errors.js';
import { expectedMinimumSize } from '../gguf/tensor-size.js';

/** A text model and audio encoder that belong together, checked before any binary starts. */
export interface ModelPair {
  readonly text: string;
  readonly mmproj: string;
  /** 'qwen3asr' (ours) or 'qwen3a' (upstream llama.cpp's format). */
  readonly projector: 'qwen3asr' | 'qwen3a';
  /** The encoder's attention window in seconds: the natural longest window for one call. */
  readonly windowSeconds: number;
  readonly embeddingWidth: number;
}

const TEXT_ARCHITECTURES = ['qwen3'];
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

function header(file: string, role: string, label: string): GgufHeader {
  if (!fs.existsSync(file)) throw new UserError(`${role} not found: ${label}`, { hint: 'check the path' });
  let h: GgufHeader;
  try {
    h = readGgufHeader(file);
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
 * Checks both files and that they fit together; throws a UserError naming the file at fault.
 * `labels` names the files in messages when the paths are temporary ones.
 */
export function validateModelPair(textPath: string, mmprojPath: string, labels?: PairLabels): ModelPair {
  const textLabel = labels?.text ?? textPath;
  const mmLabel = labels?.mmproj ?? mmprojPath;
  const text = header(textPath, 'text model', textLabel);
  const arch = metaString(text, 'general.architecture');
  if (arch === 'clip') {
    throw new UserError(`${textLabel} is an encoder (mmproj) file, not a text model`, { hint: 'pass it with --mmproj and the text GGUF with --model' });
  }
  if (!arch || !TEXT_ARCHITECTURES.includes(arch)) {
    throw new UserError(`${textLabel} is a '${arch ?? 'unknown'}' model, not a Qwen3-ASR text model (architecture qwen3)`);
  }
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
    projector: projector as ModelPair['projector'],
    windowSeconds: windowFrames / FRAMES_PER_SECOND,
    embeddingWidth: width,
  };
}
