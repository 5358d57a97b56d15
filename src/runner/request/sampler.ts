/**
 * Sampler settings beyond temperature 0, as data: each runner turns them into its own form
 * (command-line options for llama-mtmd-cli, request fields for llama-server or an OpenAI-style
 * endpoint), so a retry with repetition control means the same thing on every runner.
 */
export interface RepetitionControl {
  /** Penalty on tokens seen in the last `repeatLastN` (llama.cpp --repeat-penalty). */
  readonly repeatPenalty: number;
  readonly repeatLastN: number;
  /** DRY: penalises continuing a token sequence that already occurred (llama.cpp --dry-multiplier). */
  readonly dryMultiplier: number;
}

export function samplerCliArgs(s: RepetitionControl | undefined): string[] {
  if (!s) return [];
  return ['--repeat-penalty', String(s.repeatPenalty), '--repeat-last-n', String(s.repeatLastN), '--dry-multiplier', String(s.dryMultiplier)];
}

/** The same settings as llama-server's /completion fields (tools/server/server-task.cpp, params_from_json). */
export function samplerRequestFields(s: RepetitionControl | undefined): Record<string, number> {
  if (!s) return {};
  return { repeat_penalty: s.repeatPenalty, repeat_last_n: s.repeatLastN, dry_multiplier: s.dryMultiplier };
}
