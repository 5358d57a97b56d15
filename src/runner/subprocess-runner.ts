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

/**
 * The per-window subprocess runner: each window becomes a temporary 16 kHz WAV and one
 * llama-mtmd-cli call with the official prompt, at temperature 0.
 */
export function subprocessWindowTranscriber(setup: MtmdSetup, audio: Audio, settings: RecognitionSettings): WindowTranscriber {
  const prompt = buildPrompt(settings.context, settings.language);
  return async (window) => {
    const from = Math.max(0, Math.floor(window.start * audio.sampleRate));
    const to = Math.min(audio.samples.length, Math.ceil(window.end * audio.sampleRate));
    const samples = audio.samples.subarray(from, to);
    const wavPath = path.join(setup.tempDir, `window-${window.index}.wav`);
    writeFloatWav(wavPath, samples);
    const maxTokens = maxTokensFor(samples.length / audio.sampleRate);
    const job = { wavPath, prompt, maxTokens, contextSize: contextSizeFor(samples.length, settings.context, maxTokens) };
    const started = Date.now();
    let lastError: MtmdRunError | null = null;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const r = await runMtmdCli(setup, job);
        const parsed = parseOutput(r.text, settings.language);
        return {
          window,
          language: parsed.language,
          text: parsed.text,
          ms: Date.now() - started,
          stop: r.stop === 'limit' ? 'limit' : 'eos',
          tokens: r.n_tokens,
        };
      } catch (err) {
        if (!(err instanceof MtmdRunError)) throw err;
        lastError = err;
      }
    }
    const detail = lastError!.stderrTail.split('\n').pop() ?? '';
    throw new WindowFailedError(window, `${lastError!.message}${detail ? `: ${detail}` : ''}`, Date.now() - started);
  };
}
