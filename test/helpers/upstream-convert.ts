/**
 * GGUF files written by upstream llama.cpp's own convert_hf_to_gguf.py (run unchanged, through
 * test/reference/upstream_convert.py) and by our `qwen3asr convert`, from ONE synthetic
 * checkpoint, so tests can compare the two converters' files and everyone can check the C++ side
 * on the files users really have (ggml-org's Qwen3-ASR GGUFs are upstream's).
 *
 * Made on first use into cacheHome()/test-models/upstream-<key>/ and reused: the key hashes the
 * checkpoint options, our generator and converter sources, the launcher and the stand-in, and the
 * llama.cpp source folder (its name carries the verified tree hash). Each file is written to a
 * temp name and renamed into place, so concurrent runs never see half a file.
 *
 * From a shell (prints the paths as JSON):
 *   npx tsx test/helpers/upstream-convert.ts [--audio-layers 4] [--script TEXT] [--seed N] [OUTTYPE...]
 */
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cachedSourceDir } from '../../src/llamacpp/source.js';
import { convertCheckpoint } from '../../src/convert/convert-checkpoint.js';
import type { OutType } from '../../src/convert/ggml-types.js';
import { generateSynthetic, type SyntheticScript } from '../../src/synthetic/synthetic.js';
import { cacheHome } from '../../src/util/paths.js';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const REFERENCE = path.join(ROOT, 'test/reference');
const LAUNCHER = path.join(REFERENCE, 'upstream_convert.py');
/** Debian's python: it has the torch and numpy upstream's converter imports. */
export const PYTHON = process.env.QWEN3ASR_TEST_PYTHON ?? '/usr/bin/python3';

/** A tiny synthetic checkpoint upstream can convert: upstream needs at least 4 encoder layers. */
export interface UpstreamCheckpointOptions {
  /** Default 4. */
  readonly audioLayers?: number;
  /** A scripted model (fixed greedy output), see generateSynthetic. */
  readonly script?: SyntheticScript;
  readonly seed?: number;
  /** The llama.cpp source whose convert_hf_to_gguf.py runs; default the verified one in the cache. */
  readonly llamaSource?: string;
}

export interface UpstreamPair {
  /** Text GGUF: arch qwen3vl. */
  readonly text: string;
  /** mmproj GGUF: projector qwen3a. */
  readonly mmproj: string;
}

export interface OursPair {
  /** Text GGUF: arch qwen3. */
  readonly text: string;
  /** mmproj GGUF in our projector format (qwen3asr). */
  readonly mmproj: string;
  /** The same encoder in upstream's projector format (qwen3a), written by our converter. */
  readonly mmprojQwen3a: string;
}

export interface UpstreamModelSet {
  /** The Hugging Face-layout checkpoint folder every file here comes from. */
  readonly checkpoint: string;
  /** The folder the files are cached in. */
  readonly dir: string;
  /** Upstream's text file for `--outtype` (f32, f16, bf16, q8_0). */
  upstreamText(outType: OutType): Promise<string>;
  /** Upstream's `--mmproj` file for `--outtype`. */
  upstreamMmproj(outType: OutType): Promise<string>;
  upstream(outType: OutType): Promise<UpstreamPair>;
  /** Our converter's files for the same checkpoint. */
  ours(outType: OutType): Promise<OursPair>;
}

function hashFiles(h: crypto.Hash, dir: string, keep: (f: string) => boolean): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) hashFiles(h, p, keep);
    else if (keep(entry.name)) h.update(path.relative(ROOT, p)).update(fs.readFileSync(p));
  }
}

function setKey(opts: UpstreamCheckpointOptions, llamaSource: string): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify({ audioLayers: opts.audioLayers ?? 4, script: opts.script ?? null, seed: opts.seed ?? null, llamaSource }));
  for (const dir of ['src/convert', 'src/synthetic']) hashFiles(h, path.join(ROOT, dir), (f) => f.endsWith('.ts'));
  h.update(fs.readFileSync(LAUNCHER));
  hashFiles(h, path.join(REFERENCE, 'stand-in'), (f) => f.endsWith('.py'));
  return h.digest('hex').slice(0, 20);
}

/** Upstream's own file names (ggml-org's repos): `<name>-Q8_0.gguf`, `mmproj-<name>-Q8_0.gguf`. */
export function upstreamFileName(name: string, kind: 'text' | 'mmproj', outType: OutType): string {
  const t = outType.toUpperCase();
  return kind === 'text' ? `${name}-${t}.gguf` : `mmproj-${name}-${t}.gguf`;
}

/** Writes `final` through `make(temp)` unless it exists; the temp file is renamed into place. */
async function once(final: string, make: (temp: string) => Promise<void>): Promise<string> {
  if (fs.existsSync(final)) return final;
  const temp = `${final}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.part`;
  try {
    await make(temp);
    fs.renameSync(temp, final);
  } finally {
    fs.rmSync(temp, { force: true, recursive: true });
  }
  return final;
}

