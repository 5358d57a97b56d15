import { InvalidArgumentError, Option } from 'commander';
import type { RunnerKind } from '../runner/runner.js';

/** Parsers for option values; each throws commander's InvalidArgumentError (exit 2). */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got '${value}'.`);
    return n;
  };
}

/** A whole number ≥ 0 (an index). */
export function wholeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got '${value}'.`);
    return n;
  };
}

/** A whole number from 1 to max: --jobs beyond max would start that many servers' slots or processes. */
export function intInRange(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got '${value}'.`);
    return n;
  };
}

/** Most windows at once: each is a server slot (its own KV cache) or a whole llama-mtmd-cli process. */
export const MAX_JOBS = 64;

/** Repeatable --endpoint: each an http(s) URL with a port a server can listen on, checked before any work. */
export function collectEndpoint(value: string, previous: string[]): string[] {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a URL: give it as http://host:port.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InvalidArgumentError(`'${value}': only http and https endpoints are supported.`);
  }
  return [...previous, value];
}

export function secondsInRange(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number of seconds from ${min} to ${max}, got '${value}'.`);
    }
    return n;
  };
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got '${value}'.`);
    }
    return value as T;
  };
}

/** `--verbose`/`--quiet` appear on every command. */
export function loggingOptions(): Option[] {
  return [
    new Option('-q, --quiet', 'print nothing but errors (and the transcript when it goes to stdout)'),
    new Option('-v, --verbose', 'print details: commands run, timings, stack traces on errors'),
  ];
}

/** `--model` and `--mmproj`, the same on `transcribe` and `eval`. */
export function modelOptions(): Option[] {
  return [
    new Option('-m, --model <name|path>', 'model: an alias (0.6b, 1.7b, 0.6b-q4_k_m, 1.7b-q4_k_m), hf:OWNER/REPO[:QUANT], an imported name, a text GGUF path, or a checkpoint folder')
      .env('QWEN3ASR_MODEL')
      .default('0.6b'),
    new Option('--mmproj <path>', 'audio encoder GGUF to use with a --model path').env('QWEN3ASR_MMPROJ'),
  ];
}

/** The options that decide how the model runs, shared by `transcribe` and `eval`. */
export function modelRunOptions(opts: Record<string, unknown>) {
  return {
    language: (opts.language as string | undefined) ?? null,
    guard: opts.guard !== false,
    context: (opts.context as string | undefined) ?? null,
    model: opts.model as string,
    mmproj: (opts.mmproj as string | undefined) ?? null,
    threads: (opts.threads as number | undefined) ?? null,
    jobs: (opts.jobs as number | undefined) ?? null,
    runner: (opts.runner as RunnerKind | undefined) ?? null,
    endpoints: opts.endpoint as string[],
    windowSeconds: (opts.windowSeconds as number | undefined) ?? null,
  };
}
