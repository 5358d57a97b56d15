/**
 * vitest globalSetup: builds (or finds in the cache) the patched llama.cpp once per test run and
 * hands its bin folder to the tests: `inject('binDir')`. CPU backend, source from the npm registry
 * unless QWEN3ASR_LLAMA_CPP_SOURCE is set; QWEN3ASR_BIN_DIR skips the build. The normal cache is
 * used on purpose, so a second run on the same machine (or CI with a kept ~/.cache) reuses it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureBuild } from '../src/llamacpp/index.js';
import { cachedSourceDir } from '../src/llamacpp/source.js';
import { cacheHome } from '../src/util/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    binDir: string;
    mtmdCli: string;
    server: string;
    quantize: string;
    buildKey: string;
    /** The verified llama.cpp source in the cache ('' when there is none, e.g. QWEN3ASR_BIN_DIR skipped the build). */
    llamaSource: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  process.stderr.write('[global-setup] making sure the patched llama.cpp is built (first run: several minutes)\n');
  const build = await ensureBuild({
    backend: 'cpu',
    source: process.env.QWEN3ASR_LLAMA_CPP_SOURCE || null,
    log: 'normal',
  });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[global-setup] llama.cpp ${build.built ? 'built' : 'found'} in ${secs}s: ${build.binDir}\n`);
  project.provide('binDir', build.binDir);
  project.provide('mtmdCli', build.mtmdCli);
  project.provide('server', build.server);
  project.provide('quantize', build.quantize);
  project.provide('buildKey', build.key);
  const src = cachedSourceDir(cacheHome());
  project.provide('llamaSource', fs.existsSync(path.join(src, '.git')) ? src : '');
}
