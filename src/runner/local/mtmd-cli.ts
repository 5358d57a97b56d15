import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { interruptSignal, killGroup, trackChildGroup, interruption } from '../../util/cleanup.js';
import { ModelCallError } from '../request/decoder.js';
import type { StopReason } from '../../transcript/decode.js';

/** One call of the patched llama-mtmd-cli on one WAV. */
export interface MtmdJob {
  readonly wavPath: string;
  readonly prompt: string;
  readonly maxTokens: number;
  readonly contextSize: number;
  /** Extra sampler arguments (repetition control for a retry). */
  readonly samplerArgs?: readonly string[];
}

export interface MtmdSetup {
  readonly mtmdCli: string;
  readonly model: string;
  readonly mmproj: string;
  readonly threads: number;
  readonly timeoutMs: number;
  /** Folder for the per-call result file; the caller owns and removes it. */
  readonly tempDir: string;
  /** Arguments added to every call, for tests and benchmarks (e.g. --ignore-eos). */
  readonly extraArgs?: readonly string[];
}

/** What the patched binary writes to MTMD_RESULT_FILE. */
export interface MtmdResult {
  readonly text: string;
  /** eos: the model ended the answer; limit: it ran out of tokens. */
  readonly stop: StopReason | 'interrupted' | 'none';
  readonly n_tokens: number;
  readonly n_prompt: number;
  readonly t_load_ms: number;
  readonly t_encode_ms: number;
  readonly t_prompt_ms: number;
  readonly t_gen_ms: number;
}

/** A model call that failed: carries the reason and the tail of the binary's stderr. */
export class MtmdRunError extends ModelCallError {
  constructor(message: string, stderrTail: string) {
    super(message, stderrTail);
    this.name = 'MtmdRunError';
  }
}

const STDERR_TAIL_LINES = 15;

export function mtmdArgs(setup: MtmdSetup, job: MtmdJob): string[] {
  return [
    '-m', setup.model,
    '--mmproj', setup.mmproj,
    '--audio', job.wavPath,
    '-p', job.prompt,
    '-n', String(job.maxTokens),
    '-c', String(job.contextSize),
    '-t', String(setup.threads),
    '--temp', '0',
    '--seed', '0',
    // Warm-up runs a dummy decode to prime caches: pure overhead for a single answer.
    '--no-warmup',
    ...(job.samplerArgs ?? []),
    ...(setup.extraArgs ?? []),
  ];
}

let callCounter = 0;
const WINDOWS = process.platform === 'win32';

/** Runs one call; resolves to the parsed result file, rejects with MtmdRunError or InterruptedError. */
export async function runMtmdCli(setup: MtmdSetup, job: MtmdJob): Promise<MtmdResult> {
  const resultFile = path.join(setup.tempDir, `result-${process.pid}-${++callCounter}.json`);
  const child = execa(setup.mtmdCli, mtmdArgs(setup, job), {
    env: { MTMD_RAW_PROMPT: '1', MTMD_RESULT_FILE: resultFile },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
    killSignal: 'SIGKILL',
    cancelSignal: interruptSignal,
    maxBuffer: 64 * 1024 * 1024,
    // Its own process group, killed whole on timeout and Ctrl-C: whatever the binary started (a
    // wrapper script's children) goes too, and no grandchild keeps the stderr pipe, and with it
    // this call, open.
    detached: !WINDOWS,
  });
  const pid = child.pid;
  const untrack = trackChildGroup(pid);
  const killAll = () => {
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, Math.min(setup.timeoutMs, 2 ** 31 - 1)); // setTimeout fires at once beyond 2^31 - 1 ms
  interruptSignal.addEventListener('abort', killAll, { once: true });
  const r = await child;
  clearTimeout(timer);
  interruptSignal.removeEventListener('abort', killAll);
  // What it left behind, if anything (a group id is not reused while the group has members;
  // on Windows a pid can be, so there only the tree of a running process is killed).
  if (!WINDOWS) killAll();
  untrack();
  try {
    if (r.isCanceled) throw interruption();
    const tail = String(r.stderr ?? '').trim().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
    if (timedOut) throw new MtmdRunError(`llama-mtmd-cli did not finish within ${Math.round(setup.timeoutMs / 1000)} s`, tail);
    if (r.failed) {
      const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
      throw new MtmdRunError(`llama-mtmd-cli ${how}`, tail);
    }
    let raw: string;
    try {
      raw = fs.readFileSync(resultFile, 'utf8');
    } catch {
      throw new MtmdRunError('llama-mtmd-cli finished without writing its result (is the binary patched?)', tail);
    }
    let parsed: MtmdResult;
    try {
      parsed = JSON.parse(raw) as MtmdResult;
    } catch {
      throw new MtmdRunError('llama-mtmd-cli wrote a result that cannot be read', tail);
    }
    if (parsed === null || typeof parsed !== 'object' || typeof parsed.text !== 'string' || typeof parsed.stop !== 'string') {
      throw new MtmdRunError('llama-mtmd-cli wrote a result that cannot be read', tail);
    }
    return parsed;
  } finally {
    fs.rmSync(resultFile, { force: true });
  }
}
