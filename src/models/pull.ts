import fs from 'node:fs';
import path from 'node:path';
import { InterruptedError, UserError } from '../errors.js';
import type { Log, LogLevel } from '../util/log.js';
import { fileUrl, loadCatalog, type Catalog, type CatalogFile, type CatalogModel, type Role } from './catalog.js';
import { cachedFileFrom, linkOrCopy, lockPath, modelDir, readCached, writeManifest, type CachedModel, type ManifestFile } from './cache.js';
import { createDownloadProgress, formatBytes } from './download-progress.js';
import { DownloadFailure, downloadToPart, validatorPath } from './download.js';
import { dispatcherFor, proxyFor } from './proxy.js';
import { holderPid, withLock } from '../util/lock.js';
import { validateModelPair } from './validate.js';
import { checkFile } from './verify.js';

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
  /** False when it was in the cache already (nothing was fetched). */
  readonly downloaded: boolean;
}

/** The two ways to get going without a download, for every "could not fetch" message. */
export function provideYourselfHint(alias: string): string {
  return `provide the files yourself: --model TEXT.gguf --mmproj MMPROJ.gguf, or \`qwen3asr models import TEXT.gguf MMPROJ.gguf --as ${alias}\``;
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

interface PlannedFile {
  readonly role: Role;
  readonly file: CatalogFile;
  readonly url: string;
  readonly finalPath: string;
  readonly partPath: string;
}

function plan(entry: CatalogModel, catalog: Catalog, env: NodeJS.ProcessEnv): PlannedFile[] {
  const dir = modelDir(entry.alias, env);
  return (['text', 'mmproj'] as const).map((role) => {
    const file = entry[role];
    const url = fileUrl(file, catalog, env);
    if (url === null) {
      throw new UserError(`${entry.alias}: ${file.name} has no published download`, {
        hint: `set QWEN3ASR_MODEL_BASE_URL to a mirror that has it, or ${provideYourselfHint(entry.alias)}`,
      });
    }
    const finalPath = path.join(dir, file.name);
    return { role, file, url, finalPath, partPath: `${finalPath}.part` };
  });
}

/**
 * Makes the catalog model `entry` present in the cache: downloads what is missing (resuming
 * `.part` files), verifies, and only then moves the files into place and writes the manifest.
 * One process at a time per model; others wait and then find it cached.
 */
export async function pullModel(entry: CatalogModel, options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const catalog = options.catalog ?? loadCatalog();
  const { log } = options;
  const cached = readCached(entry.alias, env);
  if (cached) return { model: cached, downloaded: false };
  const files = plan(entry, catalog, env);

  return withLock(
    lockPath(entry.alias, env),
    { signal: options.signal, purpose: `downloading ${entry.alias}`, onWait: (holder) => log.info(`waiting for another qwen3asr (${holderPid(holder)}) that is downloading ${entry.alias}...`) },
    async () => {
      // The process we waited for may have finished the job.
      const now = readCached(entry.alias, env);
      if (now) return { model: now, downloaded: false };
      fs.mkdirSync(modelDir(entry.alias, env), { recursive: true });

      for (const f of files) await fetchOne(f, entry, options, env);
      const verified = await verifyAll(files, entry, options.signal);
      for (const f of files) {
        fs.renameSync(f.partPath, f.finalPath);
        fs.rmSync(validatorPath(f.partPath), { force: true });
      }
      writeManifest(modelDir(entry.alias, env), {
        version: 1,
        name: entry.alias,
        source: { kind: 'catalog', text: files[0].url, mmproj: files[1].url },
        text: verified[0],
        mmproj: verified[1],
        created: new Date().toISOString(),
      });
      const model = readCached(entry.alias, env);
      if (!model) throw new Error(`${entry.alias}: cache entry unreadable right after writing it`);
      log.info(`${entry.alias} is ready in ${model.dir}`);
      return { model, downloaded: true };
    },
  );
}

async function fetchOne(f: PlannedFile, entry: CatalogModel, options: PullOptions, env: NodeJS.ProcessEnv): Promise<void> {
  // A verified file whose manifest was never written (interrupted right at the end): it
  // re-enters as a .part, which the server's 416 (or its known size) confirms without a transfer.
  if (fs.existsSync(f.finalPath) && !fs.existsSync(f.partPath)) fs.renameSync(f.finalPath, f.partPath);
  const shared = fs.existsSync(f.partPath) ? null : cachedFileFrom(f.url, entry.alias, env);
  if (shared) {
    // Verified again below with the rest of the pair, like a download.
    options.log.debug(`${f.file.name}: reusing ${shared}`);
    await linkOrCopy(shared, f.partPath);
    return;
  }
  const size = f.file.bytes ?? f.file.approxBytes;
  options.log.debug(`downloading ${f.file.name}${size ? ` (${formatBytes(size)})` : ''} from ${f.url}`);
  const dispatcher = dispatcherFor(f.url, env);
  try {
    await downloadToPart(
      { url: f.url, partPath: f.partPath, expectedBytes: f.file.bytes },
      {
        signal: options.signal,
        dispatcher,
        progress: createDownloadProgress(f.file.name, options.level),
        retries: options.retries,
        backoffMs: options.backoffMs,
        timeoutMs: options.timeoutMs,
      },
    );
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    if (err instanceof DownloadFailure) {
      const proxy = proxyFor(f.url, env);
      const via = proxy ? ` (through the proxy ${redact(proxy)})` : '';
      throw new UserError(`could not download ${f.file.name} from ${f.url}${via}: ${err.reason}`, { hint: err.hint ?? provideYourselfHint(entry.alias), cause: err });
    }
    throw err;
  } finally {
    await dispatcher.destroy().catch(() => {});
  }
}

/** Size and digest per file, then the pair's GGUF checks; a failure removes the bad .part files. */
async function verifyAll(files: PlannedFile[], entry: CatalogModel, signal: AbortSignal | undefined): Promise<[ManifestFile, ManifestFile]> {
  for (const f of files) {
    const check = await checkFile(f.partPath, f.file, signal);
    if (!check.ok) {
      fs.rmSync(f.partPath, { force: true });
      fs.rmSync(validatorPath(f.partPath), { force: true });
      throw new UserError(`${f.file.name} from ${f.url} is corrupt (${check.problem}); it was deleted`, {
        hint: 'run the command again to download it afresh; if this repeats, the server or mirror has a different file',
      });
    }
  }
  try {
    validateModelPair(files[0].partPath, files[1].partPath, { text: files[0].file.name, mmproj: files[1].file.name });
  } catch (err) {
    for (const f of files) {
      fs.rmSync(f.partPath, { force: true });
      fs.rmSync(validatorPath(f.partPath), { force: true });
    }
    if (err instanceof UserError) {
      throw new UserError(`${err.message} (downloaded for ${entry.alias}; the files were deleted)`, { hint: err.hint, cause: err });
    }
    throw err;
  }
  return files.map((f) => ({ file: path.basename(f.finalPath), bytes: fs.statSync(f.partPath).size, sha256: f.file.sha256 })) as [ManifestFile, ManifestFile];
}
