import type { Format } from '../writers/index.js';
import { UserError } from '../errors.js';

export type Output = { readonly kind: 'stdout' } | { readonly kind: 'files'; readonly dir: string | null };

export interface TranscribeOptions {
  readonly inputs: readonly string[];
  readonly formats: readonly Format[];
  readonly output: Output;
  readonly language: string | null;
  readonly context: string | null;
  readonly model: string;
  readonly mmproj: string | null;
  readonly threads: number | null;
  readonly jobs: number | null;
  readonly windowSeconds: number | null;
  readonly force: boolean;
  readonly json: boolean;
  readonly ffmpeg: string | null;
  readonly backend: 'auto' | 'cpu' | 'cuda' | 'metal' | 'vulkan';
  readonly llamaCppSource: string | null;
  readonly log: 'quiet' | 'normal' | 'verbose';
}

/** Transcribes every input in turn; resolves to the process exit code. */
export async function transcribeFiles(options: TranscribeOptions): Promise<number> {
  void options;
  throw new UserError('transcription is not available yet');
}
