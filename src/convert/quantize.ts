import { execa } from 'execa';
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { interruptSignal } from '../util/cleanup.js';

/** The k-quant types offered after conversion (llama-quantize's names, lower-cased). */
export type QuantizeType = 'q4_k_m' | 'q5_k_m' | 'q8_0';
export const QUANTIZE_TYPES: readonly QuantizeType[] = ['q4_k_m', 'q5_k_m', 'q8_0'];

/** Runs llama-quantize on a finished GGUF; the caller owns atomic placement of `output`. */
export async function runLlamaQuantize(bin: string, input: string, output: string, type: QuantizeType, signal: AbortSignal = interruptSignal): Promise<void> {
  if (!fs.existsSync(bin)) throw new UserError(`llama-quantize not found at ${bin}`, { hint: 'run `qwen3asr build` first' });
  const result = await execa(bin, [input, output, type.toUpperCase()], { reject: false, cancelSignal: signal, all: true });
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new UserError('interrupted');
  if (result.exitCode !== 0) {
    const last = (result.all ?? '').trim().split('\n').slice(-1)[0] ?? '';
    throw new UserError(`llama-quantize failed (exit ${result.exitCode}): ${last}`, { cause: result.all });
  }
}
