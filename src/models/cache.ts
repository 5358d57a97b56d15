import fs from 'node:fs';
import path from 'node:path';
import { cacheHome } from '../util/paths.js';
import { isValidName } from './catalog.js';

/**
 * Cache layout, under cacheHome():
 *
 *   models/<name>/<text file>.gguf       complete, verified files
 *   models/<name>/<mmproj file>.gguf
 *   models/<name>/<file>.gguf.part       a download in progress or interrupted (resumable)
 *   models/<name>/model.json             the manifest, written last: no manifest = not cached
 *   models/.locks/<name>.lock            pid of the process downloading/importing <name>
 *   models/.staging-<name>-<pid>/        an import or conversion being assembled
 */
export const MANIFEST = 'model.json';

export type ManifestSource =
  | { readonly kind: 'catalog'; readonly text: string; readonly mmproj: string }
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

export function modelDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(modelsRoot(env), name);
}

export function lockPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(modelsRoot(env), '.locks', `${name}.lock`);
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
  if (!isValidName(name)) return null;
  const dir = modelDir(name, env);
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
    .filter(isValidName)
    .sort()
    .map((n) => readCached(n, env))
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
 * A cached file downloaded from `url` for another model (0.6b and 0.6b-f16 share their mmproj),
 * so that it is linked rather than fetched again.
 */
export function cachedFileFrom(url: string, except: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const m of listCached(env)) {
    if (m.name === except || m.manifest.source.kind !== 'catalog') continue;
    if (m.manifest.source.text === url) return m.textPath;
    if (m.manifest.source.mmproj === url) return m.mmprojPath;
  }
  return null;
}
