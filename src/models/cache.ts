import fs from 'node:fs';
import path from 'node:path';
import { cacheHome } from '../util/paths.js';
import { isValidName } from './catalog.js';
import { hfFolder, isHfName, parseHfRef } from './hf-ref.js';

/**
 * Cache layout, under cacheHome():
 *
 * <folder> is the model's name (an alias, an imported name), or `hf--OWNER--REPO[--QUANT]` for
 * `hf:OWNER/REPO[:QUANT]`; the manifest records the name it is known by.
 *
 *   models/<folder>/<text file>.gguf     complete, verified files
 *   models/<name>/<mmproj file>.gguf
 *   models/<name>/<file>.gguf.part       a download in progress or interrupted (resumable)
 *   models/<name>/model.json             the manifest, written last: no manifest = not cached
 *   models/.locks/<name>.lock            pid of the process downloading/importing <name>
 *   models/.staging-<name>-<pid>/        an import or conversion being assembled
 */
export const MANIFEST = 'model.json';

export type ManifestSource =
  /** Downloaded for a catalog alias: the URLs of the two files. */
  | { readonly kind: 'catalog'; readonly text: string; readonly mmproj: string }
  /** Downloaded for `hf:OWNER/REPO[:QUANT]`. */
  | { readonly kind: 'hf'; readonly repo: string; readonly text: string; readonly mmproj: string }
  /** Made here by llama-quantize from the text file of the cached model `from`; its mmproj is shared. */
  | { readonly kind: 'quantized'; readonly from: string; readonly type: string }
  | { readonly kind: 'import'; readonly text: string; readonly mmproj: string }
  | { readonly kind: 'convert'; readonly checkpoint: string; readonly outtype: string };

export interface ManifestFile {
  /** File name inside the model's folder. */
  readonly file: string;
  readonly bytes: number;
  /** Set when the file was checked against a known digest. */
  readonly sha256: string | null;
}

export interface Manifest {
  readonly version: 1;
  readonly name: string;
  readonly source: ManifestSource;
  readonly text: ManifestFile;
  readonly mmproj: ManifestFile;
  readonly created: string;
}

export interface CachedModel {
  readonly name: string;
  readonly dir: string;
  readonly textPath: string;
  readonly mmprojPath: string;
  readonly manifest: Manifest;
}

export function modelsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheHome(env), 'models');
}

/** The cache folder of a model name, or null for a name that cannot be one. */
export function folderOf(name: string): string | null {
  if (isHfName(name)) {
    try {
      return hfFolder(parseHfRef(name));
    } catch {
      return null;
    }
  }
  return isValidName(name) ? name : null;
}

function folderOrThrow(name: string): string {
  const folder = folderOf(name);
  if (folder === null) throw new Error(`'${name}' cannot name a cache folder`);
  return folder;
}

export function modelDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(modelsRoot(env), folderOrThrow(name));
}

export function lockPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(modelsRoot(env), '.locks', `${folderOrThrow(name)}.lock`);
}

function plainFileName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && path.basename(v) === v && v !== '.' && v !== '..';
}

function parseManifest(raw: unknown): Manifest | null {
  const m = raw as Partial<Manifest> | null;
  if (!m || m.version !== 1 || typeof m.name !== 'string' || !m.source) return null;
  for (const f of [m.text, m.mmproj]) {
    if (!f || !plainFileName(f.file) || typeof f.bytes !== 'number') return null;
  }
  return m as Manifest;
}

/**
 * The cached model called `name`, when it is complete: manifest present and both files there
 * with the sizes it records. Anything less is "not cached" (and a pull repairs it).
 */
export function readCached(name: string, env: NodeJS.ProcessEnv = process.env): CachedModel | null {
  const folder = folderOf(name);
  return folder === null ? null : readFolder(folder, env);
}

function readFolder(folder: string, env: NodeJS.ProcessEnv): CachedModel | null {
  const dir = path.join(modelsRoot(env), folder);
  let manifest: Manifest | null;
  try {
    manifest = parseManifest(JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')));
  } catch {
    return null;
  }
  if (!manifest) return null;
  const textPath = path.join(dir, manifest.text.file);
  const mmprojPath = path.join(dir, manifest.mmproj.file);
  for (const [p, f] of [[textPath, manifest.text], [mmprojPath, manifest.mmproj]] as const) {
    try {
      if (fs.statSync(p).size !== f.bytes) return null;
    } catch {
      return null;
    }
  }
  // The name it was saved under (`hf:...` with its case), when that is what this folder holds.
  const name = folderOf(manifest.name) === folder ? manifest.name : folder;
  return { name, dir, textPath, mmprojPath, manifest };
}

/** Writes the manifest atomically; it is the last step, the one that makes a model "cached". */
export function writeManifest(dir: string, manifest: Manifest): void {
  const tmp = path.join(dir, `.${MANIFEST}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(tmp, path.join(dir, MANIFEST));
}

/** Every complete model in the cache, by name. */
export function listCached(env: NodeJS.ProcessEnv = process.env): CachedModel[] {
  let names: string[];
  try {
    names = fs.readdirSync(modelsRoot(env));
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => readFolder(n, env))
    .filter((m): m is CachedModel => m !== null);
}

/** Partial downloads (`*.part`) kept for resuming, with their sizes. */
export function partialFiles(name: string, env: NodeJS.ProcessEnv = process.env): { path: string; bytes: number }[] {
  const dir = modelDir(name, env);
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.part'))
      .map((f) => ({ path: path.join(dir, f), bytes: fs.statSync(path.join(dir, f)).size }));
  } catch {
    return [];
  }
}

/**
 * Hard link when source and cache share a filesystem (instant, no extra space: GGUF files are
 * never modified in place), a copy otherwise (reflink where the filesystem can).
 */
export async function linkOrCopy(from: string, to: string): Promise<'linked' | 'copied'> {
  try {
    fs.linkSync(from, to);
    return 'linked';
  } catch {
    await fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE);
    return 'copied';
  }
}

/**
 * A cached file downloaded from `url` for another model (`0.6b` and `hf:ggml-org/Qwen3-ASR-0.6B-GGUF`
 * are the same files), so that it is linked rather than fetched again; with what it was verified as.
 */
export function cachedFileFrom(url: string, except: string, env: NodeJS.ProcessEnv = process.env): { path: string; file: ManifestFile } | null {
  for (const m of listCached(env)) {
    const source = m.manifest.source;
    if (m.name === except || (source.kind !== 'catalog' && source.kind !== 'hf')) continue;
    if (source.text === url) return { path: m.textPath, file: m.manifest.text };
    if (source.mmproj === url) return { path: m.mmprojPath, file: m.manifest.mmproj };
  }
  return null;
}
