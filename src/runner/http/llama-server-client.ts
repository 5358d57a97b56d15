/**
 * One window through llama-server's raw `/completion` endpoint (v0.5.0 tools/server): the prompt
 * is the exact prompt the subprocess runner gives llama-mtmd-cli (no chat template), with the
 * WAV as `multimodal_data`, at temperature 0 — so both runners make the same decode.
 */
import { floatWavBytes } from '../request/window-wav.js';
import { MEDIA_MARKER } from '../request/prompt.js';
import { samplerRequestFields } from '../request/sampler.js';
import { EndpointError, requestJson } from './http-json.js';
import type { ModelCall, ModelRequest } from '../request/decoder.js';

interface CompletionResponse {
  readonly content?: unknown;
  readonly stop_type?: unknown;
  readonly tokens_predicted?: unknown;
}

export function completionBody(request: ModelRequest, mediaMarker: string): Record<string, unknown> {
  return {
    prompt: {
      prompt_string: request.prompt.replace(MEDIA_MARKER, mediaMarker),
      multimodal_data: [floatWavBytes(request.samples).toString('base64')],
    },
    n_predict: request.maxTokens,
    temperature: 0,
    seed: 0,
    // The slot keeps the previous window's KV cache: the prompt's text before the audio (the
    // system turn, `<|im_start|>user`, 16 tokens) is the same for every window and is not computed
    // again (bench/RESULTS.md, issue 19: text prefill −47 %). It was computed alone in one batch, as
    // the subprocess runner computes it, so the result is the same bits (test/runners-e2e.test.ts).
    cache_prompt: true,
    ...(request.ignoreEos ? { ignore_eos: true } : {}),
    ...samplerRequestFields(request.sampler),
  };
}

export function llamaServerCall(endpoint: string, mediaMarker: string, timeoutMs: number): ModelCall {
  return async (request) => {
    const r = (await requestJson(endpoint, '/completion', completionBody(request, mediaMarker), timeoutMs)) as CompletionResponse;
    if (typeof r.content !== 'string') throw new EndpointError(endpoint, 'rejected', 'the answer holds no content');
    const stop = r.stop_type === 'limit' ? 'limit' : 'eos';
    const predicted = typeof r.tokens_predicted === 'number' ? r.tokens_predicted : 0;
    // The server counts the end-of-generation token; llama-mtmd-cli's result (and ours) does not.
    const tokens = r.stop_type === 'eos' ? Math.max(0, predicted - 1) : predicted;
    return { text: r.content, stop, tokens };
  };
}
