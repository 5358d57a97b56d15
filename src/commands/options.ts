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
