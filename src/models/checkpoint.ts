import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { convertCheckpoint } from '../convert/convert-checkpoint.js';
import type { Log } from '../util/log.js';
import { readCached, type CachedModel } from './cache.js';
import { placeInCache } from './import.js';

/**
 * What we need from the converter (src/convert/, another branch): turn a Hugging Face
 * Qwen3-ASR checkpoint folder into a text GGUF and an mmproj GGUF written inside `outDir`,
 * and say where they are. It must honour `signal` and leave nothing but its outputs in outDir.
 */
export type ConvertCheckpoint = (
  checkpointDir: string,
  options: {
    readonly outDir: string;
    readonly outtype: 'f16' | 'q8_0';
    readonly mmprojFormat: 'qwen3asr' | 'qwen3a';
    readonly signal?: AbortSignal;
    readonly log: Log;
  },
) => Promise<{ readonly text: string; readonly mmproj: string }>;

/** The converter's outtype for checkpoints given straight to --model: lossless. */
const OUTTYPE = 'f16' as const;

export function isCheckpointDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory() && fs.existsSync(path.join(p, 'config.json'));
  } catch {
    return false;
  }
}

/**
 * The cache name of a checkpoint's conversion: its folder name plus a digest of where it is and
 * its config.json's identity, so an edited or replaced checkpoint is converted afresh.
 */
export function checkpointCacheName(dir: string): string {
  const real = fs.realpathSync(dir);
  const st = fs.statSync(path.join(real, 'config.json'));
  const digest = crypto.createHash('sha256').update(`${real}\0${st.size}\0${st.mtimeMs}\0${OUTTYPE}`).digest('hex').slice(0, 10);
  const base = path.basename(real).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 40) || 'checkpoint';
  return `${base}-${digest}`;
}

/** The project's own converter (src/convert/), in the shape this module calls. */
const convertWithOurConverter: ConvertCheckpoint = (dir, o) =>
  convertCheckpoint({ modelDir: dir, outDir: o.outDir, outType: o.outtype, mmprojFormat: o.mmprojFormat, signal: o.signal });

/** A checkpoint folder given to --model: converted once into the cache, then reused. */
export async function checkpointModel(
  dir: string,
  options: { log: Log; env?: NodeJS.ProcessEnv; signal?: AbortSignal; convert?: ConvertCheckpoint },
): Promise<CachedModel> {
  const name = checkpointCacheName(dir);
  const cached = readCached(name, options.env);
  if (cached) return cached;
  const convert = options.convert ?? convertWithOurConverter;
  options.log.info(`converting ${dir} to GGUF (${OUTTYPE}); this happens once, the result is cached`);
  const real = fs.realpathSync(dir);
  return placeInCache(name, { kind: 'convert', checkpoint: real, outtype: OUTTYPE }, options, (outDir) =>
    convert(real, { outDir, outtype: OUTTYPE, mmprojFormat: 'qwen3asr', signal: options.signal, log: options.log }),
  );
}
