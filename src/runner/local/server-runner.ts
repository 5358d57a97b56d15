/**
 * The warm runner: one llama-server for the whole run, loaded once, with `slots` windows decoded
 * at once in one batch (continuous batching shares each weight read between the slots). Each
 * window is the same raw-prompt request the subprocess runner makes, at temperature 0.
 */
import { contextSizeFor, maxTokensFor } from '../request/budget.js';
import { llamaServerCall } from '../http/llama-server-client.js';
import { MEDIA_MARKER } from '../request/prompt.js';
import { startServer } from './server-process.js';
import { fixedTokens, type FixedTokenBudget } from '../request/token-budget-override.js';
import type { Runner } from '../runner.js';
import { SAMPLE_RATE } from '../../audio/audio.js';

export interface ServerRunnerSetup {
  readonly server: string;
  readonly model: string;
  readonly mmproj: string;
  readonly threads: number;
  readonly slots: number;
  /** Longest window: each slot's context holds its prompt, audio and answer. */
  readonly windowSeconds: number;
  readonly context: string | null;
  readonly budget: FixedTokenBudget | null;
  readonly timeoutMs: number;
  readonly extraArgs: readonly string[];
}

export function slotContextFor(setup: Pick<ServerRunnerSetup, 'windowSeconds' | 'context' | 'budget'>): number {
  const maxTokens = Math.max(maxTokensFor(setup.windowSeconds), setup.budget ? fixedTokens(setup.budget, setup.windowSeconds) : 0);
  return contextSizeFor(Math.ceil(setup.windowSeconds * SAMPLE_RATE), setup.context, maxTokens);
}

export async function serverRunner(setup: ServerRunnerSetup): Promise<Runner> {
  const server = await startServer({
    server: setup.server,
    model: setup.model,
    mmproj: setup.mmproj,
    threads: setup.threads,
    slots: setup.slots,
    slotContext: slotContextFor(setup),
    extraArgs: setup.extraArgs,
  });
  return {
    kind: 'server',
    call: llamaServerCall(server.url, MEDIA_MARKER, setup.timeoutMs),
    concurrency: setup.slots,
    close: () => server.stop(),
  };
}
