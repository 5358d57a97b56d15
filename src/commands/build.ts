import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { BACKENDS, ensureBuild, type BackendChoice } from '../llamacpp/index.js';
import { interruptSignal } from '../util/cleanup.js';
import { loggingOptions } from './options.js';

export function buildCommand(): Command {
  const cmd = new Command('build')
    .description('build the patched llama.cpp (done automatically on first use; this does it ahead of time)')
    .addOption(new Option('--backend <name>', 'what to build for: auto picks Metal on Apple Silicon, CUDA when nvcc and a GPU are there, Vulkan when its SDK and a GPU are, else the CPU').choices([...BACKENDS]).env('QWEN3ASR_BACKEND').default('auto'))
    .addOption(new Option('--rebuild', 'build again even when a build for the same inputs is cached'))
    .addOption(new Option('--print-path', 'print only the folder of the binaries (for scripts)'))
    .addOption(new Option('--llama-cpp-source <path>', 'llama.cpp v0.5.0 source (checkout, git bundle or tarball) instead of fetching it').env('QWEN3ASR_LLAMA_CPP_SOURCE'));
  for (const o of loggingOptions()) cmd.addOption(o);
  cmd.addHelpText(
    'after',
    `
The binaries go to the cache (QWEN3ASR_HOME, else ~/.cache/qwen3asr): builds/<key>/bin/.
Set QWEN3ASR_BIN_DIR to a folder with llama-mtmd-cli, llama-server and llama-quantize to use
those instead of building. QWEN3ASR_BUILD_JOBS sets the compile jobs (default: all cores).`,
  );
  cmd.action(async (opts: Record<string, unknown>) => {
    if (opts.quiet && opts.verbose) throw new UsageError('--quiet and --verbose contradict each other', 'keep one');
    const printPath = Boolean(opts.printPath);
    const result = await ensureBuild({
      backend: opts.backend as BackendChoice,
      source: (opts.llamaCppSource as string | undefined) ?? null,
      rebuild: Boolean(opts.rebuild),
      log: opts.quiet || printPath ? 'quiet' : opts.verbose ? 'verbose' : 'normal',
      signal: interruptSignal,
    });
    if (printPath) {
      process.stdout.write(`${result.binDir}\n`);
      return;
    }
    if (!opts.quiet) {
      const how = result.key === 'prebuilt' ? 'prebuilt (QWEN3ASR_BIN_DIR)' : result.built ? `built (${result.backend})` : `already built (${result.backend})`;
      process.stdout.write(`${how}: ${result.binDir}\n`);
      if (opts.verbose && result.version) process.stdout.write(`${result.version}\n`);
    }
  });
  return cmd;
}
