import fs from 'node:fs';
import path from 'node:path';
import { UsageError, UserError } from '../errors.js';
import { interruptSignal, throwIfInterrupted, trackTempPath } from '../util/cleanup.js';
import { writeAtomically } from './atomic-file.js';
import { openCheckpoint } from './checkpoint.js';
import { convertChunk, encodeF32, type OutType } from './ggml-types.js';
import { textMetadata, mmprojMetadata } from './gguf-metadata.js';
import { GgufFileWriter, layoutGguf, type MetaValue } from './gguf-writer.js';
import { planAudioTensors, planTextTensors, type MmprojFormat, type PlannedTensor } from './qwen3asr-tensors.js';
import { readQwen3AsrConfig, type ModelKind, type Qwen3AsrConfig } from './qwen3asr-config.js';
import { readTensorChunks } from './safetensors.js';
import { runLlamaQuantize, type QuantizeType } from './quantize.js';
import { buildGgufVocab, readSourceTokenizer } from './tokenizer.js';

export interface ConvertOptions {
  /** Hugging Face model folder (config.json, safetensors, tokenizer files). */
  readonly modelDir: string;
  readonly outDir: string;
  /** Default f16. */
  readonly outType?: OutType;
  /** Default qwen3asr (our patched encoder); qwen3a is upstream llama.cpp's format. */
  readonly mmprojFormat?: MmprojFormat;
  /** Quantize the text model afterwards with llama-quantize (needs quantizeBin). */
  readonly quantize?: QuantizeType;
  readonly quantizeBin?: string;
  /** Base of the output names; default the model folder's name (with `-aligner` added for an aligner whose folder name does not say so). */
  readonly name?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ConvertProgress) => void;
}

export interface ConvertProgress {
  readonly file: 'text' | 'mmproj' | 'quantize';
  readonly tensor: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface ConvertResult {
  /** What the checkpoint was: callers pick the aligner's files apart from the transcriber's by this. */
  readonly kind: ModelKind;
  readonly text: string;
  readonly mmproj: string;
}

export function outputNames(name: string, outType: OutType, quantize?: QuantizeType): { text: string; mmproj: string } {
  return { text: `${name}-text-${quantize ?? outType}.gguf`, mmproj: `${name}-mmproj-${outType}.gguf` };
}

function ensureWritableDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new UserError(`cannot write to output folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      hint: 'choose another folder with -o',
      cause: err,
    });
  }
}

/**
 * Converts a Qwen3-ASR or Qwen3-ForcedAligner checkpoint into a text GGUF and an mmproj GGUF,
 * streaming tensor by tensor. The aligner's text GGUF is a qwen3 model whose head is llama.cpp's
 * classifier (cls.output.weight, one class per time slice) instead of output.weight.
 */
export async function convertCheckpoint(opts: ConvertOptions): Promise<ConvertResult> {
  const outType = opts.outType ?? 'f16';
  const format = opts.mmprojFormat ?? 'qwen3asr';
  const signal = opts.signal ?? interruptSignal;
  const modelDir = path.resolve(opts.modelDir);
  if (!fs.existsSync(modelDir) || !fs.statSync(modelDir).isDirectory()) {
    throw new UserError(`model folder not found: ${opts.modelDir}`);
  }
  if (opts.quantize && !opts.quantizeBin) {
    throw new UserError('--quantize needs llama-quantize, which was not found', {
      hint: 'run `qwen3asr build` or set QWEN3ASR_LLAMA_QUANTIZE to its path',
    });
  }

  // Everything that can be wrong with the input is found before a byte is written.
  const cfg = readQwen3AsrConfig(modelDir);
  if (cfg.kind === 'aligner' && format !== 'qwen3asr') {
    throw new UsageError(`--mmproj-format ${format} is for Qwen3-ASR only: the forced aligner runs on this project's llama.cpp (qwen3asr format)`);
  }
  const name = opts.name ?? defaultName(modelDir, cfg.kind);
  const tokenizer = readSourceTokenizer(modelDir);
  const checkpoint = await openCheckpoint(modelDir);
  const vocab = buildGgufVocab(tokenizer, cfg.text.vocabSize);
  checkAlignerVocab(cfg, vocab.tokens);
  const textPlan = planTextTensors(cfg, checkpoint.tensors, outType);
  const audioPlan = planAudioTensors(cfg, checkpoint.tensors, outType, format);

