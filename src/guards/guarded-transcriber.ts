/**
 * The per-window transcriber with quality guards: the window's first decode is checked, and a
 * flagged one goes up the repair ladder (./ladder.ts) before the result is handed on.
 */
import type { Window } from '../windows/window.js';
import type { LanguagePolicy, Language } from '../runner/request/languages.js';
import { DecodeFailedError, WindowFailedError, type SpanDecoder, type WindowTranscriber } from '../runner/request/decoder.js';
import { REPETITION_CONTROL, resumeLadder, runLadder, type LadderConfig } from './ladder.js';
import type { Decoded as Decoded } from '../transcript/decode.js';
import type { DecodeSettings } from '../transcript/guard-record.js';
import type { WindowResult } from '../transcript/window-result.js';
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

export interface GuardedTranscriber {
  /** First pass: decode, check, and climb the ladder for a flagged window. */
  readonly transcribe: WindowTranscriber;
  /**
   * Second pass for a marked window, once the file's language is known: without a --language
   * list, a window the model heard in another language is decoded with the file's language
   * forced (the ladder's force-language step). Other windows come back unchanged.
   */
  readonly resume: (result: WindowResult, fileLanguage: string) => Promise<WindowResult>;
}

export function guardedWindowTranscriber(decodeSpan: SpanDecoder, options: GuardOptions): GuardedTranscriber {
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
  const setup = (window: Window) => {
    const halves = splitWindow(window, options.loudness);
    const decode = async (s: DecodeSettings): Promise<Decoded> => {
      const o = {
        context: s.context,
        language: s.language as Language | null,
        sampler: s.repetitionControl ? REPETITION_CONTROL : undefined,
      };
      if (s.split && halves) {
        const a = await decodeSpan({ start: halves[0].start, end: halves[0].end, name: `${window.index}a` }, o);
        const b = await decodeSpan({ start: halves[1].start, end: halves[1].end, name: `${window.index}b` }, o);
        return joinHalves(halves, [a, b]);
      }
      return decodeSpan({ start: window.start, end: window.end, name: String(window.index) }, o);
    };
    const config: LadderConfig = {
      policy,
      speechSeconds: speechSeconds(window),
      initial,
      canSplit: halves !== null,
      isDecodeFailure: (err) => err instanceof DecodeFailedError,
    };
    return { decode, config };
  };
  return {
    async transcribe(window) {
      const started = Date.now();
      const { decode, config } = setup(window);
      try {
        const { kept, report } = await runLadder(decode, config);
        const guard = options.quality || report.outcome !== 'clean' ? report : undefined;
        return { window, ...kept, ms: Date.now() - started, ...(guard ? { guard } : {}) };
      } catch (err) {
        if (err instanceof DecodeFailedError) throw new WindowFailedError(window, err.message, Date.now() - started);
        throw err;
      }
    },
    async resume(result, fileLanguage) {
      if (!result.guard || result.guard.outcome !== 'marked' || options.language.kind !== 'auto') return result;
      const started = Date.now();
      const { decode, config } = setup(result.window);
      const previous = { kept: { language: result.language, text: result.text, stop: result.stop, tokens: result.tokens }, report: result.guard };
      const { kept, report } = await resumeLadder(decode, { ...config, fileLanguage }, previous);
      if (report === result.guard) return result;
      return { window: result.window, ...kept, ms: result.ms + Date.now() - started, guard: report };
    },
  };
}
