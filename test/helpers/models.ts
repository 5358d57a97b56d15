import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/convert/convert-checkpoint.js';
import type { OutType } from '../../src/convert/ggml-types.js';
import { generateSynthetic, type SyntheticScript, type SyntheticShape } from '../../src/synthetic/synthetic.js';
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

const CONVERT_SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/convert');

let sourceHash: string | undefined;
function converterSourceHash(): string {
  if (sourceHash) return sourceHash;
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(CONVERT_SRC).sort()) {
    if (f.endsWith('.ts')) h.update(f).update(fs.readFileSync(path.join(CONVERT_SRC, f)));
  }
  sourceHash = h.digest('hex').slice(0, 16);
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

const pending = new Map<string, Promise<SyntheticModel>>();

export function ensureSyntheticModel(kind: SyntheticShape, opts: SyntheticModelOptions = {}): Promise<SyntheticModel> {
  const key = syntheticModelKey(kind, opts);
  let p = pending.get(key);
  if (!p) {
    p = build(kind, opts, key);
    pending.set(key, p);
  }
  return p;
}

async function build(kind: SyntheticShape, opts: SyntheticModelOptions, key: string): Promise<SyntheticModel> {
  const outType = opts.outType ?? 'f16';
  const base = path.join(cacheHome(), 'test-models');
  const final = path.join(base, key);
  if (fs.existsSync(path.join(final, 'complete'))) return modelPaths(final, kind, outType);
  fs.mkdirSync(base, { recursive: true });
  // Built in a private folder and renamed into place whole: concurrent runs never see half a model.
  const temp = fs.mkdtempSync(path.join(base, `.${key}.`));
  try {
    const paths = modelPaths(temp, kind, outType);
    await generateSynthetic(paths.dir, { shape: kind, script: opts.script, tied: opts.tied });
    await convertCheckpoint({ modelDir: paths.dir, outDir: temp, outType, mmprojFormat: 'qwen3asr' });
    await convertCheckpoint({ modelDir: paths.dir, outDir: path.join(temp, 'qwen3a'), outType, mmprojFormat: 'qwen3a' });
    fs.rmSync(path.join(temp, 'qwen3a', path.basename(paths.text)));
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
  return modelPaths(final, kind, outType);
}
