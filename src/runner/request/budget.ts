/**
 * Token arithmetic for one window. The encoder turns every 100 mel frames (1 s) into 13 audio
 * tokens and a partial chunk of r frames into ceil(r/8) (the official output-length formula).
 */
export function audioTokens(samples: number): number {
  const frames = Math.floor(samples / 160);
  const full = Math.floor(frames / 100);
  const rest = frames % 100;
  return 13 * full + Math.ceil(rest / 8);
}

/**
 * Speech runs at most ~4 tokens/s in English and ~6 in CJK (a token per character): 10 per
 * second plus room for the `language X<asr_text>` prefix never cuts real speech, while a
 * repetition loop still ends within seconds.
 */
export function maxTokensFor(seconds: number): number {
  return 24 + Math.ceil(10 * seconds);
}

/** Chat scaffolding of the official prompt, in tokens (15 for an empty context). */
const PROMPT_OVERHEAD_TOKENS = 24;

/**
 * The context to allocate: prompt + audio + answer, rounded up. Sizing it to the window matters:
 * llama.cpp's default is the training length (65,536), whose KV cache takes seconds to allocate.
 */
export function contextSizeFor(samples: number, contextText: string | null, maxTokens: number): number {
  // Byte-level BPE never needs more tokens than UTF-8 bytes.
  const contextTokens = contextText ? Buffer.byteLength(contextText, 'utf8') : 0;
  const need = PROMPT_OVERHEAD_TOKENS + contextTokens + audioTokens(samples) + maxTokens;
  return Math.ceil(need / 256) * 256;
}
