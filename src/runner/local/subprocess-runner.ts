import fs from 'node:fs';
import path from 'node:path';
import { runMtmdCli, type MtmdSetup } from './mtmd-cli.js';
import { writeFloatWav } from '../request/window-wav.js';
import { samplerCliArgs } from '../request/sampler.js';
import type { ModelCall } from '../request/decoder.js';

/**
 * The per-window runner: one llama-mtmd-cli process per request, on a temporary 16 kHz WAV.
 * Nothing stays loaded between windows, so nothing can leak or wedge; each call pays the load.
 */
export function subprocessCall(setup: MtmdSetup): ModelCall {
  return async (request) => {
    const wavPath = path.join(setup.tempDir, `window-${request.name}.wav`);
    writeFloatWav(wavPath, request.samples);
    try {
      const r = await runMtmdCli(setup, {
        wavPath,
        prompt: request.prompt,
        maxTokens: request.maxTokens,
        contextSize: request.contextSize,
        samplerArgs: [...samplerCliArgs(request.sampler), ...(request.ignoreEos ? ['--ignore-eos'] : [])],
      });
      return { text: r.text, stop: r.stop === 'limit' ? 'limit' : 'eos', tokens: r.n_tokens };
    } finally {
      fs.rmSync(wavPath, { force: true });
    }
  };
}
