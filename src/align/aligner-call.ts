/**
 * One alignment request to our patched llama-server (started with `--embeddings --pooling none`
 * on an aligner GGUF): the window's WAV and the timestamp prompt in, and back one row of class
 * scores for each `<timestamp>` of the prompt (`output_token` keeps the other positions out of
 * the answer), of which we keep the best class.
 */
import { floatWavBytes } from '../runner/request/window-wav.js';
import { EndpointError, requestJson } from '../runner/http/http-json.js';

/** The class of each `<timestamp>` of the prompt, in order. */
export type AlignerCall = (samples: Float32Array, prompt: string) => Promise<number[]>;

export function alignerCall(endpoint: string, timestampToken: number, timeoutMs: number): AlignerCall {
  return async (samples, prompt) => {
    const body = {
      content: { prompt_string: prompt, multimodal_data: [floatWavBytes(samples).toString('base64')] },
      output_token: timestampToken,
    };
    const answer = await requestJson(endpoint, '/embeddings', body, timeoutMs);
    const first = Array.isArray(answer) ? answer[0] : answer;
    const rows = (first as { embedding?: unknown } | undefined)?.embedding;
    if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r))) {
      throw new EndpointError(endpoint, 'rejected', 'the aligner answered without per-token rows (is it our patched llama-server with --pooling none?)');
    }
    return rows.map((r: number[]) => argmax(r));
  };
}

/** Index of the largest value; the first of equal ones, as torch's argmax on CPU. */
export function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
