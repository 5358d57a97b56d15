import fs from 'node:fs';
import path from 'node:path';
import { render, type Format, type RenderOptions, type Transcript } from '../writers/index.js';
import { ensureOutputDir, writeFileAtomic } from '../writers/output-file.js';
import { STDIN, withDecodedInput } from '../audio/decode.js';
import type { Audio } from '../audio/audio.js';
import { analyseSpeech } from '../speech/speech-regions.js';
import { EXIT, InterruptedError, UserError, formatUserError } from '../errors.js';
import { throwIfInterrupted } from '../util/cleanup.js';
import { checkDistinctOutputs, checkNoInputOverwritten, checkOutputNames, outputPathsFor } from './outputs.js';
import { lazyTranscriber, type LazyTranscriber, type ModelRunOptions } from './transcriber.js';
import type { BatchPosition } from './progress-bar.js';
import { createLog, type Log, type LogLevel } from '../util/log.js';
import { fileIdentity, identityOf, outputStates, planOutputs, recordedInput, sha256, writeRecord, type InputIdentity, type OutputPlan } from './output-record.js';
import type { RunnerKind } from '../runner/runner.js';

/** Where outputs go: stdout (one format), a folder (null: beside each input), or one named file (one input, one format). */
export type Output =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'files'; readonly dir: string | null }
  | { readonly kind: 'file'; readonly path: string };

/** One `transcribe` command: the model run, plus what a batch of inputs and their outputs need. */
export interface TranscribeOptions extends ModelRunOptions {
  readonly inputs: readonly string[];
  readonly formats: readonly Format[];
  readonly output: Output;
  readonly force: boolean;
  /** Stop the batch at the first file that fails (default: report it and go on). */
  readonly failFast?: boolean;
  readonly json: boolean;
  readonly ffmpeg: string | null;
  /** Which audio stream of each input (--audio-stream; null: the first). */
  readonly audioStream?: number | null;
  /** --highlight-words: karaoke-style vtt. */
  readonly highlightWords?: boolean;
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
  const allTargets = options.inputs.flatMap((input) => [...(targetsFor(input, options)?.values() ?? [])]);
  checkOutputNames(allTargets);
  checkNoInputOverwritten(options.inputs, allTargets);
  const started = Date.now();
  const outcomes: FileOutcome[] = [];

  // An output folder that cannot be written is found before hours of transcription, not after.
  if (outputDir !== null) ensureOutputDir(outputDir);

