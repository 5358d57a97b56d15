import fs from 'node:fs';
import path from 'node:path';
import { UsageError, UserError } from '../errors.js';
import { interruptSignal } from '../util/cleanup.js';
import type { Log, LogLevel } from '../util/log.js';
import { readCached, type CachedModel } from './cache.js';
import { findCatalogModel, isValidName, loadCatalog } from './catalog.js';
import { hfName, isHfName, parseHfRef, type HfRef } from './hf-ref.js';
import { checkpointModel, isCheckpointDir, type ConvertCheckpoint } from './checkpoint.js';
import { validateModelPair, type ModelPair } from './validate.js';

export interface ResolvedModel extends ModelPair {
  /** How the model is named in outputs: the alias, or the text file's name. */
  readonly name: string;
}

export interface ResolveOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** For the download bar; defaults to the log's level. */
  readonly level?: LogLevel;
  /** Injected converter (tests, or once src/convert/ is merged); else loaded on demand. */
  readonly convert?: ConvertCheckpoint;
}

/** Something the user typed as a file path, rather than a name. */
function looksLikePath(model: string): boolean {
  return model.toLowerCase().endsWith('.gguf') || model.includes('/') || model.includes(path.sep) || model.startsWith('.');
}

/** An mmproj next to the text model: the one file in its folder whose name says mmproj. */
/**
 * An mmproj next to the text model: the one file in its folder whose name says mmproj, or, in a
 * folder holding several (a whole ggml-org repo: one per quantization), `mmproj-<text name>`.
 */
function siblingMmproj(textPath: string): string | null {
  const dir = path.dirname(textPath);
  const candidates = fs.readdirSync(dir).filter((n) => /mmproj/i.test(n) && n.endsWith('.gguf'));
  if (candidates.length === 1) return path.join(dir, candidates[0]);
  const named = `mmproj-${path.basename(textPath)}`;
  return candidates.includes(named) ? path.join(dir, named) : null;
}

function fromCache(m: CachedModel): ResolvedModel {
  // Checked on every use: cheap (headers only), and catches a cache damaged since.
  return { ...validateModelPair(m.textPath, m.mmprojPath), name: m.name };
}

/**
 * Turns `--model` / `--mmproj` into a validated pair of files:
 *  - a checkpoint folder (has config.json): converted once into the cache, then reused;
 *  - a path to a text GGUF: its encoder from `--mmproj`, or the single `*mmproj*.gguf` beside it;
 *  - a name: a model in the cache (pulled or imported), else a catalog alias, downloaded now;
 *  - `hf:OWNER/REPO[:QUANT]`: that pair from the Hugging Face repository, downloaded once.
 */
export async function resolveModel(model: string, mmproj: string | null, log: Log, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const env = options.env ?? process.env;
  const signal = options.signal ?? interruptSignal;
  if (isHfName(model)) {
    if (mmproj) throw new UsageError(`--mmproj does not go with a Hugging Face repository (${model})`, 'the repository provides its mmproj; drop --mmproj');
    return byHfRef(parseHfRef(model), log, env, signal, options.level ?? log.level);
  }
  const isName = !looksLikePath(model) && isValidName(model);
  const known = isName && (readCached(model, env) !== null || findCatalogModel(model) !== null);

  if (!known && isCheckpointDir(model)) {
    if (mmproj) throw new UsageError(`--mmproj does not go with a checkpoint folder (${model})`, 'the conversion makes its own mmproj; drop --mmproj');
    return fromCache(await checkpointModel(model, { log, env, signal, convert: options.convert }));
  }
  if (known || (isName && !fs.existsSync(model))) {
    if (mmproj) {
      throw new UsageError(`--mmproj goes with a --model path, not the model name '${model}'`, 'give --model TEXT.gguf --mmproj MMPROJ.gguf, or just the name');
    }
    return byName(model, log, env, signal, options.level ?? log.level);
  }
  return byPath(model, mmproj, log);
}

/**
 * Whether `resolveModel` would find the model here, fetching and converting nothing: a GGUF path that
 * exists, or a name already in the cache. (Anything else may download or convert; false then.)
 */
export function resolvesLocally(model: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (isHfName(model)) return false;
  if (looksLikePath(model)) return model.toLowerCase().endsWith('.gguf') && fs.existsSync(model);
  return isValidName(model) && readCached(model, env) !== null;
}

async function byName(name: string, log: Log, env: NodeJS.ProcessEnv, signal: AbortSignal, level: LogLevel): Promise<ResolvedModel> {
  const cached = readCached(name, env);
  if (cached) return fromCache(cached);
  const entry = findCatalogModel(name);
  if (!entry) {
    const aliases = loadCatalog().models.map((m) => m.alias).join(', ');
    throw new UserError(`unknown model '${name}'`, {
      hint: `use one of ${aliases} (see \`qwen3asr models list\`), a name from \`qwen3asr models import\`, or --model TEXT.gguf --mmproj MMPROJ.gguf`,
    });
  }
  // Loaded only when a download is due: the HTTP stack (undici) is a noticeable part of the
  // start-up of every run that has its model already.
  const { pullModel } = await import('./pull.js');
  const { model } = await pullModel(entry, { log, level, env, signal });
  return fromCache(model);
}

async function byHfRef(ref: HfRef, log: Log, env: NodeJS.ProcessEnv, signal: AbortSignal, level: LogLevel): Promise<ResolvedModel> {
  const cached = readCached(hfName(ref), env);
  if (cached) return fromCache(cached);
  const { pullHf } = await import('./pull.js');
  const { model } = await pullHf(ref, { log, level, env, signal });
  return fromCache(model);
}

function byPath(model: string, mmproj: string | null, log: Log): ResolvedModel {
  const text = path.resolve(model);
  if (fs.existsSync(text) && fs.statSync(text).isDirectory()) {
    throw new UserError(`--model ${model} is a folder`, { hint: 'give the text GGUF file, or a Hugging Face checkpoint folder (with config.json)' });
  }
  const encoder = mmproj ? path.resolve(mmproj) : fs.existsSync(text) ? siblingMmproj(text) : null;
  if (!encoder) {
    throw new UserError(`no audio encoder given for ${model}`, { hint: 'add --mmproj MMPROJ.gguf (or put mmproj-<its name> beside it)' });
  }
  const pair = validateModelPair(text, encoder);
  log.debug(`model: ${pair.text} + ${pair.mmproj} (${pair.projector}, ${pair.windowSeconds} s window)`);
  return { ...pair, name: path.basename(text) };
}
