import path from 'node:path';
import type { Audio } from '../audio/audio.js';
import { durationSeconds } from '../audio/audio.js';
import type { Transcript } from '../writers/index.js';
import type { RunnerKind } from '../runner/runner.js';
import type { LogLevel } from '../util/log.js';
import type { Log } from '../util/log.js';
import { analyseSpeech } from '../speech/speech-regions.js';
import { cutWindows } from '../windows/cut-windows.js';
import { buildCues, fileLanguage, type CueOptions } from '../cues/build-cues.js';
import { spanDecoder } from '../runner/request/decoder.js';
import { guardedWindowTranscriber } from '../guards/guarded-transcriber.js';
import { runWindows } from '../runner/run-windows.js';
import { parseLanguagePolicy } from '../runner/request/languages.js';
import { fixedTokenBudgetFromEnv } from '../runner/request/token-budget-override.js';
import { createProgress, modelSpinner, type BatchPosition } from './progress-bar.js';
import { startRunner } from './choose-runner.js';
import { alignerIsHere, startAlignerFor, type AlignOptions } from './choose-aligner.js';
import { alignResults } from '../align/align-results.js';
import type { Aligner } from '../align/aligner.js';
import { WindowFailedError, type WindowTranscriber } from '../runner/request/decoder.js';
import { UserError } from '../errors.js';
import { resolvesLocally } from '../models/resolve.js';
import { findBuild } from '../llamacpp/index.js';

/** Turns decoded audio into a transcript; holds whatever stays warm across inputs. */
/** What one run of the model needs, whatever feeds it (a batch of files, an eval data set). */
export interface ModelRunOptions {
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
  readonly backend: 'auto' | 'cpu' | 'cuda' | 'metal' | 'vulkan';
  readonly llamaCppSource: string | null;
  readonly log: LogLevel;
  /** Word timing by the forced aligner (--align, --aligner). */
  readonly align: AlignOptions;
  /** Cue limits (--max-chars, --max-words). */
  readonly cues: CueOptions;
}

export interface Transcriber {
  /** `batch`: where this input stands in a batch (for the progress bar). */
  transcribe(audio: Audio, input: string, batch?: BatchPosition | null): Promise<Transcript>;
  close(): Promise<void>;
}

/**
 * A window whose model call failed twice fails its file: a transcript with a hole in it would be
 * written, look finished, and be skipped by the next run, so the hole would never be filled.
 * Stopping at the first failure also spares the other windows of a file that is lost anyway
 * (a crashing or hanging binary would otherwise fail each window in turn, timeouts included).
 */
function stopAtFailure(input: string, transcribe: WindowTranscriber): WindowTranscriber {
  return async (window) => {
    try {
      return await transcribe(window);
    } catch (err) {
      if (!(err instanceof WindowFailedError)) throw err;
      throw new UserError(`transcribing ${input} failed at ${window.start.toFixed(1)}–${window.end.toFixed(1)} s: ${err.message}`, {
        hint: 'nothing was written for it; run the same command again to retry it',
        cause: err,
      });
    }
  };
}

