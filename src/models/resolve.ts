import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../util/log.js';
import { validateModelPair, type ModelPair } from './validate.js';

export interface ResolvedModel extends ModelPair {
  /** How the model is named in outputs: the alias, or the text file's name. */
  readonly name: string;
}

function isPathLike(model: string): boolean {
  return model.endsWith('.gguf') || model.includes('/') || model.includes(path.sep) || fs.existsSync(model);
}

/** An mmproj next to the text model: the one file in its folder whose name says mmproj. */
function siblingMmproj(textPath: string): string | null {
  const dir = path.dirname(textPath);
  const candidates = fs.readdirSync(dir).filter((n) => /mmproj/i.test(n) && n.endsWith('.gguf'));
  return candidates.length === 1 ? path.join(dir, candidates[0]) : null;
}

/**
 * Turns `--model` / `--mmproj` into a validated pair of files. A path to a text GGUF takes its
 * encoder from `--mmproj`, or from the single `*mmproj*.gguf` beside it.
 */
export async function resolveModel(model: string, mmproj: string | null, log: Log): Promise<ResolvedModel> {
  if (!isPathLike(model)) {
    throw new UserError(`model '${model}' is not available here`, {
      hint: 'give the files: --model TEXT.gguf --mmproj MMPROJ.gguf',
    });
  }
  const text = path.resolve(model);
  if (fs.existsSync(text) && fs.statSync(text).isDirectory()) {
    throw new UserError(`--model ${model} is a folder`, { hint: 'give the text GGUF file, or convert a checkpoint folder first with `qwen3asr convert`' });
  }
  const encoder = mmproj ? path.resolve(mmproj) : fs.existsSync(text) ? siblingMmproj(text) : null;
  if (!encoder) {
    throw new UserError(`no audio encoder given for ${model}`, { hint: 'add --mmproj MMPROJ.gguf' });
  }
  const pair = validateModelPair(text, encoder);
  log.debug(`model: ${pair.text} + ${pair.mmproj} (${pair.projector}, ${pair.windowSeconds} s window)`);
  return { ...pair, name: path.basename(text) };
}
