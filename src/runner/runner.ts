import type { ModelCall } from './request/decoder.js';

/**
 * What runs the model for a whole run: the call one window goes through, how many windows to keep
 * in flight, and what to shut down at the end. Made once per run and shared by every input.
 */
export interface Runner {
  readonly kind: 'subprocess' | 'server' | 'endpoints';
  readonly call: ModelCall;
  /** Windows to decode at once. */
  readonly concurrency: number;
  close(): Promise<void>;
}

export type RunnerKind = 'subprocess' | 'server';
export const RUNNER_KINDS: readonly RunnerKind[] = ['subprocess', 'server'];
