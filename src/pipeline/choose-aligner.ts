/**
 * Whether a run times its cues by aligned words, and starting the aligner if so:
 *  - `off`: never;
 *  - `auto` (the default): with `--aligner`, or when the `aligner` model is in the cache
 *    (`qwen3asr models pull aligner`); else the cues keep their timing by characters, silently;
 *  - `on`: always; the `aligner` model is fetched when it is not in the cache.
 * The aligner runs here even when the windows go to --endpoint servers: it is another model.
 */
import os from 'node:os';
import type { Log } from '../util/log.js';
import { resolveModel, resolvesLocally } from '../models/resolve.js';
import { readCached } from '../models/cache.js';
import { ensureBuild, type BuildResult } from '../llamacpp/index.js';
import { loadArgs } from '../llamacpp/load-args.js';
import { interruptSignal } from '../util/cleanup.js';
import { startAligner, type Aligner } from '../align/aligner.js';
import { windowTimeoutMs } from './choose-runner.js';

export const ALIGN_MODES = ['auto', 'on', 'off'] as const;
export type AlignMode = (typeof ALIGN_MODES)[number];

/** The catalog / cache name of the forced aligner. */
export const ALIGNER_ALIAS = 'aligner';

export interface AlignOptions {
  readonly mode: AlignMode;
  /** --aligner: a name, a text GGUF path (its mmproj beside it) or a checkpoint folder. */
  readonly aligner: string | null;
}

export const NO_ALIGNMENT: AlignOptions = { mode: 'off', aligner: null };

interface AlignerRunOptions {
  readonly align: AlignOptions;
  readonly threads: number | null;
  readonly backend: 'auto' | 'cpu' | 'cuda' | 'metal' | 'vulkan';
  readonly llamaCppSource: string | null;
}

/** Off, or auto with no aligner given and none in the cache: the run has no aligner to start. */
function noAligner({ mode, aligner }: AlignOptions): boolean {
  return mode === 'off' || (mode === 'auto' && aligner === null && readCached(ALIGNER_ALIAS) === null);
}

/** Whether startAlignerFor would fetch or convert nothing: no aligner, or one whose files are here. */
export function alignerIsHere(align: AlignOptions): boolean {
  return noAligner(align) || resolvesLocally(align.aligner ?? ALIGNER_ALIAS);
}

/**
 * The aligner to use, or null (off, or auto with none at hand). `build`: the transcriber's (null
 * with endpoints: then the build is looked up here).
 */
export async function startAlignerFor(options: AlignerRunOptions, windowSeconds: number, build: BuildResult | null, log: Log): Promise<Aligner | null> {
  const { mode, aligner } = options.align;
  if (mode === 'off') return null;
  if (noAligner(options.align)) {
    log.debug('no aligner in the cache: cues are timed by characters (`qwen3asr models pull aligner` times them by words)');
    return null;
  }
  const files = await resolveModel(aligner ?? ALIGNER_ALIAS, null, log);
  const built = build ?? (await ensureBuild({ backend: options.backend, source: options.llamaCppSource, log: log.level, signal: interruptSignal }));
  log.debug(`aligner: ${files.text} + ${files.mmproj}`);
  return startAligner({
    server: built.server,
    loadArgs: loadArgs(built),
    files,
    threads: options.threads ?? Math.max(1, os.availableParallelism()),
    windowSeconds,
    timeoutMs: windowTimeoutMs(windowSeconds),
    log,
  });
}
