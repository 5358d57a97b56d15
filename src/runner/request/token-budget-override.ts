/**
 * Benchmark hook: QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 makes every decode generate exactly
 * ceil(3.5 × window seconds) tokens (the end-of-answer token is ignored), on every runner. A
 * random-weights model then does the model work real speech would, whatever it happens to say.
 */
export interface FixedTokenBudget {
  readonly tokensPerSecond: number;
}

export function fixedTokenBudgetFromEnv(env: NodeJS.ProcessEnv = process.env): FixedTokenBudget | null {
  const raw = env.QWEN3ASR_FIXED_TOKENS_PER_SECOND;
  if (!raw) return null;
  const rate = Number(raw);
  if (!(rate > 0)) throw new Error(`QWEN3ASR_FIXED_TOKENS_PER_SECOND must be a positive number, not '${raw}'`);
  return { tokensPerSecond: rate };
}

export function fixedTokens(budget: FixedTokenBudget, seconds: number): number {
  return Math.max(1, Math.ceil(budget.tokensPerSecond * seconds));
}
