import path from 'node:path';
import { execa } from 'execa';
import { InterruptedError, UserError } from '../errors.js';
import { ensureBuild, findBuild } from '../llamacpp/index.js';
import { interruptSignal } from '../util/cleanup.js';
import { readCached } from './cache.js';
import { downloadAliasOf, loadCatalog, type QuantizedAlias } from './catalog.js';
import { placeInCache } from './import.js';
import { pullModel, type PullOptions, type PullResult } from './pull.js';

/**
 * Aliases made here rather than downloaded: ggml-org publishes Q8_0 only, and on a CPU a Q4_K_M
 * text model decodes faster. The Q8_0 text file of the download alias is requantized once by the
 * built llama-quantize; the result is cached like any model, with the download's mmproj linked in.
 */

/** `Qwen3-ASR-0.6B-Q8_0.gguf` → `Qwen3-ASR-0.6B-Q4_K_M.gguf` (the quantization named as ggml-org does). */
export function quantizedFileName(textFile: string, type: string): string {
  const stem = textFile.replace(/\.gguf$/i, '');
  const t = type.toUpperCase();
  const replaced = stem.replace(/([-_.])(?:I?Q\d(?:_[A-Za-z0-9]+)*|BF16|F16|F32)$/i, `$1${t}`);
  return `${replaced === stem ? `${stem}-${t}` : replaced}.gguf`;
}

/** llama-quantize of the project's build: QWEN3ASR_BIN_DIR, the cached build, else built now. */
async function quantizeBinary(options: PullOptions, env: NodeJS.ProcessEnv): Promise<string> {
  const found = await findBuild({ env });
  if (found) return found.quantize;
  const built = await ensureBuild({ env, log: options.level, signal: options.signal, source: env.QWEN3ASR_LLAMA_CPP_SOURCE || null });
  return built.quantize;
}

async function requantize(bin: string, input: string, output: string, type: string, signal: AbortSignal): Promise<void> {
  // --allow-requantize: the input is already quantized (Q8_0); going down from 8 bits loses little.
  const r = await execa(bin, ['--allow-requantize', input, output, type.toUpperCase()], { reject: false, all: true, cancelSignal: signal });
  if (signal.aborted) throw signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError();
  if (r.exitCode !== 0) {
    const last = (r.all ?? '').trim().split('\n').filter(Boolean).at(-1) ?? '';
    throw new UserError(`llama-quantize could not make ${path.basename(output)} (exit ${r.exitCode ?? r.signal}): ${last}`, {
      hint: 'run again with -v for details; `qwen3asr build --rebuild` if the build is damaged',
    });
  }
}

export async function makeQuantized(entry: QuantizedAlias, options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const cached = readCached(entry.alias, env);
  if (cached) return { model: cached, downloaded: false };
  const base = downloadAliasOf(entry, options.catalog ?? loadCatalog());
  const { model: from } = await pullModel(base, options);
  const bin = await quantizeBinary(options, env);
  const signal = options.signal ?? interruptSignal;
  options.log.info(`making ${entry.alias}: the ${base.alias} text model requantized to ${entry.type.toUpperCase()} (once; the result is cached)`);
  const model = await placeInCache(
    entry.alias,
    { kind: 'quantized', from: base.alias, type: entry.type },
    { log: options.log, env, signal, ifCached: 'reuse' },
    async (staging) => {
      const text = path.join(staging, quantizedFileName(path.basename(from.textPath), entry.type));
      await requantize(bin, from.textPath, text, entry.type, signal);
      return { text, mmproj: from.mmprojPath };
    },
  );
  options.log.info(`${entry.alias} is ready in ${model.dir}`);
  return { model, downloaded: true };
}