  const outDir = path.resolve(opts.outDir);
  ensureWritableDir(outDir);
  const names = outputNames(name, outType, opts.quantize);
  const text = path.join(outDir, names.text);
  const mmproj = path.join(outDir, names.mmproj);

  const textMeta = textMetadata(name, cfg, vocab, outType);
  if (opts.quantize) {
    const bin = opts.quantizeBin!;
    const intermediate = path.join(outDir, `.${name}-text-${outType}.${process.pid}.for-quantize.gguf`);
    await writeAtomically(text, async (temp) => {
      const untrack = trackTempPath(intermediate);
      try {
        await writeGguf(intermediate, textMeta, textPlan, 'text', signal, opts.onProgress);
        opts.onProgress?.({ file: 'quantize', tensor: '', bytesDone: 0, bytesTotal: 1 });
        await runLlamaQuantize(bin, intermediate, temp, opts.quantize!, signal);
      } finally {
        fs.rmSync(intermediate, { force: true });
        untrack();
      }
    });
  } else {
    await writeAtomically(text, (temp) => writeGguf(temp, textMeta, textPlan, 'text', signal, opts.onProgress));
  }
  await writeAtomically(mmproj, (temp) =>
    writeGguf(temp, mmprojMetadata(name, cfg, outType, format), audioPlan, 'mmproj', signal, opts.onProgress),
  );
  return { kind: cfg.kind, text, mmproj };
}

/** The folder's name; an aligner's file names say "aligner" even when its folder is named otherwise. */
function defaultName(modelDir: string, kind: ModelKind): string {
  const base = path.basename(modelDir);
  return kind === 'aligner' && !/aligner/i.test(base) ? `${base}-aligner` : base;
}

/** The timestamp token the config names must be a real token: the prompt is built from it. */
function checkAlignerVocab(cfg: Qwen3AsrConfig, tokens: readonly string[]): void {
  if (!cfg.aligner) return;
  const id = cfg.aligner.timestampTokenId;
  if (!Number.isInteger(id) || id < 0 || id >= tokens.length || /^\[PAD\d+\]$/.test(tokens[id])) {
    throw new UserError(`config.json: timestamp_token_id ${id} is not a token of the tokenizer`, { hint: 'the tokenizer files do not belong to this model' });
  }
  const { classifyNum, segmentMs } = cfg.aligner;
  if (!Number.isInteger(classifyNum) || classifyNum < 1 || !Number.isInteger(segmentMs) || segmentMs < 1) {
    throw new UserError(`config.json: classify_num ${classifyNum} and timestamp_segment_time ${segmentMs} must be positive integers`);
  }
}

function checkSignal(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new UserError('interrupted');
  throwIfInterrupted();
}

/** Writes one GGUF file: header first (sizes known from shapes), then each tensor streamed. */
export async function writeGguf(
  file: string,
  metadata: ReadonlyMap<string, MetaValue>,
  plan: readonly PlannedTensor[],
  which: 'text' | 'mmproj',
  signal: AbortSignal = interruptSignal,
  onProgress?: (p: ConvertProgress) => void,
): Promise<void> {
  const layout = layoutGguf(metadata, plan);
  const writer = new GgufFileWriter(file, layout, plan);
  let done = layout.header.length;
  try {
    let scratch = new Float32Array(0);
    for (const [i, t] of plan.entries()) {
      checkSignal(signal);
      if (t.source.kind === 'generated') {
        const vals = t.source.data();
        writer.write(encodeF32(vals, vals.length, t.type));
      } else {
        const entry = t.source.entry;
        // q8_0 blocks run along rows: keep whole rows in each chunk.
        const align = t.type === 'q8_0' ? t.dims[0] : 1;
        for await (const chunk of readTensorChunks(entry, 4 << 20, align)) {
          const n = chunk.length / (entry.dtype === 'F32' ? 4 : 2);
          if (scratch.length < n) scratch = new Float32Array(n);
          writer.write(convertChunk(entry.dtype, chunk, t.type, scratch));
          if (signal.aborted) checkSignal(signal);
        }
      }
      writer.endTensor();
      done += layout.sizes[i];
      onProgress?.({ file: which, tensor: t.name, bytesDone: done, bytesTotal: layout.totalBytes });
    }
    writer.close();
  } catch (err) {
    writer.abort();
    throw err;
  }
}

