import path from 'node:path';
import { execa, type Options } from 'execa';

export const BIN = path.resolve(import.meta.dirname, '../../bin/qwen3asr.js');

/** Runs the real CLI (compiled dist/) as a user would; never rejects. */
export async function runCli(args: string[], options: Options = {}) {
  const r = await execa(process.execPath, [BIN, ...args], { reject: false, all: false, ...options });
  return { code: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
