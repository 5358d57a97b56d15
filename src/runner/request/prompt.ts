import type { Language } from './languages.js';

/** Where mtmd puts the audio; it wraps the embeddings in <|audio_start|> … <|audio_end|> itself. */
export const MEDIA_MARKER = '<__media__>';
export const ASR_TEXT_TAG = '<asr_text>';

/**
 * The official Qwen3-ASR prompt (the checkpoint's chat template, as `transcribe()` renders it):
 * a system turn holding the optional context, a user turn holding only the audio, and the
 * assistant turn opened — prefilled with `language X<asr_text>` when the language is forced.
 */
export function buildPrompt(context: string | null, language: Language | null): string {
  const system = context ?? '';
  const prefill = language ? `language ${language}${ASR_TEXT_TAG}` : '';
  return (
    `<|im_start|>system\n${system}<|im_end|>\n` +
    `<|im_start|>user\n${MEDIA_MARKER}<|im_end|>\n` +
    `<|im_start|>assistant\n${prefill}`
  );
}
