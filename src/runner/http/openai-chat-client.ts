/**
 * One window through an OpenAI-compatible chat-completions endpoint (vLLM serving the official
 * Qwen3-ASR, or any server that takes `input_audio`): the server's chat template renders the
 * official prompt from a system turn (the context) and a user turn holding only the audio. A
 * forced language is an assistant turn to continue (`continue_final_message`, vLLM's way to
 * prefill), so the answer is the transcript alone, as with the raw prompt.
 */
import { floatWavBytes } from '../request/window-wav.js';
import { ASR_TEXT_TAG } from '../request/prompt.js';
import { EndpointError, requestJson } from './http-json.js';
import type { ModelCall, ModelRequest } from '../request/decoder.js';

interface ChatResponse {
  readonly choices?: ReadonlyArray<{ readonly message?: { readonly content?: unknown }; readonly finish_reason?: unknown }>;
  readonly usage?: { readonly completion_tokens?: unknown };
}

export function chatBody(model: string, request: ModelRequest): Record<string, unknown> {
  const parts = request;
  const messages: unknown[] = [
    { role: 'system', content: parts.context ?? '' },
    { role: 'user', content: [{ type: 'input_audio', input_audio: { data: floatWavBytes(request.samples).toString('base64'), format: 'wav' } }] },
  ];
  const prefill = parts.language ? [{ role: 'assistant', content: `language ${parts.language}${ASR_TEXT_TAG}` }] : [];
  const s = request.sampler;
  return {
    model,
    messages: [...messages, ...prefill],
    ...(prefill.length ? { continue_final_message: true, add_generation_prompt: false } : {}),
    max_tokens: request.maxTokens,
    temperature: 0,
    seed: 0,
    ...(request.ignoreEos ? { ignore_eos: true } : {}),
    // vLLM calls it repetition_penalty; llama.cpp's server reads repeat_penalty and DRY.
    ...(s ? { repetition_penalty: s.repeatPenalty, repeat_penalty: s.repeatPenalty, repeat_last_n: s.repeatLastN, dry_multiplier: s.dryMultiplier } : {}),
  };
}

export function openAiChatCall(endpoint: string, model: string, timeoutMs: number): ModelCall {
  return async (request) => {
    const r = (await requestJson(endpoint, '/v1/chat/completions', chatBody(model, request), timeoutMs)) as ChatResponse;
    const choice = r.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== 'string') throw new EndpointError(endpoint, 'rejected', 'the answer holds no message content');
    const tokens = typeof r.usage?.completion_tokens === 'number' ? r.usage.completion_tokens : 0;
    return { text: content, stop: choice?.finish_reason === 'length' ? 'limit' : 'eos', tokens };
  };
}
