import fs from 'node:fs';
import path from 'node:path';
import { InterruptedError, UserError } from '../errors.js';
import type { Log, LogLevel } from '../util/log.js';
import { fileUrl, type Catalog, type CatalogModel, type DownloadAlias, type Role } from './catalog.js';
import { cachedFileFrom, linkOrCopy, lockPath, modelDir, readCached, writeManifest, type CachedModel, type ManifestFile, type ManifestSource } from './cache.js';
import { createDownloadProgress, formatBytes } from './download-progress.js';
import { DownloadFailure, downloadToPart, validatorPath } from './download.js';
import { hfName, type HfRef } from './hf-ref.js';
import { pickPair } from './hf-pick.js';
import { accessHint, hubAuth, hubEndpoint, isHubUrl, resolveUrl } from './hub.js';
import { listRepoFiles } from './hub-tree.js';
import { DispatcherPool, proxyFor } from './proxy.js';
import { holderPid, withLock } from '../util/lock.js';
import { validateModelPair } from './validate.js';
import { checkFile, mergeExpected, type ExpectedFile } from './verify.js';

export interface PullOptions {
  readonly log: Log;
  /** Decides whether a progress bar is drawn (never when quiet, never off a terminal). */
  readonly level: LogLevel;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly catalog?: Catalog;
  /** Test knobs: the retry count, first backoff, and how long a silent connection is given. */
  readonly retries?: number;
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

export interface PullResult {
  readonly model: CachedModel;
  /** False when it was in the cache already (nothing was fetched or made). */
  readonly downloaded: boolean;
}

/** The two ways to get going without a download, for every "could not fetch" message. */
export function provideYourselfHint(name: string): string {
  const as = name.startsWith('hf:') ? 'NAME' : name;
  return `provide the files yourself: --model TEXT.gguf --mmproj MMPROJ.gguf, or \`qwen3asr models import TEXT.gguf MMPROJ.gguf --as ${as}\``;
}

/** A proxy URL for a message: without the password it may carry. */
function redact(proxy: string): string {
  try {
    const u = new URL(proxy);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return proxy;
  }
}

/** One file to fetch: where from, its name in the cache, and what it must be as far as known beforehand. */
export interface RemoteFile {
  readonly name: string;
  readonly url: string;
  /** Pinned in the catalog, or listed by the Hub's tree API; the Hub's response headers add to it. */
  readonly expected: ExpectedFile;
  readonly approxBytes: number | null;
}

/** A model to download: the name it is cached under, what its manifest says it came from, its two files. */
interface RemotePair {
  readonly name: string;
  readonly source: ManifestSource;
  readonly files: readonly [RemoteFile, RemoteFile];
}

export interface PlannedFile extends RemoteFile {
  readonly finalPath: string;
  readonly partPath: string;
}

function catalogPair(entry: DownloadAlias, env: NodeJS.ProcessEnv): RemotePair {
  const file = (role: Role): RemoteFile => {
    const f = entry[role];
    return { name: path.posix.basename(f.name), url: fileUrl(entry, f, env), expected: { bytes: f.bytes, sha256: f.sha256 }, approxBytes: f.approxBytes };
  };
  const files = [file('text'), file('mmproj')] as const;
  return { name: entry.alias, source: { kind: 'catalog', text: files[0].url, mmproj: files[1].url }, files };
}

/**
 * Makes the catalog model `entry` present in the cache: downloads what is missing (resuming
 * `.part` files), verifies, and only then moves the files into place and writes the manifest.
 * A quantized alias is made from its download alias (pulled first). One process at a time per
 * model; others wait and then find it cached.
 */
export async function pullModel(entry: CatalogModel, options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  if (entry.kind === 'quantized') {
    const { makeQuantized } = await import('./quantized.js');
    return makeQuantized(entry, options);
  }
  if (entry.kind === 'checkpoint') {
    const { pullCheckpoint } = await import('./checkpoint-pull.js');
    return pullCheckpoint(entry, options);
  }
  const cached = readCached(entry.alias, env);
  if (cached) return { model: cached, downloaded: false };
  return pullPair(catalogPair(entry, env), options);
}

/**
 * `hf:OWNER/REPO[:QUANT]`: lists the repository, picks the pair for the quantization and downloads
 * it like a catalog model, each file checked against the sha256 and size the Hub lists for it.
 */
export async function pullHf(ref: HfRef, options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const name = hfName(ref);
  const cached = readCached(name, env);
  if (cached) return { model: cached, downloaded: false };
  const pool = new DispatcherPool(env);
  let listing;
  try {
    listing = await listRepoFiles(ref.repo, { env, pool, signal: options.signal, timeoutMs: options.timeoutMs });
  } finally {
    await pool.destroy();
  }
  const pick = pickPair(ref.repo, listing, ref.quant);
  const endpoint = hubEndpoint(env);
  const textName = path.posix.basename(pick.text.path);
  let mmName = path.posix.basename(pick.mmproj.path);
  if (mmName === textName) mmName = `mmproj-${mmName}`;
  const file = (f: typeof pick.text, cacheName: string): RemoteFile => ({
    name: cacheName, url: resolveUrl(endpoint, ref.repo, f.path), expected: { bytes: f.bytes, sha256: f.sha256 }, approxBytes: f.bytes,
  });
  const files = [file(pick.text, textName), file(pick.mmproj, mmName)] as const;
  options.log.debug(`${name}: ${pick.text.path} + ${pick.mmproj.path}${pick.quant ? ` (${pick.quant})` : ''}`);
  return pullPair({ name, source: { kind: 'hf', repo: ref.repo, text: files[0].url, mmproj: files[1].url }, files }, options);
}

async function pullPair(pair: RemotePair, options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const { log } = options;
  const dir = modelDir(pair.name, env);
  const files: PlannedFile[] = pair.files.map((f) => ({ ...f, finalPath: path.join(dir, f.name), partPath: path.join(dir, `${f.name}.part`) }));
  return withLock(
    lockPath(pair.name, env),
    { signal: options.signal, purpose: `downloading ${pair.name}`, onWait: (holder) => log.info(`waiting for another qwen3asr (${holderPid(holder)}) that is downloading ${pair.name}...`) },
    async () => {
      // The process we waited for may have finished the job.
      const now = readCached(pair.name, env);
      if (now) return { model: now, downloaded: false };
      fs.mkdirSync(dir, { recursive: true });

      const pool = new DispatcherPool(env);
      const expected: ExpectedFile[] = [];
      try {
        for (const f of files) expected.push(await fetchOne(f, pair.name, options, env, pool));
      } finally {
        await pool.destroy();
      }
      const verified = await verifyAll(files, expected, pair.name, options, env);
      for (const f of files) {
        fs.renameSync(f.partPath, f.finalPath);
        fs.rmSync(validatorPath(f.partPath), { force: true });
      }
      writeManifest(dir, { version: 1, name: pair.name, source: pair.source, text: verified[0], mmproj: verified[1], created: new Date().toISOString() });
      const model = readCached(pair.name, env);
      if (!model) throw new Error(`${pair.name}: cache entry unreadable right after writing it`);
      log.info(`${pair.name} is ready in ${model.dir}`);
      return { model, downloaded: true };
    },
  );
}

/** Fetches (or links) one file into its .part; resolves to everything known about what it must be. */
export async function fetchOne(f: PlannedFile, name: string, options: PullOptions, env: NodeJS.ProcessEnv, pool: DispatcherPool): Promise<ExpectedFile> {
  // A verified file whose manifest was never written (interrupted right at the end): it
  // re-enters as a .part, which the server's 416 (or its known size) confirms without a transfer.
  if (fs.existsSync(f.finalPath) && !fs.existsSync(f.partPath)) fs.renameSync(f.finalPath, f.partPath);
  const shared = fs.existsSync(f.partPath) ? null : cachedFileFrom(f.url, name, env);
  if (shared) {
    // Verified again below with the rest of the pair, like a download.
    options.log.debug(`${f.name}: reusing ${shared.path}`);
    await linkOrCopy(shared.path, f.partPath);
    return mergeExpected(f.expected, shared.file);
  }
  const size = f.expected.bytes ?? f.approxBytes;
  options.log.debug(`downloading ${f.name}${size ? ` (${formatBytes(size)})` : ''} from ${f.url}`);
  try {
    const published = await downloadToPart(
      { url: f.url, partPath: f.partPath, expectedBytes: f.expected.bytes },
      {
        signal: options.signal,
        pool,
        auth: hubAuth(env),
        progress: createDownloadProgress(f.name, options.level),
        retries: options.retries,
        backoffMs: options.backoffMs,
        timeoutMs: options.timeoutMs,
      },
    );
    return mergeExpected(f.expected, published);
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    if (err instanceof DownloadFailure) {
      const proxy = proxyFor(f.url, env);
      const via = proxy ? ` (through the proxy ${redact(proxy)})` : '';
      const denied = err.http && (err.http.status === 401 || err.http.status === 403) && isHubUrl(err.http.url, env);
      const hint = denied ? accessHint(err.http!.status, env) : (err.hint ?? provideYourselfHint(name));
      throw new UserError(`could not download ${f.name} from ${f.url}${via}: ${err.reason}`, { hint, cause: err });
    }
    throw err;
  }
}

export function removePart(f: PlannedFile): void {
  fs.rmSync(f.partPath, { force: true });
  fs.rmSync(validatorPath(f.partPath), { force: true });
}

/** Size and digest per file, then the pair's GGUF checks; a failure removes the bad .part files. */
async function verifyAll(files: PlannedFile[], expected: ExpectedFile[], name: string, options: PullOptions, env: NodeJS.ProcessEnv): Promise<[ManifestFile, ManifestFile]> {
  for (const [i, f] of files.entries()) {
    const check = await checkFile(f.partPath, expected[i], options.signal);
    if (!check.ok) {
      removePart(f);
      throw new UserError(`${f.name} from ${f.url} is corrupt (${check.problem}); it was deleted`, {
        hint: 'run the command again to download it afresh; if this repeats, the server or mirror has a different file',
      });
    }
    if (expected[i].sha256 === null) {
      const line = `${f.name}: no published sha256 to check it against (${isHubUrl(f.url, env) ? 'the Hub sent none' : 'a mirror'}); checked by size and GGUF header only`;
      if (isHubUrl(f.url, env)) options.log.warn(line);
      else options.log.debug(line);
    }
  }
  try {
    validateModelPair(files[0].partPath, files[1].partPath, { text: files[0].name, mmproj: files[1].name });
  } catch (err) {
    for (const f of files) removePart(f);
    if (err instanceof UserError) {
      throw new UserError(`${err.message} (downloaded for ${name}; the files were deleted)`, { hint: err.hint, cause: err });
    }
    throw err;
  }
  return files.map((f, i) => ({ file: f.name, bytes: fs.statSync(f.partPath).size, sha256: expected[i].sha256 })) as [ManifestFile, ManifestFile];
}
