import fs from 'node:fs';
import path from 'node:path';
import { UsageError, UserError } from '../errors.js';
import { trackTempPath } from '../util/cleanup.js';
import type { Log } from '../util/log.js';
import { isValidName } from './catalog.js';
import { folderOf, linkOrCopy, lockPath, modelDir, modelsRoot, readCached, writeManifest, type CachedModel, type ManifestSource } from './cache.js';
import { holderPid, withLock } from '../util/lock.js';
import { validateModelPair } from './validate.js';

export interface ImportOptions {
  readonly log: Log;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** A model of that name already cached: an error (an import), or the result (something made on demand). */
  readonly ifCached?: 'fail' | 'reuse';
}

/** The name a pair is cached under when --as is not given: the text file's name, tidied. */
export function defaultImportName(textPath: string): string {
  const base = path.basename(textPath).replace(/\.gguf$/i, '').toLowerCase();
  return base.replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64) || 'imported';
}

/**
 * Puts a validated pair into the cache under a folder assembled beside the cache and renamed
 * into place whole, so an interrupted import leaves nothing that looks cached.
 */
export async function placeInCache(
  name: string,
  source: ManifestSource,
  options: ImportOptions,
  /** Gives the pair to cache: files anywhere (linked or copied in), or made inside `stagingDir` (moved). */
  produce: (stagingDir: string) => Promise<{ text: string; mmproj: string }>,
): Promise<CachedModel> {
  const env = options.env ?? process.env;
  if (!isValidName(name)) {
    throw new UsageError(`'${name}' cannot be a model name`, 'use letters, digits, dots, dashes and underscores (at most 64), starting with a letter or digit');
  }
  return withLock(
    lockPath(name, env),
    { signal: options.signal, purpose: `working on ${name}`, onWait: (holder) => options.log.info(`waiting for another qwen3asr (${holderPid(holder)}) that is working on ${name}...`) },
    async () => {
      const existing = readCached(name, env);
      if (existing && options.ifCached === 'reuse') return existing;
      if (existing) {
        throw new UserError(`a model named ${name} is already in the cache`, { hint: `remove it first with \`qwen3asr models rm ${name}\`, or pick another name with --as` });
      }
      const staging = path.join(modelsRoot(env), `.staging-${name}-${process.pid}`);
      const untrack = trackTempPath(staging);
      fs.rmSync(staging, { recursive: true, force: true });
      fs.mkdirSync(staging, { recursive: true });
      try {
        const src = await produce(staging);
        const textName = path.basename(src.text);
        let mmName = path.basename(src.mmproj);
        if (mmName === textName) mmName = `mmproj-${mmName}`;
        const inStaging = (p: string) => path.dirname(path.resolve(p)) === path.resolve(staging);
        const how = [];
        for (const [from, to] of [[src.text, textName], [src.mmproj, mmName]] as const) {
          const dest = path.join(staging, to);
          if (inStaging(from)) {
            if (path.resolve(from) !== dest) fs.renameSync(from, dest);
          } else {
            how.push(await linkOrCopy(from, dest));
          }
        }
        const pair = validateModelPair(path.join(staging, textName), path.join(staging, mmName), {
          text: src.text,
          mmproj: src.mmproj,
        });
        writeManifest(staging, {
          version: 1,
          name,
          source,
          text: { file: textName, bytes: fs.statSync(pair.text).size, sha256: null },
          mmproj: { file: mmName, bytes: fs.statSync(pair.mmproj).size, sha256: null },
          created: new Date().toISOString(),
        });
        const dir = modelDir(name, env);
        // Leftovers of an earlier, unfinished pull under this name (no manifest) make way.
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(staging, dir);
        if (how.length > 0) options.log.debug(`${name}: files ${how.join(' and ')}`);
      } finally {
        fs.rmSync(staging, { recursive: true, force: true });
        untrack();
      }
      const model = readCached(name, env);
      if (!model) throw new Error(`${name}: cache entry unreadable right after writing it`);
      return model;
    },
  );
}

/** `qwen3asr models import`: checks the pair where it is, then caches it under `name`. */
export async function importModel(textPath: string, mmprojPath: string, name: string | null, options: ImportOptions): Promise<CachedModel> {
  const text = path.resolve(textPath);
  const mmproj = path.resolve(mmprojPath);
  // Fail on a bad pair before anything is copied.
  validateModelPair(text, mmproj);
  const finalName = name ?? defaultImportName(text);
  return placeInCache(finalName, { kind: 'import', text, mmproj }, options, async () => ({ text, mmproj }));
}

/** `qwen3asr models rm`: true when something was removed (also an unfinished download). */
export async function removeModel(name: string, options: ImportOptions): Promise<boolean> {
  const env = options.env ?? process.env;
  const folder = folderOf(name);
  if (folder === null) return false;
  const dir = modelDir(name, env);
  if (!fs.existsSync(dir)) return false;
  await withLock(
    lockPath(name, env),
    { signal: options.signal, purpose: `working on ${name}`, onWait: (holder) => options.log.info(`waiting for another qwen3asr (${holderPid(holder)}) that is working on ${name}...`) },
    async () => {
      // Rename first: a reader never sees a half-deleted model as cached.
      const doomed = path.join(modelsRoot(env), `.removing-${folder}-${process.pid}`);
      fs.renameSync(dir, doomed);
      fs.rmSync(doomed, { recursive: true, force: true });
    },
  );
  return true;
}
