import path from 'node:path';
import { UserError } from '../errors.js';
import type { HubFile } from './hub.js';

/**
 * Which two files of a Hugging Face repository make the model: a text GGUF of the wanted
 * quantization and an mmproj GGUF (the audio encoder). Pure: the repository's listing in, a
 * choice or one clear line out.
 */
export interface PickedPair {
  readonly text: HubFile;
  readonly mmproj: HubFile;
  /** The text file's quantization as its name states it, or null when the name states none. */
  readonly quant: string | null;
}

/**
 * Text quantizations when none is asked for: Q8_0 first (what ggml-org publishes, near-lossless),
 * then higher precision before smaller files, F32 last (four times Q8_0's size for no audible gain).
 */
export const TEXT_QUANT_ORDER = [
  'Q8_0', 'F16', 'BF16', 'Q6_K', 'Q5_K_M', 'Q5_K_S', 'Q4_K_M', 'Q4_K_S', 'Q5_0', 'Q4_0',
  'IQ4_XS', 'IQ4_NL', 'Q3_K_L', 'Q3_K_M', 'Q3_K_S', 'Q2_K', 'F32',
] as const;

/** The encoder is small and sensitive: the text's own quantization if there is one, else F16 first. */
const MMPROJ_QUANT_ORDER = ['F16', 'BF16', 'Q8_0', 'F32'] as const;

/** llama.cpp names its types like this at the end of a file name: `...-Q4_K_M.gguf`, `..._f16.gguf`. */
export function quantOf(file: string): string | null {
  const stem = path.posix.basename(file).replace(/\.gguf$/i, '').toUpperCase();
  const m = /(?:^|[-_.])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|TQ\d_\d|MXFP4(?:_MOE)?)$/.exec(stem);
  return m ? m[1] : null;
}

const isGguf = (f: HubFile) => /\.gguf$/i.test(f.path);
const isShard = (f: HubFile) => /-\d{5}-of-\d{5}\.gguf$/i.test(f.path);
const isMmproj = (f: HubFile) => /mmproj/i.test(path.posix.basename(f.path));

/** Orders candidates by `order` (unlisted quantizations after, by name), shorter paths first on ties. */
function byPreference(files: readonly HubFile[], order: readonly string[]): HubFile[] {
  const rank = (f: HubFile) => {
    const q = quantOf(f.path);
    const i = q === null ? -1 : order.indexOf(q);
    return i >= 0 ? i : q === null ? order.length + 1 : order.length;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || a.path.length - b.path.length || a.path.localeCompare(b.path));
}

/** A repository's contents in a few words, for the line that says it is not usable. */
export function describeFiles(files: readonly HubFile[]): string {
  if (files.length === 0) return 'it is empty';
  const names = files.map((f) => f.path);
  const shown = names.slice(0, 8).join(', ');
  return `it holds ${shown}${names.length > 8 ? ` and ${names.length - 8} more` : ''}`;
}

export function pickPair(repo: string, files: readonly HubFile[], quant: string | null): PickedPair {
  const ggufs = files.filter((f) => isGguf(f) && !isShard(f));
  const texts = ggufs.filter((f) => !isMmproj(f));
  const mmprojs = ggufs.filter(isMmproj);
  if (texts.length === 0 || mmprojs.length === 0) {
    const shards = files.some(isShard) ? ' (split GGUF files are not supported)' : '';
    throw new UserError(`${repo} has no Qwen3-ASR GGUF pair (a text GGUF and an mmproj GGUF)${shards}: ${describeFiles(files)}`, {
      hint: 'use a repository that has both, such as hf:ggml-org/Qwen3-ASR-0.6B-GGUF, or a checkpoint folder with --model',
    });
  }
  const available = [...new Set(byPreference(texts, TEXT_QUANT_ORDER).map((f) => quantOf(f.path)).filter((q): q is string => q !== null))];
  let text: HubFile;
  if (quant !== null) {
    const matching = byPreference(texts.filter((f) => quantOf(f.path) === quant), []);
    if (matching.length === 0) {
      throw new UserError(`${repo} has no ${quant} text GGUF: ${available.length > 0 ? `it has ${available.join(', ')}` : describeFiles(texts)}`, {
        hint: available.length > 0 ? `pick one of them, for example hf:${repo}:${available[0]}` : `leave the quantization out: hf:${repo}`,
      });
    }
    text = matching[0];
  } else {
    const unlabelled = texts.filter((f) => quantOf(f.path) === null);
    if (available.length === 0 && unlabelled.length > 1) {
      throw new UserError(`${repo} has several text GGUFs and their names do not say which quantization each is: ${describeFiles(texts)}`, {
        hint: 'download the pair you want and give it with --model TEXT.gguf --mmproj MMPROJ.gguf',
      });
    }
    text = byPreference(texts, TEXT_QUANT_ORDER)[0];
  }
  const textQuant = quantOf(text.path);
  const mmOrder = textQuant ? [textQuant, ...MMPROJ_QUANT_ORDER.filter((q) => q !== textQuant)] : [...MMPROJ_QUANT_ORDER];
  return { text, mmproj: byPreference(mmprojs, mmOrder)[0], quant: textQuant };
}
