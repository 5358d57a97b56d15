/**
 * The decoder interface the guards and the transcriber use, whatever runs the model: a stretch
 * of the input in, the parsed answer out. Runners differ only in the `ModelCall` that performs
 * one request (a llama-mtmd-cli subprocess, a warm llama-server, remote endpoints); the prompt,
 * the token limit, the retry and the parsing are here, once, so every runner decodes alike.
 */
import { readSeconds, type Audio } from '../../audio/audio.js';
import type { Window } from '../../windows/window.js';
import type { WindowResult } from '../../transcript/window-result.js';
import type { Language } from './languages.js';
import type { RepetitionControl } from './sampler.js';
import { buildPrompt } from './prompt.js';
import { parseOutput } from './parse-output.js';
import { contextSizeFor, maxTokensFor } from './budget.js';
import { fixedTokens, type FixedTokenBudget } from './token-budget-override.js';
import type { Decoded, StopReason } from '../../transcript/decode.js';

/** A stretch of the input to decode; `name` keeps temporary files of concurrent calls apart. */
export interface DecodeSpan {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

export interface DecodeOptions {
  readonly context: string | null;
  readonly language: Language | null;
  /** Repetition control for a retry of a looping window; absent for a plain decode. */
  readonly sampler?: RepetitionControl;
}

export type SpanDecoder = (span: DecodeSpan, options: DecodeOptions) => Promise<Decoded>;

/** Transcribes one window; rejects with WindowFailedError once the retry failed too. */
export type WindowTranscriber = (window: Window) => Promise<WindowResult>;

/** What one model request needs: the audio, the exact prompt, and the limits. */
export interface ModelRequest {
  readonly name: string;
  /** 16 kHz mono samples of the span. */
  readonly samples: Float32Array;
  /** The complete prompt with one media marker (`<__media__>`), used verbatim... */
  readonly prompt: string;
  /** ...rendered from these, which chat-style endpoints take instead. */
  readonly context: string | null;
  readonly language: Language | null;
  readonly maxTokens: number;
  /** Context one request needs (prompt + audio + answer), for runners that size it per call. */
  readonly contextSize: number;
  readonly sampler?: RepetitionControl;
  /** Benchmarks: generate exactly maxTokens tokens. */
  readonly ignoreEos: boolean;
}

/** The model's raw answer to one request. */
export interface ModelReply {
  readonly text: string;
  readonly stop: StopReason;
  readonly tokens: number;
}

export type ModelCall = (request: ModelRequest) => Promise<ModelReply>;

/** A model request that failed in a way worth trying again (a crash, a timeout, a lost server). */
export class ModelCallError extends Error {
  constructor(
    message: string,
    /** The last lines the model process printed, when there is one. */
    readonly detail: string = '',
  ) {
    super(message);
    this.name = 'ModelCallError';
  }
}

/** A model call that failed on every attempt. */
export class DecodeFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeFailedError';
  }
}

export class WindowFailedError extends Error {
  constructor(
    readonly window: Window,
    message: string,
    readonly ms: number,
  ) {
    super(message);
    this.name = 'WindowFailedError';
  }
}

/** A failed call is tried once more: crashes of a loaded machine are often transient. */
const ATTEMPTS = 2;

/** The request for a span: the official prompt, the token limit for its length (or the benchmark's). */
export function modelRequest(audio: Audio, span: DecodeSpan, options: DecodeOptions, budget: FixedTokenBudget | null): ModelRequest {
  const samples = readSeconds(audio, span.start, span.end);
  const seconds = samples.length / audio.sampleRate;
  const maxTokens = budget ? fixedTokens(budget, seconds) : maxTokensFor(seconds);
  return {
    name: span.name,
    samples,
    prompt: buildPrompt(options.context, options.language),
    context: options.context,
    language: options.language,
    maxTokens,
    contextSize: contextSizeFor(samples.length, options.context, maxTokens),
    sampler: options.sampler,
    ignoreEos: budget !== null,
  };
}

/** Decodes spans of `audio` through `call`, trying a failed call once more. */
export function spanDecoder(call: ModelCall, audio: Audio, budget: FixedTokenBudget | null = null): SpanDecoder {
  return async (span, options) => {
    const request = modelRequest(audio, span, options, budget);
    let lastError: ModelCallError | null = null;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const r = await call(request);
        const parsed = parseOutput(r.text, options.language);
        return { language: parsed.language, text: parsed.text, stop: r.stop, tokens: r.tokens };
      } catch (err) {
        if (!(err instanceof ModelCallError)) throw err;
        lastError = err;
      }
    }
    const detail = lastError!.detail.split('\n').pop() ?? '';
    throw new DecodeFailedError(`${lastError!.message}${detail ? `: ${detail}` : ''}`);
  };
}
