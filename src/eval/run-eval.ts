/**
 * `qwen3asr eval`: transcribes every utterance of a set with one transcriber (the runner stays
 * warm across files) and scores it. Per-utterance results stream to a JSONL file as they come,
 * so an interrupted evaluation keeps what it measured.
 */
import fs from 'node:fs';
import { withDecodedInput } from '../audio/decode.js';
import { lazyTranscriber, type ModelRunOptions } from '../pipeline/transcriber.js';
import { joinTexts } from '../text/scripts.js';
import type { Log } from '../util/log.js';
import { normaliseWords } from './normalise.js';
import { sumEdits, wordEdits, wordErrorRate, type WordEdits } from './wer.js';
import type { Utterance } from './dataset.js';

export interface UtteranceResult extends WordEdits {
  readonly id: string;
  readonly audio: string;
  readonly reference: string;
  readonly hypothesis: string;
  readonly wer: number;
  readonly seconds: number;
  /** Wall time from decoded audio to transcript. */
  readonly latencyMs: number;
  readonly rtf: number;
}

export interface EvalSummary extends WordEdits {
  readonly utterances: number;
  /** Corpus WER: all errors over all reference words. */
  readonly wer: number;
  readonly meanLatencyMs: number;
  /** Total transcription time over total audio time. */
  readonly rtf: number;
  readonly audioSeconds: number;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export function scoreUtterance(u: Utterance, hypothesis: string, seconds: number, latencyMs: number): UtteranceResult {
  const edits = wordEdits(normaliseWords(u.reference), normaliseWords(hypothesis));
  return {
    id: u.id, audio: u.audio, reference: u.reference, hypothesis, ...edits,
    wer: round(wordErrorRate(edits)), seconds: round(seconds, 3), latencyMs, rtf: round(latencyMs / 1000 / seconds),
  };
}

export function summarise(results: readonly UtteranceResult[]): EvalSummary {
  const edits = sumEdits(results);
  const audioSeconds = results.reduce((s, r) => s + r.seconds, 0);
  const latency = results.reduce((s, r) => s + r.latencyMs, 0);
  return {
    utterances: results.length,
    ...edits,
    wer: round(wordErrorRate(edits)),
    meanLatencyMs: results.length ? Math.round(latency / results.length) : 0,
    rtf: audioSeconds > 0 ? round(latency / 1000 / audioSeconds) : 0,
    audioSeconds: round(audioSeconds, 3),
  };
}

export async function runEval(
  utterances: readonly Utterance[],
  options: ModelRunOptions & { readonly ffmpeg: string | null },
  resultsFile: string | null,
  log: Log,
): Promise<EvalSummary> {
  const transcriber = lazyTranscriber(options, log);
  const results: UtteranceResult[] = [];
  const out = resultsFile ? fs.openSync(resultsFile, 'w') : null;
  try {
    for (const [i, u] of utterances.entries()) {
      const { t, latencyMs } = await withDecodedInput(u.audio, options.ffmpeg, async (audio) => {
        const model = await transcriber.get();
        const started = Date.now();
        const t = await model.transcribe(audio, u.audio);
        return { t, latencyMs: Date.now() - started };
      });
      const hypothesis = t.windows.map((w) => w.text).filter(Boolean).reduce(joinTexts, '');
      const r = scoreUtterance(u, hypothesis, t.durationSeconds, latencyMs);
      results.push(r);
      if (out !== null) fs.writeSync(out, `${JSON.stringify(r)}\n`);
      log.info(`[${i + 1}/${utterances.length}] ${u.id}: WER ${(r.wer * 100).toFixed(1)}% (${r.substitutions}S ${r.deletions}D ${r.insertions}I / ${r.words}), ${latencyMs} ms`);
    }
  } finally {
    if (out !== null) fs.closeSync(out);
    await transcriber.close();
  }
  return summarise(results);
}