export async function createTranscriber(options: ModelRunOptions, log: Log): Promise<Transcriber> {
  const language = parseLanguagePolicy(options.language);
  const budget = fixedTokenBudgetFromEnv();
  const { runner, windowSeconds, modelName, build } = await startRunner(options, budget, log);
  let aligner: Aligner | null;
  try {
    aligner = await startAlignerFor(options, windowSeconds, build, log);
  } catch (err) {
    await runner.close();
    throw err;
  }
  const jobs = runner.concurrency;
  return {
    async transcribe(audio, input, batch) {
      const speech = analyseSpeech(audio);
      const windows = cutWindows(speech.regions, speech.loudness, { maxSeconds: windowSeconds, duration: speech.duration });
      log.debug(`${input}: ${speech.regions.length} speech regions, ${windows.length} windows`);
      const progress = createProgress(path.basename(input), windows.length, log.level, batch ?? null);
      const guarded = guardedWindowTranscriber(spanDecoder(runner.call, audio, budget), {
        context: options.context,
        language,
        quality: options.guard,
        loudness: speech.loudness,
      });
      let outcome;
      try {
        outcome = await runWindows(windows, stopAtFailure(input, guarded.transcribe), jobs, (w) => progress.advance(w.end - w.start));
      } finally {
        progress.stop();
      }
      // Second pass: marked windows heard in another language than the rest of the file get the
      // file's language forced (auto mode; a --language list is enforced in the first pass).
      const marked = outcome.results.filter((r) => r.guard?.outcome === 'marked');
      const majority = fileLanguage(outcome.results.filter((r) => r.guard?.outcome !== 'marked'));
      if (marked.length > 0 && majority !== null) {
        const byIndex = new Map(outcome.results.map((r) => [r.window.index, r]));
        const second = await runWindows(marked.map((r) => r.window), stopAtFailure(input, (w) => guarded.resume(byIndex.get(w.index)!, majority)), jobs);
        for (const r of second.results) byIndex.set(r.window.index, r);
        outcome = { results: [...byIndex.values()].sort((a, b) => a.window.index - b.window.index) };
      }
      for (const r of outcome.results) {
        if (!r.guard || r.guard.outcome === 'clean') continue;
        const what = r.guard.flags.map((f) => `${f.kind} (${f.detail})`).join(', ');
        const steps = r.guard.attempts.slice(1).map((a) => a.step).join(' → ') || 'no step applied';
        const message = `${input}: window ${r.window.start.toFixed(1)}–${r.window.end.toFixed(1)} s: ${what}; ${steps}: ${r.guard.outcome}`;
        if (r.guard.outcome === 'marked') log.warn(message);
        else log.debug(message);
      }
      const results = aligner ? await alignResults(outcome.results, audio, aligner, input, log) : outcome.results;
      const cues = buildCues(results, options.cues);
      return {
        input,
        durationSeconds: durationSeconds(audio),
        language: fileLanguage(results),
        model: modelName,
        windows: results,
        cues,
        ...(audio.timeline ? { audioStreams: audio.timeline.audioStreams } : {}),
      };
    },
    async close() {
      await Promise.all([runner.close(), aligner?.close()]);
    },
  };
}

/**
 * Whether the local model would start without setting anything up first: its files are here, so
 * is the build, and so is the word aligner if the run has one (no download, conversion or build).
 * Only such a start is begun before an input is known to be audio (prestart below): a bad input
 * then costs no more than a server stopped while it starts.
 */
async function startsWithoutSetup(options: ModelRunOptions): Promise<boolean> {
  if (options.endpoints.length > 0 || options.llamaCppSource !== null || !alignerIsHere(options.align)) return false;
  if (!resolvesLocally(options.model)) return false;
  return (await findBuild({ backend: options.backend }).catch(() => null)) !== null;
}

/**
 * The model, started by the first input that needs it (a batch of finished files never loads
 * it), behind a spinner on a terminal; closed once, whatever ended the run. One for `transcribe`
 * and `eval` alike.
 */
export interface LazyTranscriber {
  get(): Promise<Transcriber>;
  prestart(): void;
  close(): Promise<void>;
}

export function lazyTranscriber(options: ModelRunOptions, log: Log): LazyTranscriber {
  let started: Promise<Transcriber> | null = null;
  let prestarted = false;
  return {
    /**
     * Starts the model now, while an input decodes, if that sets nothing up first (startsWithoutSetup):
     * the server's start (~1 s on 2 cores) then overlaps the decoding and the speech analysis. Its
     * failure, if any, is the one get() reports.
     */
    prestart() {
      if (started !== null || prestarted) return;
      prestarted = true;
      void startsWithoutSetup(options).then((now) => {
        if (now) this.get().catch(() => {});
      }, () => {});
    },
    get() {
      started ??= (async () => {
        // the first input waits for the model (and, the first time ever, its download or build)
        const spinner = modelSpinner(`loading the model (${path.basename(options.model)})…`, log.level);
        try {
          return await createTranscriber(options, log);
        } finally {
          spinner.stop();
        }
      })();
      return started;
    },
    async close() {
      const t = await started?.catch(() => null);
      await t?.close();
    },
  };
}
