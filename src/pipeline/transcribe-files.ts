import fs from 'node:fs';
import path from 'node:path';
import { render, type Format, type Transcript } from '../writers/index.js';
import { ensureOutputDir, writeFileAtomic } from '../writers/output-file.js';
import { withDecodedInput } from '../audio/decode.js';
import { EXIT, InterruptedError, UserError, formatUserError } from '../errors.js';
import { throwIfInterrupted } from '../util/cleanup.js';
import { checkDistinctOutputs, checkOutputNames, outputPathsFor } from './outputs.js';
import { createTranscriber, type Transcriber } from './transcriber.js';
import { createLog, type LogLevel } from '../util/log.js';
import type { RunnerKind } from '../runner/runner.js';

/** Where outputs go: stdout (one format), a folder (null: beside each input), or one named file (one input, one format). */
export type Output =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'files'; readonly dir: string | null }
  | { readonly kind: 'file'; readonly path: string };

export interface TranscribeOptions {
  readonly inputs: readonly string[];
  readonly formats: readonly Format[];
  readonly output: Output;
  /** auto, one language, or a comma-separated list (see parseLanguagePolicy). */
  readonly language: string | null;
  /** Quality guards on (the default); false with --no-guard. */
  readonly guard: boolean;
  readonly context: string | null;
  readonly model: string;
  readonly mmproj: string | null;
  readonly threads: number | null;
  /** Windows at once: processes (subprocess runner) or slots (server runner). */
  readonly jobs: number | null;
  /** null: the default runner (choose-runner.ts). Ignored with endpoints. */
  readonly runner: RunnerKind | null;
  /** Already-running servers to send windows to (--endpoint); empty: run the model here. */
  readonly endpoints: readonly string[];
  readonly windowSeconds: number | null;
  readonly force: boolean;
  /** Stop the batch at the first file that fails (default: report it and go on). */
  readonly failFast?: boolean;
  readonly json: boolean;
  readonly ffmpeg: string | null;
  readonly backend: 'auto' | 'cpu' | 'cuda' | 'metal' | 'vulkan';
  readonly llamaCppSource: string | null;
  readonly log: LogLevel;
}

/** Windows the quality guards flagged: repaired by a retry, or marked (best candidate kept). */
export interface GuardCounts {
  readonly windows: number;
  readonly flagged: number;
  readonly repaired: number;
  readonly marked: number;
  /** Marked windows whose loops were cut from what is written. */
  readonly collapsed: number;
}

type FileOutcome =
  | { readonly input: string; readonly status: 'done'; readonly seconds: number; readonly outputs: string[]; readonly guard: GuardCounts }
  | { readonly input: string; readonly status: 'skipped'; readonly reason: string }
  | { readonly input: string; readonly status: 'failed'; readonly error: string }
  /** Never tried: --fail-fast stopped the batch before it. */
  | { readonly input: string; readonly status: 'not started' };

/**
 * Transcribes every input in turn and writes its outputs; resolves to the exit code. One bad
 * input in a batch is reported and skipped (exit 1 at the end); with a single input its error
 * is the run's error.
 */