/** Runs upstream's converter (unchanged) through the launcher; throws with its log on failure. */
export async function runUpstreamConvert(llamaSource: string, checkpoint: string, outFile: string, outType: OutType, mmproj: boolean): Promise<void> {
  const args = [
    LAUNCHER, '--llama-cpp', llamaSource, '--tokenizer-pre', 'qwen2', '--',
    checkpoint, '--outtype', outType, '--outfile', outFile, ...(mmproj ? ['--mmproj'] : []),
  ];
  try {
    await execFileP(PYTHON, args, { maxBuffer: 1 << 26 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`upstream convert_hf_to_gguf.py failed: ${PYTHON} ${args.join(' ')}\n${(e.stderr ?? e.message).slice(-4000)}`);
  }
}

const sets = new Map<string, UpstreamModelSet>();

/** The model set for these options (the checkpoint is written on first call, files on first ask). */
export async function upstreamModelSet(opts: UpstreamCheckpointOptions = {}): Promise<UpstreamModelSet> {
  const llamaSource = opts.llamaSource || cachedSourceDir(cacheHome());
  if (!fs.existsSync(path.join(llamaSource, 'convert_hf_to_gguf.py'))) {
    throw new Error(`no convert_hf_to_gguf.py in ${llamaSource}: the verified llama.cpp source is needed (run the tests' global setup or \`qwen3asr build\`)`);
  }
  const key = setKey(opts, llamaSource);
  const cached = sets.get(key);
  if (cached) return cached;
  const dir = path.join(cacheHome(), 'test-models', `upstream-${key}`);
  const name = `Qwen3-ASR-tiny${opts.audioLayers ?? 4}`;
  const checkpoint = path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true });
  await once(checkpoint, (temp) =>
    generateSynthetic(temp, { shape: 'tiny', audioLayers: opts.audioLayers ?? 4, script: opts.script, seed: opts.seed }).then(() => undefined),
  );

  const memo = new Map<string, Promise<string>>();
  const file = (id: string, make: () => Promise<string>) => {
    let p = memo.get(id);
    if (!p) {
      p = make();
      memo.set(id, p);
      p.catch(() => memo.delete(id));
    }
    return p;
  };
  const upstreamFile = (kind: 'text' | 'mmproj', outType: OutType) =>
    file(`up:${kind}:${outType}`, () =>
      once(path.join(dir, 'upstream', upstreamFileName(name, kind, outType)), async (temp) => {
        fs.mkdirSync(path.dirname(temp), { recursive: true });
        await runUpstreamConvert(llamaSource, checkpoint, temp, outType, kind === 'mmproj');
      }),
    );
  const oursFormat = (format: 'qwen3asr' | 'qwen3a', outType: OutType) =>
    file(`ours:${format}:${outType}`, async () => {
      const out = path.join(dir, 'ours', format);
      const text = path.join(out, `${name}-text-${outType}.gguf`);
      const mmproj = path.join(out, `${name}-mmproj-${outType}.gguf`);
      if (!fs.existsSync(text) || !fs.existsSync(mmproj)) {
        // convertCheckpoint writes each file atomically itself.
        await convertCheckpoint({ modelDir: checkpoint, outDir: out, outType, mmprojFormat: format, name });
      }
      return out;
    });

  const set: UpstreamModelSet = {
    checkpoint,
    dir,
    upstreamText: (t) => upstreamFile('text', t),
    upstreamMmproj: (t) => upstreamFile('mmproj', t),
    upstream: async (t) => ({ text: await upstreamFile('text', t), mmproj: await upstreamFile('mmproj', t) }),
    ours: async (t) => {
      const main = await oursFormat('qwen3asr', t);
      const alt = await oursFormat('qwen3a', t);
      return {
        text: path.join(main, `${name}-text-${t}.gguf`),
        mmproj: path.join(main, `${name}-mmproj-${t}.gguf`),
        mmprojQwen3a: path.join(alt, `${name}-mmproj-${t}.gguf`),
      };
    },
  };
  sets.set(key, set);
  return set;
}

async function cli(argv: string[]): Promise<void> {
  const outTypes: OutType[] = [];
  const opts: { audioLayers?: number; script?: string; seed?: number; llamaSource?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--audio-layers') opts.audioLayers = Number(argv[++i]);
    else if (a === '--script') opts.script = argv[++i];
    else if (a === '--seed') opts.seed = Number(argv[++i]);
    else if (a === '--llama-source') opts.llamaSource = argv[++i];
    else if (['f32', 'f16', 'bf16', 'q8_0'].includes(a)) outTypes.push(a as OutType);
    else throw new Error(`unknown argument ${a}; usage: upstream-convert.ts [--audio-layers N] [--script TEXT] [--seed N] [--llama-source DIR] [f32|f16|bf16|q8_0...]`);
  }
  const set = await upstreamModelSet(opts);
  const out: Record<string, unknown> = { checkpoint: set.checkpoint };
  for (const t of outTypes.length ? outTypes : (['f16', 'q8_0'] as OutType[])) {
    out[t] = { upstream: await set.upstream(t), ours: await set.ours(t) };
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