  // The model starts with the first file that needs it; a model or build that fails is no fault
  // of that file: it would fail every file alike, so it stops the run.
  const transcriber = lazyTranscriber(options, log);
  try {
    for (const [i, input] of options.inputs.entries()) {
      throwIfInterrupted();
      try {
        const done = outcomes.filter((o) => o.status === 'done').length;
        const audioSecondsDone = outcomes.reduce((t, o) => t + (o.status === 'done' ? o.seconds : 0), 0);
        const position = { file: i + 1, files: options.inputs.length, elapsedSeconds: (Date.now() - started) / 1000, done, audioSecondsDone };
        outcomes.push(await transcribeOne(input, options, log, transcriber, position));
      } catch (err) {
        const fatal = err instanceof ModelSetupError ? err.reason : err;
        if (fatal !== err || err instanceof InterruptedError || !(err instanceof UserError) || options.inputs.length === 1) {
          // the run stops here; --json still says what became of every input
          const why = fatal instanceof UserError ? formatUserError(fatal) : String((fatal as Error)?.message ?? fatal);
          outcomes.push({ input, status: 'failed', error: why });
          for (const r of options.inputs.slice(i + 1)) outcomes.push({ input: r, status: 'not started' });
          throw fatal;
        }
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
    await transcriber.close();
    if (options.json) process.stdout.write(`${JSON.stringify(summary(outcomes, Date.now() - started), null, 2)}\n`);
  }

  const failed = outcomes.filter((o) => o.status === 'failed').length;
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

/** Wraps a failure to start the model, so the batch loop stops the run instead of skipping the file. */
class ModelSetupError extends Error {
  constructor(readonly reason: unknown) {
    super('model setup failed');
  }
}

/**
 * One input: decide from its outputs' record whether there is anything to do (finished inputs
 * are skipped before decoding; stdin and pipes, known only by their bytes, once decoded), then
 * transcribe, write what the plan says, and record what was written.
 */
async function transcribeOne(input: string, options: TranscribeOptions, log: Log, model: LazyTranscriber, position: BatchPosition): Promise<FileOutcome> {
  const targets = targetsFor(input, options);
  const name = input === STDIN ? 'stdin' : input;
  const plan = (identity: InputIdentity | null): OutputPlan | null => {
    if (!targets) return null;
    const states = outputStates(targets, identity);
    const p = planOutputs(states, options.force, () => recordedInput([...targets.values()][0]));
    if (p.conflict) throw new UserError(p.conflict.message, { hint: p.conflict.hint });
    return p;
  };
  const skipped = (p: OutputPlan, why: string): FileOutcome => {
    for (const f of p.foreign) log.warn(`${f} was not written by qwen3asr for ${name} (another tool's, or edited since): kept; --force replaces it`);
    log.info(`${name}: skipped, ${why} (--force redoes them)`);
    return { input, status: 'skipped', reason: 'outputs exist' };
  };
  let identity = fileIdentity(input);
  const early = identity !== null ? plan(identity) : null;
  if (early && early.write.size === 0) return skipped(early, 'its outputs exist');
  // a folder that cannot be written is found before the transcription, not after it
  if (targets) ensureOutputDir(path.dirname([...targets.values()][0]));

  let final = early;
  // a file with outputs to write will need the model: it starts while the file decodes
  if (identity !== null) model.prestart();
  const transcript = await withDecodedInput(input, options.ffmpeg, async (audio, source) => {
    if (identity === null) {
      identity = identityOf(source);
      final = plan(identity);
      if (final && final.write.size === 0) return null; // the same bytes as the run that wrote them
    }
    if (audio.repaired > 0) {
      log.warn(`${name}: ${audio.repaired} ${audio.repaired === 1 ? 'sample was' : 'samples were'} not a number (NaN or infinite): transcribed as silence`);
    }
    const t = await model.get().catch((err: unknown) => {
      throw new ModelSetupError(err);
    });
    reportTimeline(name, audio, log);
    return t.transcribe(audio, input, position);
  }, { audioStream: options.audioStream ?? null });
  if (transcript === null) return skipped(final!, 'its outputs exist (the same audio as before)');
  if (transcript.cues.length === 0) await noteNoSpeech(input, name, transcript, options, log);

  if (!targets || !final) {
    process.stdout.write(render(options.formats[0], transcript, { highlightWords: options.highlightWords }));
    return { input, status: 'done', seconds: transcript.durationSeconds, outputs: [], guard: reportGuards(input, transcript, log) };
  }
  const { written, meanwhile } = writeOutputs(transcript, targets, final.write, { highlightWords: options.highlightWords });
  for (const p of written.keys()) log.info(`wrote ${p}`);
  for (const p of meanwhile) log.info(`${p} appeared meanwhile (another run?): kept; --force overwrites`);
  for (const f of final.foreign) log.warn(`${f} was not written by qwen3asr for ${name} (another tool's, or edited since): kept; --force replaces it`);
  writeRecord(targets, identity!, written);
  const guard = reportGuards(input, transcript, log);
  if (written.size === 0) return { input, status: 'skipped', reason: 'outputs written meanwhile by another run' };
  return { input, status: 'done', seconds: transcript.durationSeconds, outputs: [...written.keys()], guard };
}

/**
 * Empty outputs are right for silence, but should not pass unremarked; and a file whose stream is
 * silent while another has speech (a muted track first, the voice second) says which to pick.
 */
async function noteNoSpeech(input: string, name: string, t: Transcript, options: TranscribeOptions, log: Log): Promise<void> {
  const base = `${name}: no speech found in ${t.durationSeconds.toFixed(1)} s of audio: the outputs are empty`;
  const streams = t.audioStreams ?? 1;
  const chosen = options.audioStream ?? 0;
  const others = Array.from({ length: Math.min(streams, 8) }, (_, i) => i).filter((i) => i !== chosen);
  const voiced: number[] = [];
  // a file can be read again; stdin and pipes are gone once read
  if (input !== STDIN && others.length > 0 && fileIdentity(input) !== null) {
    for (const s of others) {
      const found = await withDecodedInput(input, options.ffmpeg, async (audio) => analyseSpeech(audio).regions.length > 0, { audioStream: s }).catch(() => false);
      if (found) voiced.push(s);
    }
  }
  if (voiced.length > 0) log.warn(`${base}, but audio stream ${voiced.join(', ')} has speech: --audio-stream ${voiced[0]} picks it`);
  else log.info(others.length > 0 ? `${base} (nor in its other ${others.length === 1 ? 'audio stream' : `${others.length} audio streams`})` : base);
}

/** What the file's own timeline held that the samples now account for: a late start is normal, a gap is news. */
function reportTimeline(name: string, audio: Audio, log: Log): void {
  const t = audio.timeline;
  if (!t) return;
  if (t.startSeconds > 0) log.debug(`${name}: its audio starts ${t.startSeconds.toFixed(2)} s into the file: cues are timed from the file's start`);
  for (const g of t.gaps) {
    log.warn(`${name}: ${g.seconds.toFixed(1)} s of audio missing at ${formatClock(g.at)} (damaged or missing data): filled with silence, so later cues keep their times`);
  }
}

/** 75.5 → "1:15.5" (minutes and seconds, hours when there are any). */
function formatClock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = (seconds % 60).toFixed(1).padStart(4, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function reportGuards(input: string, transcript: Transcript, log: Log): GuardCounts {
  const guard = guardCounts(transcript);
  if (guard.flagged > 0) {
    const cut = guard.collapsed > 0 ? `, loops cut from ${guard.collapsed}` : '';
    log.info(`${input}: quality guards flagged ${guard.flagged} of ${guard.windows} windows: ${guard.repaired} repaired, ${guard.marked} marked (kept as the best of their retries${cut})`);
  }
  return guard;
}

/**
 * Writes each planned output atomically; returns what was written (path → sha256 of its bytes).
 * An output that did not exist when planned but does by now (another run on the same files
 * finished first) is kept: both runs end well, with one complete file.
 */
function writeOutputs(t: Transcript, targets: ReadonlyMap<Format, string>, plan: ReadonlyMap<string, boolean>, renderOptions: RenderOptions): { written: Map<string, string>; meanwhile: string[] } {
  const written = new Map<string, string>();
  const meanwhile: string[] = [];
  for (const [format, dest] of targets) {
    const overwrite = plan.get(dest);
    if (overwrite === undefined) continue;
    ensureOutputDir(path.dirname(dest));
    const content = render(format, t, renderOptions);
    try {
      writeFileAtomic(dest, content, overwrite);
      written.set(dest, sha256(content));
    } catch (err) {
      if (!overwrite && fs.existsSync(dest)) meanwhile.push(dest);
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