export async function transcribeFiles(options: TranscribeOptions): Promise<number> {
  const log = createLog(options.log);
  const outputDir = options.output.kind === 'files' ? options.output.dir : null;
  if (options.output.kind === 'files') checkDistinctOutputs(options.inputs, options.formats, outputDir);
  checkOutputNames(options.inputs.flatMap((input) => [...(targetsFor(input, options)?.values() ?? [])]));
  const started = Date.now();
  // Started by the first file, inside a callback: `as` keeps TS from narrowing it to null here.
  let transcriber = null as Transcriber | null;
  const outcomes: FileOutcome[] = [];

  // An output folder that cannot be written is found before hours of transcription, not after.
  if (outputDir !== null) ensureOutputDir(outputDir);

  try {
    for (const [i, input] of options.inputs.entries()) {
      throwIfInterrupted();
      const targets = targetsFor(input, options);
      if (targets && !options.force && [...targets.values()].every((p) => fs.existsSync(p))) {
        log.info(`${input}: skipped, its outputs exist (--force redoes them)`);
        outcomes.push({ input, status: 'skipped', reason: 'outputs exist' });
        continue;
      }
      const before = new Set(targets ? [...targets.values()].filter((p) => fs.existsSync(p)) : []);
      let settingUp = false;
      try {
        if (targets && outputDir === null) ensureOutputDir(path.dirname([...targets.values()][0]));
        const transcript = await withDecodedInput(input, options.ffmpeg, async (audio) => {
          if (audio.repaired > 0) {
            log.warn(`${input}: ${audio.repaired} ${audio.repaired === 1 ? 'sample was' : 'samples were'} not a number (NaN or infinite): transcribed as silence`);
          }
          if (!transcriber) {
            // A model or build that fails is no fault of this file: it would fail every file alike.
            settingUp = true;
            transcriber = await createTranscriber(options, log);
            settingUp = false;
          }
          return transcriber.transcribe(audio, input);
        });
        const { written, meanwhile } = writeOutputs(transcript, options, targets, before);
        const seconds = transcript.durationSeconds;
        for (const p of written) log.info(`wrote ${p}`);
        for (const p of meanwhile) log.info(`${p} appeared meanwhile (another run?): kept; --force overwrites`);
        const guard = guardCounts(transcript);
        if (guard.flagged > 0) {
          const cut = guard.collapsed > 0 ? `, loops cut from ${guard.collapsed}` : '';
          log.info(`${input}: quality guards flagged ${guard.flagged} of ${guard.windows} windows: ${guard.repaired} repaired, ${guard.marked} marked (kept as the best of their retries${cut})`);
        }
        if (targets && written.length === 0) outcomes.push({ input, status: 'skipped', reason: 'outputs written meanwhile by another run' });
        else outcomes.push({ input, status: 'done', seconds, outputs: written, guard });
      } catch (err) {
        if (settingUp || err instanceof InterruptedError || !(err instanceof UserError) || options.inputs.length === 1) throw err;
        log.error(`${input}: ${formatUserError(err)}`);
        outcomes.push({ input, status: 'failed', error: formatUserError(err) });
        if (options.failFast) {
          const rest = options.inputs.slice(i + 1);
          if (rest.length > 0) log.error(`--fail-fast: stopping; ${rest.length} ${rest.length === 1 ? 'file was' : 'files were'} not started`);
          for (const r of rest) outcomes.push({ input: r, status: 'not started' });
          break;
        }
      }
    }
  } finally {
    // The warm runner's server goes with the run, whatever ended it.
    await transcriber?.close();
  }

  const failed = outcomes.filter((o) => o.status === 'failed').length;
  if (options.json) process.stdout.write(`${JSON.stringify(summary(outcomes, Date.now() - started), null, 2)}\n`);
  if (options.inputs.length > 1) {
    const done = outcomes.filter((o) => o.status === 'done').length;
    const skipped = outcomes.filter((o) => o.status === 'skipped').length;
    const hard = outcomes.filter((o) => o.status === 'failed').length;
    const notStarted = outcomes.filter((o) => o.status === 'not started').length;
    const flagged = outcomes.reduce((n, o) => n + ('guard' in o ? o.guard.flagged : 0), 0);
    const guardNote = flagged > 0 ? `; quality guards flagged ${flagged} windows` : '';
    const totals = summary(outcomes, Date.now() - started);
    const speed = totals.audioSeconds > 0 ? ` — ${formatSeconds(totals.audioSeconds)} of audio in ${formatSeconds(totals.wallSeconds)} (RTF ${totals.realTimeFactor})` : '';
    log.info(`${done} transcribed, ${skipped} skipped, ${hard} failed${notStarted ? `, ${notStarted} not started` : ''}${guardNote}${speed}`);
  }
  return failed > 0 ? EXIT.failure : EXIT.ok;
}

/** The output file of each format for one input; null when the one format goes to stdout. */
function targetsFor(input: string, options: TranscribeOptions): Map<Format, string> | null {
  switch (options.output.kind) {
    case 'stdout':
      return null;
    case 'file':
      return new Map([[options.formats[0], options.output.path]]);
    case 'files':
      return outputPathsFor(input, options.formats, options.output.dir);
  }
}

/**
 * Writes each output atomically. Without --force an output that exists by now (another run on
 * the same files finished first) is kept: both runs end well, with one complete file.
 */
function writeOutputs(t: Transcript, options: TranscribeOptions, targets: Map<Format, string> | null, before: ReadonlySet<string>): { written: string[]; meanwhile: string[] } {
  const written: string[] = [];
  const meanwhile: string[] = [];
  if (targets === null) {
    process.stdout.write(render(options.formats[0], t));
    return { written, meanwhile };
  }
  for (const [format, dest] of targets) {
    if (!options.force && fs.existsSync(dest)) {
      if (!before.has(dest)) meanwhile.push(dest); // else done by an earlier run: kept
      continue;
    }
    ensureOutputDir(path.dirname(dest));
    try {
      writeFileAtomic(dest, render(format, t), options.force);
      written.push(dest);
    } catch (err) {
      if (!options.force && fs.existsSync(dest)) meanwhile.push(dest);
      else throw err;
    }
  }
  return { written, meanwhile };
}


export function guardCounts(t: Transcript): GuardCounts {
  const outcomes = t.windows.map((w) => w.guard?.outcome ?? 'clean');
  const repaired = outcomes.filter((o) => o === 'repaired').length;
  const marked = outcomes.filter((o) => o === 'marked').length;
  const collapsed = t.windows.filter((w) => (w.guard?.collapsed ?? 0) > 0).length;
  return { windows: t.windows.length, flagged: repaired + marked, repaired, marked, collapsed };
}

function formatSeconds(seconds: number): string {
  return seconds < 120 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}

function summary(outcomes: FileOutcome[], wallMs: number) {
  const audioSeconds = outcomes.reduce((s, o) => s + (o.status === 'done' ? o.seconds : 0), 0);
  return {
    files: outcomes,
    audioSeconds: Math.round(audioSeconds * 1000) / 1000,
    wallSeconds: Math.round(wallMs) / 1000,
    realTimeFactor: audioSeconds > 0 ? Math.round((wallMs / 1000 / audioSeconds) * 1000) / 1000 : null,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    flaggedWindows: outcomes.reduce((s, o) => s + ('guard' in o ? o.guard.flagged : 0), 0),
    markedWindows: outcomes.reduce((s, o) => s + ('guard' in o ? o.guard.marked : 0), 0),
    collapsedWindows: outcomes.reduce((s, o) => s + ('guard' in o ? o.guard.collapsed : 0), 0),
  };
}
