import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { cacheHome } from '../util/paths.js';
import { git, tryOutput } from './exec.js';
import { LLAMA_CPP, TARGETS } from './pinned.js';
import { BACKENDS, COMMON_CMAKE_OPTIONS, backendCmakeOptions, detectBackends, pickAuto, type Backend, type BackendChoice } from './backend.js';
import { BuildStepError, buildWithCMake, exeName, readBuildMeta, readCompleteBuild, type CompleteBuild } from './cmake.js';
import { applyVendor, readVendor, type Vendor } from './patch.js';
import { createProgress, formatElapsed, type LogLevel, type Progress } from './progress.js';
import { ensureSource } from './source.js';

export { BACKENDS, type Backend, type BackendChoice } from './backend.js';
export type { LogLevel } from './progress.js';

export interface BuildResult {
  binDir: string;
  mtmdCli: string;
  server: string;
  quantize: string;
  /** The cache key, or 'prebuilt' for QWEN3ASR_BIN_DIR. */
  key: string;
  backend: Backend | 'prebuilt';
  /** Built for the CPU alone (no GPU backend compiled in): see load-args.ts. */
  cpuOnly: boolean;
  /** What `llama-mtmd-cli --version` printed when it was built. */
  version?: string;
  /** True when this call built it (false: found in the cache). */
  built: boolean;
}

export interface EnsureBuildOptions {
  backend?: BackendChoice;
  /** --llama-cpp-source / QWEN3ASR_LLAMA_CPP_SOURCE: only read when a build is needed. */
  source?: string | null;
  rebuild?: boolean;
  log?: LogLevel;
  signal?: AbortSignal;
  /** Defaults to cacheHome(). */
  cacheRoot?: string;
  /** Defaults to the package's vendor/ files. */
  vendor?: Vendor;
  /** Where progress goes (tests, or a caller with its own spinner). */
  progress?: Progress;
  env?: NodeJS.ProcessEnv;
}

