/**
 * Options for every start of a build's binaries (llama-server, llama-mtmd-cli). On a CPU build,
 * `-fit off`: fitting sizes GPU offload and context to the devices' free memory, and to do so
 * reads the model's metadata and vocabulary a second time before the real load (~0.3 s per start
 * on 2 cores, bench/RESULTS.md); with no GPU backend compiled in there is nothing to fit. On GPU
 * builds fitting stays on: it is what keeps a model too big for the VRAM from failing to load.
 */
import type { BuildResult } from './index.js';

export function loadArgs(build: Pick<BuildResult, 'cpuOnly'>): string[] {
  return build.cpuOnly ? ['-fit', 'off'] : [];
}
