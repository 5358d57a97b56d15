import fs from 'node:fs';
import path from 'node:path';
import type { Audio } from '../audio/audio.js';
import type { Window } from '../windows/window.js';
import type { WindowResult } from './window-result.js';
import { buildPrompt } from './prompt.js';
import { parseOutput } from './parse-output.js';
import { contextSizeFor, maxTokensFor } from './budget.js';
import { MtmdRunError, runMtmdCli, type MtmdSetup } from './mtmd-cli.js';
import { writeFloatWav } from './window-wav.js';
import type { Language } from './languages.js';

export interface RecognitionSettings {
  /** Names and jargon for the system turn. */
  readonly context: string | null;
  /** Forced language, or null to let the model say. */
  readonly language: Language | null;
}

/** Transcribes one window; rejects with WindowFailedError once the retry failed too. */
export type WindowTranscriber = (window: Window) => Promise<WindowResult>;

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

/** A stretch of the input to decode; `name` keeps the temporary WAVs of concurrent calls apart. */
export interface DecodeSpan {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

export interface DecodeOptions {
  readonly context: string | null;
  readonly language: Language | null;
  /** Extra llama.cpp sampler options (repetition control). */
  readonly samplerArgs?: readonly string[];
}

/** One decode's answer. */
export interface DecodeAnswer {
  readonly language: string | null;
  readonly text: string;
  readonly stop: 'eos' | 'limit';
  readonly tokens: number;
}

/** A model call that failed twice. */
export class DecodeFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeFailedError';
  }
}

export type SpanDecoder = (span: DecodeSpan, options: DecodeOptions) => Promise<DecodeAnswer>;

/**
 * One llama-mtmd-cli call (with one retry on a crash) on a stretch of the audio: a temporary
 * 16 kHz WAV and the official prompt, at temperature 0.
 */
export function subprocessDecoder(setup: MtmdSetup, audio: Audio): SpanDecoder {
  return async (span, options) => {
    const from = Math.max(0, Math.floor(span.start * audio.sampleRate));
    const to = Math.min(audio.samples.length, Math.ceil(span.end * audio.sampleRate));
    const samples = audio.samples.subarray(from, to);
    const wavPath = path.join(setup.tempDir, `window-${span.name}.wav`);
    writeFloatWav(wavPath, samples);
    const maxTokens = maxTokensFor(samples.length / audio.sampleRate);
    const job = {
      wavPath,
      prompt: buildPrompt(options.context, options.language),
      maxTokens,
      contextSize: contextSizeFor(samples.length, options.context, maxTokens),
      samplerArgs: options.samplerArgs,
    };
    let lastError: MtmdRunError | null = null;
    try {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          const r = await runMtmdCli(setup, job);
          const parsed = parseOutput(r.text, options.language);
          return { language: parsed.language, text: parsed.text, stop: r.stop === 'limit' ? 'limit' : 'eos', tokens: r.n_tokens };
        } catch (err) {
          if (!(err instanceof MtmdRunError)) throw err;
          lastError = err;
        }
      }
    } finally {
      fs.rmSync(wavPath, { force: true });
    }
    const detail = lastError!.stderrTail.split('\n').pop() ?? '';
    throw new DecodeFailedError(`${lastError!.message}${detail ? `: ${detail}` : ''}`);
  };
}

/** The plain per-window runner: one decode of each window with the settings, no guards. */
export function subprocessWindowTranscriber(setup: MtmdSetup, audio: Audio, settings: RecognitionSettings): WindowTranscriber {
  const decode = subprocessDecoder(setup, audio);
  return async (window) => {
    const started = Date.now();
    try {
      const a = await decode({ start: window.start, end: window.end, name: String(window.index) }, settings);
      return { window, ...a, ms: Date.now() - started };
    } catch (err) {
      if (err instanceof DecodeFailedError) throw new WindowFailedError(window, err.message, Date.now() - started);
      throw err;
    }
  };
}