/** Everything that determines the binaries; hashed into the cache key. */
export interface KeyInputs {
  format: 1;
  tree: string;
  patchSha256: string;
  encoderSha256: string;
  backend: Backend;
  cmakeOptions: string[];
  compiler: string;
  platform: string;
  arch: string;
  /** GGML_NATIVE builds for this CPU (-march=native): another CPU model gets its own build. */
  cpu: string;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export function cacheKey(inputs: KeyInputs): string {
  return `${inputs.backend}-${sha256(JSON.stringify(inputs)).slice(0, 16)}`;
}

let compilerIdCache: string | null = null;
/** First line of `$CXX --version` (c++, else g++ / clang++): part of the key. */
export async function compilerIdentity(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (compilerIdCache !== null && !env.CXX) return compilerIdCache;
  const candidates = env.CXX ? [env.CXX] : process.platform === 'win32' ? ['cl', 'clang++', 'g++'] : ['c++', 'g++', 'clang++'];
  for (const c of candidates) {
    const out = await tryOutput(c, c === 'cl' ? [] : ['--version'], { all: true });
    if (out) {
      const id = `${c}: ${out.split(/\r?\n/)[0].trim()}`;
      if (!env.CXX) compilerIdCache = id;
      return id;
    }
  }
  return 'none';
}

export function cmakeOptionsFor(backend: Backend): string[] {
  return [...COMMON_CMAKE_OPTIONS, ...backendCmakeOptions(backend)];
}

export async function keyInputsFor(backend: Backend, vendor: Vendor, env: NodeJS.ProcessEnv = process.env): Promise<KeyInputs> {
  return {
    format: 1,
    tree: LLAMA_CPP.tree,
    patchSha256: sha256(vendor.patch),
    encoderSha256: sha256(vendor.encoder),
    backend,
    cmakeOptions: cmakeOptionsFor(backend),
    compiler: await compilerIdentity(env),
    platform: process.platform,
    arch: process.arch,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
  };
}

function toResult(b: CompleteBuild, backend: Backend, built: boolean): BuildResult {
  return {
    binDir: b.binDir,
    mtmdCli: b.bins.mtmdCli,
    server: b.bins.server,
    quantize: b.bins.quantize,
    key: b.key,
    backend,
    cpuOnly: backend === 'cpu',
    version: b.meta.version,
    built,
  };
}

/**
 * QWEN3ASR_BIN_DIR: prebuilt binaries (packagers, tests, a llama.cpp you built yourself with our
 * patch). Used as is: no build, no cache, no version check.
 */
export function prebuiltFromEnv(env: NodeJS.ProcessEnv = process.env): BuildResult | null {
  const dir = env.QWEN3ASR_BIN_DIR;
  if (!dir) return null;
  const binDir = path.resolve(dir);
  const bins: Record<string, string> = {};
  for (const [role, name] of Object.entries(TARGETS)) {
    const p = path.join(binDir, exeName(name));
    if (!fs.existsSync(p)) {
      throw new UserError(`QWEN3ASR_BIN_DIR is ${binDir}, but ${exeName(name)} is not there`, {
        hint: `put ${Object.values(TARGETS).map(exeName).join(', ')} there, or unset QWEN3ASR_BIN_DIR to build them`,
      });
    }
    bins[role] = p;
  }
  // A folder of our cache keeps its record beside bin/; binaries from elsewhere have none: nothing is assumed.
  const cpuOnly = readBuildMeta(path.dirname(binDir))?.backend === 'cpu';
  return { binDir, mtmdCli: bins.mtmdCli, server: bins.server, quantize: bins.quantize, key: 'prebuilt', backend: 'prebuilt', cpuOnly, built: false };
}

export async function resolveBackend(choice: BackendChoice, env: NodeJS.ProcessEnv = process.env): Promise<Backend> {
  if (!(BACKENDS as readonly string[]).includes(choice)) throw new UserError(`unknown backend '${choice}'`, { hint: `use one of ${BACKENDS.join(', ')}` });
  if (choice !== 'auto') return choice;
  return pickAuto(await detectBackends(env));
}

/**
 * The built binaries, building them on first use: the pinned llama.cpp with our patch and
 * encoder, for the chosen backend, into `<cache>/builds/<key>/bin/`. Under `auto`, a GPU backend
 * that fails to configure falls back to the CPU (and says so).
 */
export async function ensureBuild(opts: EnsureBuildOptions = {}): Promise<BuildResult> {
  const env = opts.env ?? process.env;
  const prebuilt = prebuiltFromEnv(env);
  if (prebuilt && !opts.rebuild) return prebuilt;
  const cacheRoot = opts.cacheRoot ?? cacheHome(env);
  const vendor = opts.vendor ?? readVendor();
  const progress = opts.progress ?? createProgress(opts.log ?? 'normal');
  const choice = opts.backend ?? 'auto';
  const backend = await resolveBackend(choice, env);
  try {
    return await ensureBuildFor(backend, { ...opts, cacheRoot, vendor, progress, env });
  } catch (err) {
    if (choice === 'auto' && backend !== 'cpu' && err instanceof BuildStepError && err.step === 'configure') {
      progress.warn(`the ${backend} build failed to configure (${err.hint}); building for the CPU instead — log: ${err.logPath}`);
      return ensureBuildFor('cpu', { ...opts, cacheRoot, vendor, progress, env });
    }
    throw decorate(err);
  }
}

/** A failed step: its last lines go to stderr, then one error line with the log path and the fix. */
function decorate(err: unknown): unknown {
  if (!(err instanceof BuildStepError)) return err;
  if (err.tail) process.stderr.write(`${err.tail.split('\n').map((l) => `  | ${l}`).join('\n')}\n`);
  return new BuildStepError(`${err.message}; full log: ${err.logPath}`, err.step, err.logPath, err.tail, err.hint ?? '');
}

async function ensureBuildFor(
  backend: Backend,
  opts: EnsureBuildOptions & { cacheRoot: string; vendor: Vendor; progress: Progress; env: NodeJS.ProcessEnv },
): Promise<BuildResult> {
  const inputs = await keyInputsFor(backend, opts.vendor, opts.env);
  const key = cacheKey(inputs);
  const existing = readCompleteBuild(opts.cacheRoot, key);
  if (existing && !opts.rebuild) return toResult(existing, backend, false);
  const { progress } = opts;
  const started = Date.now();
  progress.info(
    existing
      ? `rebuilding llama.cpp ${LLAMA_CPP.tag} with the Qwen3-ASR patch for ${backend.toUpperCase()}`
      : `building llama.cpp ${LLAMA_CPP.tag} with the Qwen3-ASR patch for ${backend.toUpperCase()} (first run only; several minutes)`,
  );
  const build = await buildWithCMake({
    cacheRoot: opts.cacheRoot,
    key,
    targets: { ...TARGETS },
    // --version then names the base tree and our patch (the build folder has no .git to ask).
    cmakeArgs: [...cmakeOptionsFor(backend), `-DLLAMA_BUILD_COMMIT=${LLAMA_CPP.tree.slice(0, 8)}+qwen3asr.${inputs.patchSha256.slice(0, 8)}`],
    label: 'llama.cpp',
    rebuild: opts.rebuild,
    progress,
    signal: opts.signal,
    meta: { backend, inputs, source: opts.source ?? null },
    prepare: async (srcDir, signal) => {
      const source = await ensureSource({ cacheRoot: opts.cacheRoot, source: opts.source, signal, progress });
      progress.stage('copying llama.cpp source');
      // Exactly the verified tree, without its .git: checkout-index into the build folder.
      await git(['checkout-index', '-a', '-f', `--prefix=${srcDir}${path.sep}`], { cwd: source, signal });
      progress.stage('patching llama.cpp');
      const applied = await applyVendor(srcDir, opts.vendor, signal);
      if (!applied.patched) progress.verbose('vendor/llama.cpp.patch is empty or missing: building llama.cpp unpatched');
      if (!applied.encoder) progress.verbose('vendor/qwen3asr-enc.cpp is missing: not copied');
    },
  });
  const secs = Math.round((Date.now() - started) / 1000);
  progress.info(`built llama.cpp in ${formatElapsed(secs)}: ${build.binDir}`);
  return toResult(build, backend, true);
}

/**
 * The build `ensureBuild` would use, without building: QWEN3ASR_BIN_DIR, else the cached build
 * for the backend (auto: as detected now). Null when there is none yet.
 */
export async function findBuild(opts: { backend?: BackendChoice; cacheRoot?: string; vendor?: Vendor; env?: NodeJS.ProcessEnv } = {}): Promise<BuildResult | null> {
  const env = opts.env ?? process.env;
  const prebuilt = prebuiltFromEnv(env);
  if (prebuilt) return prebuilt;
  const cacheRoot = opts.cacheRoot ?? cacheHome(env);
  const backend = await resolveBackend(opts.backend ?? 'auto', env);
  const inputs = await keyInputsFor(backend, opts.vendor ?? readVendor(), env);
  const b = readCompleteBuild(cacheRoot, cacheKey(inputs));
  if (b) return toResult(b, backend, false);
  if ((opts.backend ?? 'auto') === 'auto' && backend !== 'cpu') {
    const cpu = readCompleteBuild(cacheRoot, cacheKey(await keyInputsFor('cpu', opts.vendor ?? readVendor(), env)));
    if (cpu) return toResult(cpu, 'cpu', false);
  }
  return null;
}

export { listBuilds, buildsRoot, readCompleteBuild } from './cmake.js';
export { cachedSourceDir } from './source.js';
