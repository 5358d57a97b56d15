/**
 * Where the project's own llama.cpp build keeps a tool. STUB: the build module wires this to its
 * install folder; until then nothing is found and callers fall back to environment variables.
 */
export function findBuiltBinary(name: 'llama-quantize'): string | undefined {
  void name;
  return undefined;
}

/** llama-quantize for `convert --quantize`: the project's build, else $QWEN3ASR_LLAMA_QUANTIZE. */
export function findLlamaQuantize(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findBuiltBinary('llama-quantize') ?? (env.QWEN3ASR_LLAMA_QUANTIZE || undefined);
}
