import { Command, Option } from 'commander';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { convertCheckpoint, type ConvertProgress } from '../convert/convert-checkpoint.js';
import { OUT_TYPES, type OutType } from '../convert/ggml-types.js';
import { MMPROJ_FORMATS, type MmprojFormat } from '../convert/qwen3asr-tensors.js';
import { QUANTIZE_TYPES, type QuantizeType } from '../convert/quantize.js';
import { SYNTHETIC_SHAPES, generateSynthetic, type SyntheticShape } from '../synthetic/synthetic.js';
import { ALIGNER_SHAPES, generateSyntheticAligner, type AlignerShape } from '../synthetic/synthetic-aligner.js';

/**
 * llama-quantize for `--quantize`: $QWEN3ASR_LLAMA_QUANTIZE, else the project's own build
 * (QWEN3ASR_BIN_DIR or the cached one; never built here: `qwen3asr build` does that).
 */
async function llamaQuantize(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.QWEN3ASR_LLAMA_QUANTIZE) return env.QWEN3ASR_LLAMA_QUANTIZE;
  const { findBuild } = await import('../llamacpp/index.js');
  return (await findBuild({ env }))?.quantize;
}

interface ConvertFlags {
  output?: string;
  outtype: string;
  quantize?: string;
  mmprojFormat: string;
  synthetic?: string;
  script?: string;
  loop?: string;
  tied?: boolean;
  aligner?: boolean;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  const v = value.toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  return v as T;
}

function progressPrinter(): (p: ConvertProgress) => void {
  let last = '';
  return (p) => {
    if (!process.stderr.isTTY) return;
    const pct = Math.floor((100 * p.bytesDone) / p.bytesTotal);
    const line = p.file === 'quantize' ? 'quantizing…' : `writing ${p.file} GGUF: ${pct}%`;
    if (line !== last) process.stderr.write(`\r${line}\x1b[K`);
    last = line;
  };
}

export function convertCommand(): Command {
  return new Command('convert')
    .description('convert a Hugging Face Qwen3-ASR (or Qwen3-ForcedAligner) checkpoint folder into the GGUF files llama.cpp loads')
    .argument('[model-dir]', 'the downloaded model folder (config.json, *.safetensors, tokenizer files)')
    .option('-o, --output <dir>', 'folder for the GGUF files (default: the current folder)')
    .option('--outtype <type>', `tensor type: ${OUT_TYPES.join(', ')}`, 'f16')
    .option('--quantize <type>', `also quantize the text model with llama-quantize: ${QUANTIZE_TYPES.join(', ')}`)
    .option('--mmproj-format <format>', `audio encoder format: qwen3asr (this project) or qwen3a (upstream llama.cpp)`, 'qwen3asr')
    .addOption(new Option('--synthetic <shape>', 'write a synthetic checkpoint instead (tiny, 0.6b, 1.7b)').hideHelp())
    .addOption(new Option('--script <text>', 'with --synthetic tiny: the text the model always writes').hideHelp())
    .addOption(new Option('--loop <text>', 'with --synthetic tiny: after --script, repeat this forever').hideHelp())
    .addOption(new Option('--tied', 'with --synthetic: leave lm_head out').hideHelp())
    .addOption(new Option('--aligner', 'with --synthetic: a Qwen3-ForcedAligner checkpoint (tiny, 0.6b)').hideHelp())
    .action(async (modelDir: string | undefined, flags: ConvertFlags) => {
      const outDir = path.resolve(flags.output ?? '.');
      if (flags.synthetic && flags.aligner) {
        const asrOnly = flags.script !== undefined ? '--script' : flags.loop !== undefined ? '--loop' : flags.tied ? '--tied' : undefined;
        if (asrOnly) throw new UsageError(`${asrOnly} is for a synthetic Qwen3-ASR model; the aligner never generates and its head is its own`);
        const shape = oneOf<AlignerShape>(flags.synthetic, ALIGNER_SHAPES, '--synthetic with --aligner');
        process.stdout.write(`${(await generateSyntheticAligner(outDir, { shape })).dir}\n`);
        return;
      }
      if (flags.aligner) throw new UsageError('--aligner goes with --synthetic');
      if (flags.synthetic) {
        const shape = oneOf<SyntheticShape>(flags.synthetic, SYNTHETIC_SHAPES, '--synthetic');
        const script = flags.loop !== undefined ? { prefix: flags.script, loop: flags.loop } : flags.script;
        const r = await generateSynthetic(outDir, { shape, script, tied: flags.tied });
        process.stdout.write(`${r.dir}\n`);
        return;
      }
      if (!modelDir) throw new UsageError('missing the model folder', 'usage: qwen3asr convert <model-dir> [-o DIR]');
      const outType = oneOf<OutType>(flags.outtype, OUT_TYPES, '--outtype');
      const mmprojFormat = oneOf<MmprojFormat>(flags.mmprojFormat, MMPROJ_FORMATS, '--mmproj-format');
      const quantize = flags.quantize ? oneOf<QuantizeType>(flags.quantize, QUANTIZE_TYPES, '--quantize') : undefined;
      const result = await convertCheckpoint({
        modelDir,
        outDir,
        outType,
        mmprojFormat,
        quantize,
        quantizeBin: quantize ? await llamaQuantize() : undefined,
        onProgress: progressPrinter(),
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      process.stdout.write(`${result.text}\n${result.mmproj}\n`);
    });
}
