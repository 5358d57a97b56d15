/**
 * Which runner a run uses, and starting it: remote --endpoint servers when given, else the
 * local model with --runner (default below, chosen by bench/RESULTS.md).
 */
import os from 'node:os';
import type { Log } from '../util/log.js';
import { resolveModel } from '../models/resolve.js';
import { ensureBuild, type BuildResult } from '../llamacpp/index.js';
import { loadArgs } from '../llamacpp/load-args.js';
import { interruptSignal, makeTempDir } from '../util/cleanup.js';
import { subprocessCall } from '../runner/local/subprocess-runner.js';
import { serverRunner } from '../runner/local/server-runner.js';
import { endpointRunner } from '../runner/remote/endpoint-runner.js';
import type { Runner, RunnerKind } from '../runner/runner.js';
import type { FixedTokenBudget } from '../runner/request/token-budget-override.js';
import type { ModelRunOptions } from './transcriber.js';
import { UsageError } from '../errors.js';

/** Measured in bench/RESULTS.md ("Subprocess vs warm server"). */
export const DEFAULT_RUNNER: RunnerKind = 'server';
/** The encoder's window, for endpoints whose model we do not read. */
const DEFAULT_WINDOW_SECONDS = 8;

export interface StartedRunner {
  readonly runner: Runner;
  readonly windowSeconds: number;
  /** How the model is named in outputs. */
  readonly modelName: string;
  /** The patched build the model runs on here (the aligner runs on it too); null with endpoints (nothing was built). */
  readonly build: BuildResult | null;
}

/**
 * Per-window time limit: generous for the 1.7B on a slow CPU, yet a hung process is noticed. A
 * window shares the machine with the others in flight, so it may take `inFlight` times as long.
 */
export function windowTimeoutMs(windowSeconds: number, inFlight = 1): number {
  const fromEnv = Number(process.env.QWEN3ASR_WINDOW_TIMEOUT);
  if (fromEnv > 0) return fromEnv * 1000;
  return (120 + 20 * windowSeconds * inFlight) * 1000;
}

/**
 * What the runners add to the model's command line: the build's load options (load-args.ts) and
 * QWEN3ASR_EXTRA_ARGS (tests, benchmarks).
 */
export function runnerExtraArgs(build: Pick<BuildResult, 'cpuOnly'>): string[] {
  return [...loadArgs(build), ...(process.env.QWEN3ASR_EXTRA_ARGS ?? '').split(' ').filter(Boolean)];
}

export async function startRunner(options: ModelRunOptions, budget: FixedTokenBudget | null, log: Log): Promise<StartedRunner> {
  if (options.endpoints.length > 0) {
    const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    const timeoutMs = windowTimeoutMs(windowSeconds);
    const runner = await endpointRunner(options.endpoints, options.jobs ?? 2, timeoutMs, log);
    log.debug(`endpoints: ${options.endpoints.join(', ')}; ${runner.concurrency} windows at once`);
    return { runner, windowSeconds, modelName: options.endpoints.join(','), build: null };
  }
  const model = await resolveModel(options.model, options.mmproj, log);
  if (model.aligner !== null) {
    throw new UsageError(`${options.model} is the forced aligner, which times words but cannot transcribe`, 'give it as --aligner, and a Qwen3-ASR model as --model');
  }
  const build = await ensureBuild({ backend: options.backend, source: options.llamaCppSource, log: log.level, signal: interruptSignal });
  const windowSeconds = options.windowSeconds ?? model.windowSeconds;
  const threads = options.threads ?? Math.max(1, os.availableParallelism());
  const kind = options.runner ?? DEFAULT_RUNNER;
  if (kind === 'server') {
    // One process, all threads; the slots share them batch by batch.
    const slots = options.jobs ?? DEFAULT_SERVER_SLOTS;
    const timeoutMs = windowTimeoutMs(windowSeconds, slots);
    const runner = await serverRunner({
      server: build.server, model: model.text, mmproj: model.mmproj, threads, slots, windowSeconds,
      context: options.context, budget, timeoutMs, extraArgs: runnerExtraArgs(build),
    });
    log.debug(`runner: llama-server, ${slots} slots, ${threads} threads`);
    return { runner, windowSeconds, modelName: model.name, build };
  }
  const jobs = options.jobs ?? 1;
  const timeoutMs = windowTimeoutMs(windowSeconds, jobs);
  const temp = makeTempDir('run');
  const tempDir = temp.dir;
  const call = subprocessCall({
    mtmdCli: build.mtmdCli, model: model.text, mmproj: model.mmproj,
    // Concurrent processes split the cores between them.
    threads: Math.max(1, Math.floor(threads / jobs)),
    timeoutMs, tempDir, extraArgs: runnerExtraArgs(build),
  });
  log.debug(`runner: llama-mtmd-cli per window, ${jobs} at once`);
  const close = async () => {
    temp.remove();
  };
  return { runner: { kind: 'subprocess', call, concurrency: jobs, close }, windowSeconds, modelName: model.name, build };
}

/**
 * Windows decoded at once by the server: each decode step carries one token of every slot, so the
 * weights are read once for all of them. Measured in bench/RESULTS.md (issue 19: 4, 8 and 16 slots
 * on 2 cores; 8 was as fast as 16, and each slot costs only its small KV cache).
 */
export const DEFAULT_SERVER_SLOTS = 8;
