import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/convert/convert-checkpoint.js';
import type { OutType } from '../../src/convert/ggml-types.js';
import { generateSynthetic, type SyntheticScript, type SyntheticShape } from '../../src/synthetic/synthetic.js';
import { generateSyntheticAligner, type AlignerShape } from '../../src/synthetic/synthetic-aligner.js';
import { cacheHome } from '../../src/util/paths.js';

/**
 * Synthetic models for tests and benchmarks, generated and converted on first use into
 * cacheHome()/test-models/<key>/ and reused afterwards. The key hashes the options and the
 * converter's source, so any change to the generator or converter makes fresh models.
 */

export interface SyntheticModelOptions {
  readonly script?: SyntheticScript;
  readonly tied?: boolean;
  readonly outType?: OutType;
}

export interface SyntheticModel {
  /** The Hugging Face-layout checkpoint folder. */
  readonly dir: string;
  /** Text GGUF (arch qwen3). */
  readonly text: string;
  /** mmproj GGUF in this project's qwen3asr format. */
  readonly mmproj: string;
  /** mmproj GGUF in upstream llama.cpp's qwen3a format. */
  readonly mmprojQwen3a: string;
}

/** A converted synthetic Qwen3-ForcedAligner (text GGUF with the cls head, qwen3asr mmproj). */
export interface SyntheticAligner {
  readonly dir: string;
  readonly text: string;
  readonly mmproj: string;
}

export interface SyntheticAlignerModelOptions {
  readonly outType?: OutType;
}

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const CONVERT_SRC = path.join(SRC, 'convert');

function sourceHashOf(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) {
    if (f.endsWith('.ts')) h.update(f).update(fs.readFileSync(path.join(dir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

let sourceHash: string | undefined;
function converterSourceHash(): string {
  sourceHash ??= sourceHashOf(CONVERT_SRC);
  return sourceHash;
}

export function syntheticModelKey(kind: SyntheticShape, opts: SyntheticModelOptions = {}): string {
  const desc = JSON.stringify({ kind, script: opts.script ?? null, tied: opts.tied ?? false, outType: opts.outType ?? 'f16' });
  return crypto.createHash('sha256').update(desc).update(converterSourceHash()).digest('hex').slice(0, 20);
}

function modelPaths(root: string, kind: SyntheticShape, outType: OutType): SyntheticModel {
  const name = `Qwen3-ASR-${kind}`;
  return {
    dir: path.join(root, name),
    text: path.join(root, `${name}-text-${outType}.gguf`),
    mmproj: path.join(root, `${name}-mmproj-${outType}.gguf`),
    mmprojQwen3a: path.join(root, 'qwen3a', `${name}-mmproj-${outType}.gguf`),
  };
}

const pending = new Map<string, Promise<unknown>>();

/** One build per key per process; concurrent callers share it. */
function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  let p = pending.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make();
    pending.set(key, p);
  }
  return p;
}

export function ensureSyntheticModel(kind: SyntheticShape, opts: SyntheticModelOptions = {}): Promise<SyntheticModel> {
  const key = syntheticModelKey(kind, opts);
  const outType = opts.outType ?? 'f16';
  return once(key, () =>
    buildCached(key, (root) => modelPaths(root, kind, outType), async (temp, paths) => {
      await generateSynthetic(paths.dir, { shape: kind, script: opts.script, tied: opts.tied });
      await convertCheckpoint({ modelDir: paths.dir, outDir: temp, outType, mmprojFormat: 'qwen3asr' });
      await convertCheckpoint({ modelDir: paths.dir, outDir: path.join(temp, 'qwen3a'), outType, mmprojFormat: 'qwen3a' });
      fs.rmSync(path.join(temp, 'qwen3a', path.basename(paths.text)));
    }),
  );
}

/** The aligner's key also hashes the generator: unlike the ASR models', its generator is new and still moving. */
export function syntheticAlignerKey(shape: AlignerShape, opts: SyntheticAlignerModelOptions = {}): string {
  const desc = JSON.stringify({ kind: 'aligner', shape, outType: opts.outType ?? 'f16' });
  return crypto.createHash('sha256').update(desc).update(converterSourceHash()).update(sourceHashOf(path.join(SRC, 'synthetic'))).digest('hex').slice(0, 20);
}

/** A synthetic aligner checkpoint and its conversion, built on first use and cached like the ASR models. */
export function syntheticAligner(shape: AlignerShape = 'tiny', opts: SyntheticAlignerModelOptions = {}): Promise<SyntheticAligner> {
  const key = syntheticAlignerKey(shape, opts);
  const outType = opts.outType ?? 'f16';
  const pathsIn = (root: string): SyntheticAligner => {
    const name = `Qwen3-ForcedAligner-${shape}`;
    return { dir: path.join(root, name), text: path.join(root, `${name}-text-${outType}.gguf`), mmproj: path.join(root, `${name}-mmproj-${outType}.gguf`) };
  };
  return once(key, () =>
    buildCached(key, pathsIn, async (temp, paths) => {
      await generateSyntheticAligner(paths.dir, { shape });
      const r = await convertCheckpoint({ modelDir: paths.dir, outDir: temp, outType });
      if (r.text !== paths.text || r.mmproj !== paths.mmproj) throw new Error(`aligner conversion wrote ${r.text}, ${r.mmproj}`);
    }),
  );
}

async function buildCached<P>(key: string, pathsIn: (root: string) => P, make: (temp: string, paths: P) => Promise<void>): Promise<P> {
  const base = path.join(cacheHome(), 'test-models');
  const final = path.join(base, key);
  if (fs.existsSync(path.join(final, 'complete'))) return pathsIn(final);
  fs.mkdirSync(base, { recursive: true });
  // Built in a private folder and renamed into place whole: concurrent runs never see half a model.
  const temp = fs.mkdtempSync(path.join(base, `.${key}.`));
  try {
    await make(temp, pathsIn(temp));
    fs.writeFileSync(path.join(temp, 'complete'), `${new Date().toISOString()}\n`);
    try {
      fs.renameSync(temp, final);
    } catch (err) {
      // Another process finished first; its copy is as good as ours.
      if (!fs.existsSync(path.join(final, 'complete'))) throw err;
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return pathsIn(final);
}
