/**
 * The per-window transcriber with quality guards: the window's first decode is checked, and a
 * flagged one goes up the repair ladder (./ladder.ts) before the result is handed on.
 */
import type { Window } from '../windows/window.js';
import type { LanguagePolicy, Language } from '../runner/languages.js';
import { DecodeFailedError, WindowFailedError, type SpanDecoder, type WindowTranscriber } from '../runner/subprocess-runner.js';
import { REPETITION_CONTROL_ARGS, runLadder, type Candidate, type DecodeSettings } from './ladder.js';
import { joinHalves, splitWindow } from './split.js';

export interface GuardOptions {
  readonly context: string | null;
  readonly language: LanguagePolicy;
  /** False with --no-guard: only the language policy is enforced. */
  readonly quality: boolean;
  /** Per-frame loudness of the input (src/mel), for the split step. */
  readonly loudness: Float32Array;
}

const speechSeconds = (w: Window) => w.speech.reduce((s, r) => s + (r.end - r.start), 0);

export function guardedWindowTranscriber(decodeSpan: SpanDecoder, options: GuardOptions): WindowTranscriber {
  const policy = {
    context: options.context,
    allowed: options.language.kind === 'restricted' ? options.language.allowed : null,
    quality: options.quality,
  };
  const initial: DecodeSettings = {
    repetitionControl: false,
    split: false,
    context: options.context,
    language: options.language.kind === 'forced' ? options.language.language : null,
  };
  return async (window) => {
    const started = Date.now();
    const halves = splitWindow(window, options.loudness);
    const decode = async (s: DecodeSettings): Promise<Candidate> => {
      const o = {
        context: s.context,
        language: s.language as Language | null,
        samplerArgs: s.repetitionControl ? REPETITION_CONTROL_ARGS : undefined,
      };
      if (s.split && halves) {
        const a = await decodeSpan({ start: halves[0].start, end: halves[0].end, name: `${window.index}a` }, o);
        const b = await decodeSpan({ start: halves[1].start, end: halves[1].end, name: `${window.index}b` }, o);
        return joinHalves(halves, [a, b]);
      }
      return decodeSpan({ start: window.start, end: window.end, name: String(window.index) }, o);
    };
    try {
      const { kept, report } = await runLadder(decode, {
        policy,
        speechSeconds: speechSeconds(window),
        initial,
        canSplit: halves !== null,
        isDecodeFailure: (err) => err instanceof DecodeFailedError,
      });
      const guard = options.quality || report.outcome !== 'clean' ? report : undefined;
      return { window, ...kept, ms: Date.now() - started, ...(guard ? { guard } : {}) };
    } catch (err) {
      if (err instanceof DecodeFailedError) throw new WindowFailedError(window, err.message, Date.now() - started);
      throw err;
    }
  };
}
