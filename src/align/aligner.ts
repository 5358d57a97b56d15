/**
 * The forced aligner of a run: one warm llama-server on the aligner GGUF pair (loaded once,
 * like the transcriber's), and `align(result, samples)` for each transcribed window. Languages
 * the aligner was not trained on keep the proportional timing of src/cues/, said once per run.
 */
import { startServer } from '../runner/local/server-process.js';
import { audioTokens, maxTokensFor } from '../runner/request/budget.js';
import { SAMPLE_RATE } from '../audio/audio.js';
import { UserError } from '../errors.js';
import type { ModelPair } from '../models/validate.js';
import type { Log } from '../util/log.js';
import type { WindowResult } from '../transcript/window-result.js';
import type { Word } from '../transcript/word.js';
import { alignerCall } from './aligner-call.js';
import { alignWindow } from './align-window.js';

/** Qwen3-ForcedAligner-0.6B's languages (its config.json `support_languages`). */
export const ALIGNER_LANGUAGES: ReadonlySet<string> = new Set([
  'Chinese', 'Cantonese', 'English', 'German', 'Spanish', 'French', 'Italian', 'Portuguese', 'Russian', 'Korean', 'Japanese',
]);

export interface AlignerSetup {
  readonly server: string;
  /** The build's load options (load-args.ts). */
  readonly loadArgs: readonly string[];
  /** The aligner's pair, as resolveModel validated it. */
  readonly files: ModelPair;
  readonly threads: number;
  /** Longest window, seconds: one request must fit one batch. */
  readonly windowSeconds: number;
  readonly timeoutMs: number;
  readonly log: Log;
}

export interface Aligner {
  /** The window's words with times; null where its language is not the aligner's. */
  align(result: WindowResult, samples: Float32Array): Promise<Word[] | null>;
  close(): Promise<void>;
}

/** The aligner's timestamps, or one line saying the pair is no aligner. */
function alignerMetaOf(pair: ModelPair) {
  if (pair.aligner === null) {
    throw new UserError(`${pair.text} is not a forced aligner (no qwen3asr.aligner.* keys)`, {
      hint: 'convert Qwen3-ForcedAligner-0.6B with `qwen3asr convert`, or get it with `qwen3asr models pull aligner`',
    });
  }
  return pair.aligner;
}

/**
 * Tokens one request can take: the audio, and at most three per transcript token (the word and
 * its two timestamps), the transcript being at most what the decoder may write for the window.
 * llama-server evaluates an embeddings request in one batch, so the batch is this big too.
 */
export function alignerContext(windowSeconds: number): number {
  const need = 2 + audioTokens(Math.ceil(windowSeconds * SAMPLE_RATE)) + 3 * maxTokensFor(windowSeconds);
  return Math.ceil(need / 256) * 256;
}

export async function startAligner(setup: AlignerSetup): Promise<Aligner> {
  const meta = alignerMetaOf(setup.files);
  const context = alignerContext(setup.windowSeconds);
  const server = await startServer({
    server: setup.server,
    model: setup.files.text,
    mmproj: setup.files.mmproj,
    threads: setup.threads,
    slots: 1,
    slotContext: context,
    extraArgs: [...setup.loadArgs, '--embeddings', '--pooling', 'none', '-b', String(context), '-ub', String(context)],
  });
  const call = alignerCall(server.url, meta.timestampToken, setup.timeoutMs);
  const unsupported = new Set<string>();
  return {
    async align(result, samples) {
      if (result.language !== null && !ALIGNER_LANGUAGES.has(result.language)) {
        if (!unsupported.has(result.language)) {
          unsupported.add(result.language);
          setup.log.info(`the aligner does not know ${result.language}: its cues keep the timing by characters`);
        }
        return null;
      }
      return alignWindow(result, samples, call, meta.segmentMs);
    },
    close: () => server.stop(),
  };
}
