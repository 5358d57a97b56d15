import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import { trackTempPath } from '../util/cleanup.js';
import { withLock, describeHolder } from '../util/lock.js';
import { findOnPath, runGrouped, tryOutput } from './exec.js';
import { parseBuildProgress, type Progress } from './progress.js';

/**
 * A generic "configure, compile, check, move into place" of a CMake project, under a lock, in a
 * temp folder of the cache. It knows nothing of llama.cpp: `ensureBuild` (index.ts) gives it the
 * source, options and targets; tests give it a tiny CMake project.
 *
 * Layout under `<cacheRoot>/builds/`:
 *   <key>/bin/<targets>   a complete build (the folder appears by rename, only when complete)
 *   <key>/build.json      what was built, from what, and the version the binary printed
 *   <key>.lock            held while building that key
 *   .tmp/<key>/           the build in progress (src/, build/, out/); removed on success,
 *                         failure and Ctrl-C; a leftover (power cut, kill -9) is removed by the
 *                         next build of that key
 *   logs/<key>-<time>.log the full output of every build
 */
export interface CMakeBuildSpec {
  cacheRoot: string;
  key: string;
  /** Role → target (executable) name. The first one is run with --version as the check. */
  targets: Record<string, string>;
  /** -D options (and anything else) for the configure step. */
  cmakeArgs: string[];
  /** Fills the (empty) source folder: copy, patch. */
  prepare: (srcDir: string, signal?: AbortSignal) => Promise<void>;
  /** Written into build.json. */
  meta?: Record<string, unknown>;
  rebuild?: boolean;
  jobs?: number;
  progress: Progress;
  signal?: AbortSignal;
  /** Label in messages ("llama.cpp"). */
  label?: string;
  /** Extra environment for cmake. */
  env?: NodeJS.ProcessEnv;
}

export interface CompleteBuild {
  key: string;
  dir: string;
  binDir: string;
  bins: Record<string, string>;
  meta: BuildMeta;
}

export interface BuildMeta {
  key: string;
  builtAt: string;
  seconds: number;
  version: string;
  targets: Record<string, string>;
  [k: string]: unknown;
}

export function buildsRoot(cacheRoot: string): string {
  return path.join(cacheRoot, 'builds');
}

export function exeName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

/** The record a build folder of the cache keeps (build.json), or null where there is none to read. */
export function readBuildMeta(dir: string): BuildMeta | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'build.json'), 'utf8')) as BuildMeta;
  } catch {
    return null;
  }
}

/** The complete build for `key`, or null: build.json present and every binary there. */
export function readCompleteBuild(cacheRoot: string, key: string): CompleteBuild | null {
  const dir = path.join(buildsRoot(cacheRoot), key);
  const meta = readBuildMeta(dir);
  if (meta === null) return null;
  const binDir = path.join(dir, 'bin');
  const bins: Record<string, string> = {};
  for (const [role, name] of Object.entries(meta.targets ?? {})) {
    const p = path.join(binDir, exeName(name));
    if (!fs.existsSync(p)) return null;
    bins[role] = p;
  }
  return { key, dir, binDir, bins, meta };
}

/** Every complete build in the cache. */
export function listBuilds(cacheRoot: string): CompleteBuild[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(buildsRoot(cacheRoot));
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.') && n !== 'logs' && !n.endsWith('.lock'))
    .map((n) => readCompleteBuild(cacheRoot, n))
    .filter((b): b is CompleteBuild => b !== null);
}

export class BuildStepError extends UserError {
  constructor(
    message: string,
    readonly step: 'configure' | 'compile' | 'check',
    readonly logPath: string,
    readonly tail: string,
    hint: string,
  ) {
    super(message, { hint });
    this.name = 'BuildStepError';
  }
}

export function cmakeInstallHint(): string {
  if (process.platform === 'darwin') return 'install it with `brew install cmake` (or from cmake.org)';
  if (process.platform === 'win32') return 'install it with `winget install Kitware.CMake` and open a new terminal';
  return 'install it with your package manager (`sudo apt-get install cmake`, `sudo dnf install cmake`), or `pip install cmake` for a newer one';
}

export function compilerInstallHint(): string {
  if (process.platform === 'darwin') return 'install the Xcode command line tools: `xcode-select --install`';
  if (process.platform === 'win32') return 'install Visual Studio Build Tools with "Desktop development with C++" and build from a Developer prompt';
  return 'install a C++ compiler: `sudo apt-get install g++` (Debian/Ubuntu), `sudo dnf install gcc-c++` (Fedora)';
}

/** The fix for the usual causes of a failed configure or compile, from the output. */
export function diagnose(output: string): string {
  if (/No CMAKE_(CXX|C)_COMPILER could be found|CMAKE_(CXX|C)_COMPILER not set|is not a full path and was not found in the PATH|is not a full path to an existing compiler tool/.test(output)) {
    return `no C/C++ compiler was found: ${compilerInstallHint()}`;
  }
  const old = /CMake ([\d.]+) or higher is required/.exec(output);
  if (old) return `cmake is too old (${old[1]} or newer is needed): ${cmakeInstallHint()}`;
  if (/CUDA Toolkit not found|Failed to find nvcc|No CMAKE_CUDA_COMPILER|CUDA_ARCHITECTURES/.test(output)) {
    return 'the CUDA toolkit could not be used; build for the CPU with --backend cpu, or fix the CUDA install (nvcc, CUDA_PATH)';
  }
  if (/Could NOT find Vulkan|glslc/.test(output)) return 'the Vulkan SDK is incomplete (headers, loader, glslc); use --backend cpu or install the Vulkan SDK';
  if (/Could NOT find OpenMP/.test(output)) return 'OpenMP is missing (on macOS: `brew install libomp`; elsewhere install your compiler\'s OpenMP package)';
  if (/No space left on device/.test(output)) return 'the disk is full; free space in the cache folder and try again';
  if (/internal compiler error|Killed signal terminated program|virtual memory exhausted|out of memory/i.test(output)) {
    return 'the compiler ran out of memory; try again with fewer jobs (QWEN3ASR_BUILD_JOBS=1)';
  }
  return 'see the log; run `qwen3asr doctor` to check cmake and the compiler, and `qwen3asr build --rebuild -v` to try again';
}

function tailLines(text: string, n: number): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.slice(-n).join('\n');
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Builds `spec.key` unless complete already; returns the complete build. */
export async function buildWithCMake(spec: CMakeBuildSpec): Promise<CompleteBuild> {
  const existing = readCompleteBuild(spec.cacheRoot, spec.key);
  if (existing && !spec.rebuild) return existing;
  const cmake = findOnPath('cmake');
  if (!cmake) throw new UserError(`cmake is needed to build ${spec.label ?? 'the binaries'} on first use, but it is not on PATH`, { hint: cmakeInstallHint() });
  const root = buildsRoot(spec.cacheRoot);
  fs.mkdirSync(root, { recursive: true });
  let waited = false;
  return withLock(
    path.join(root, `${spec.key}.lock`),
    {
      purpose: `building ${spec.label ?? spec.key}`,
      signal: spec.signal,
      onWait: (h) => {
        waited = true;
        spec.progress.info(`waiting for ${describeHolder(h)}, which is building ${spec.label ?? 'the same binaries'}…`);
      },
      onStale: (h) => spec.progress.verbose(`took over a stale build lock of process ${h.pid}`),
    },
    async () => {
      // Someone else may have finished it while we waited (a --rebuild that waited counts as done).
      const done = readCompleteBuild(spec.cacheRoot, spec.key);
      if (done && (!spec.rebuild || waited)) return done;
      return runBuild(spec, cmake);
    },
  );
}

/** Configure, compile, check, move into place: each step throws a BuildStepError where it fails. */
async function runBuild(spec: CMakeBuildSpec, cmake: string): Promise<CompleteBuild> {
  const ws = openWorkspace(spec);
  const started = Date.now();
  try {
    ws.log(`# qwen3asr build ${spec.key} at ${new Date().toISOString()} (pid ${process.pid})`);
    spec.progress.stage(`preparing ${spec.label ?? 'source'}`);
    await spec.prepare(ws.srcDir, spec.signal);
    const tools = findTools(spec, ws);
    await configure(spec, cmake, ws, tools);
    const jobs = await compile(spec, cmake, ws, tools);
    const version = await collectBinaries(spec, ws);
    const meta: BuildMeta = {
      key: spec.key,
      builtAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      version,
      targets: spec.targets,
      cmakeArgs: spec.cmakeArgs,
      ccache: Boolean(tools.ccache),
      jobs,
      log: ws.logPath,
      ...spec.meta,
    };
    return install(spec, ws, meta);
  } catch (err) {
    spec.progress.stop();
    ws.log(`# failed: ${(err as Error)?.message ?? err}`);
    throw err;
  } finally {
    closeWorkspace(ws);
  }
}

/** One build in progress: its temp folders and its log. */
interface Workspace {
  readonly root: string;
  readonly tmp: string;
  readonly srcDir: string;
  readonly buildDir: string;
  readonly outDir: string;
  readonly logPath: string;
  readonly logFd: number;
  readonly log: (line: string) => void;
  readonly untrack: () => void;
}

/** What cmake runs with: its environment, and ccache as the compiler launcher when it is there. */
interface Tools {
  readonly ccache: string | null;
  readonly env: NodeJS.ProcessEnv;
  readonly launcher: readonly string[];
}

function openWorkspace(spec: CMakeBuildSpec): Workspace {
  const root = buildsRoot(spec.cacheRoot);
  const tmp = path.join(root, '.tmp', spec.key);
  // We hold the key's lock: anything here is a leftover of a killed build.
  fs.rmSync(tmp, { recursive: true, force: true });
  const srcDir = path.join(tmp, 'src');
  fs.mkdirSync(srcDir, { recursive: true });
  const untrack = trackTempPath(tmp);
  const logDir = path.join(root, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const logPath = path.join(logDir, `${spec.key}-${timestamp()}.log`);
  const logFd = fs.openSync(logPath, 'a');
  const log = (line: string) => void fs.writeSync(logFd, `${line}\n`);
  return { root, tmp, srcDir, buildDir: path.join(tmp, 'build'), outDir: path.join(tmp, 'out'), logPath, logFd, log, untrack };
}

function closeWorkspace(ws: Workspace): void {
  fs.closeSync(ws.logFd);
  fs.rmSync(ws.tmp, { recursive: true, force: true });
  ws.untrack();
}

function findTools(spec: CMakeBuildSpec, ws: Workspace): Tools {
  const ccache = findOnPath('ccache');
  // Never let the project's git lookups (build info) find a repository above the build folder.
  const env: NodeJS.ProcessEnv = { GIT_CEILING_DIRECTORIES: ws.tmp, ...spec.env };
  if (!ccache) return { ccache, env, launcher: [] };
  // Relative paths under the build folder: a rebuild (same folder or another) hits the cache.
  env.CCACHE_BASEDIR = ws.tmp;
  env.CCACHE_NOHASHDIR = '1';
  return { ccache, env, launcher: [`-DCMAKE_C_COMPILER_LAUNCHER=${ccache}`, `-DCMAKE_CXX_COMPILER_LAUNCHER=${ccache}`, `-DCMAKE_CUDA_COMPILER_LAUNCHER=${ccache}`] };
}
async function configure(spec: CMakeBuildSpec, cmake: string, ws: Workspace, tools: Tools): Promise<void> {
  const generator = process.platform !== 'win32' && findOnPath('ninja') ? ['-G', 'Ninja'] : [];
  const args = ['-S', ws.srcDir, '-B', ws.buildDir, ...generator, ...spec.cmakeArgs, ...tools.launcher];
  ws.log(`$ cmake ${args.join(' ')}`);
  spec.progress.verbose(`cmake ${args.join(' ')}`);
  spec.progress.stage(`configuring ${spec.label ?? ''}`.trim());
  const conf = await runGrouped(cmake, args, { env: tools.env, signal: spec.signal, logFd: ws.logFd });
  if (conf.exitCode === 0) return;
  // cmake points at its own logs inside the temp folder, which goes: keep them in ours.
  for (const f of ['CMakeError.log', 'CMakeOutput.log', 'CMakeConfigureLog.yaml']) {
    const p = path.join(ws.buildDir, 'CMakeFiles', f);
    if (fs.existsSync(p)) ws.log(`\n# ---- ${f} ----\n${fs.readFileSync(p, 'utf8')}`);
  }
  throw stepFailed(`configuring ${spec.label ?? 'the build'} failed (cmake exit ${conf.exitCode})`, 'configure', ws, conf.output);
}

/** Compiles the targets; returns the number of jobs it ran with. */
async function compile(spec: CMakeBuildSpec, cmake: string, ws: Workspace, tools: Tools): Promise<number> {
  const jobs = spec.jobs ?? jobsFromEnv() ?? os.availableParallelism();
  const args = ['--build', ws.buildDir, '--config', 'Release', '-j', String(jobs), '--target', ...Object.values(spec.targets)];
  ws.log(`$ cmake ${args.join(' ')}`);
  spec.progress.verbose(`cmake ${args.join(' ')}${tools.ccache ? ' (with ccache)' : ''}`);
  spec.progress.stage(`compiling ${spec.label ?? ''}`.trim());
  const comp = await runGrouped(cmake, args, { env: tools.env, signal: spec.signal, logFd: ws.logFd, onLine: compileProgress(spec) });
  if (comp.exitCode !== 0) throw stepFailed(`compiling ${spec.label ?? 'the build'} failed (exit ${comp.exitCode})`, 'compile', ws, comp.output);
  return jobs;
}

/** The compiler's progress lines as progress, with a "linking" stage once the end is near. */
function compileProgress(spec: CMakeBuildSpec): (line: string) => void {
  let linking = false;
  return (line) => {
    const p = parseBuildProgress(line);
    if (!p) return;
    if (p.linking && !linking && p.fraction > 0.9) {
      linking = true;
      spec.progress.stage(`linking ${spec.label ?? ''}`.trim());
    }
    spec.progress.detail(p.text, p.fraction);
  };
}

/** Copies the targets into out/bin and runs the first with --version; returns the version line it printed. */
async function collectBinaries(spec: CMakeBuildSpec, ws: Workspace): Promise<string> {
  spec.progress.stage('checking the binaries');
  const targets = Object.values(spec.targets);
  const binOut = path.join(ws.outDir, 'bin');
  fs.mkdirSync(binOut, { recursive: true });
  for (const name of targets) {
    const found = [path.join(ws.buildDir, 'bin', exeName(name)), path.join(ws.buildDir, 'bin', 'Release', exeName(name)), path.join(ws.buildDir, exeName(name))].find((p) => fs.existsSync(p));
    if (!found) throw stepFailed(`the build finished but ${exeName(name)} is missing`, 'check', ws, '');
    fs.copyFileSync(found, path.join(binOut, exeName(name)));
    fs.chmodSync(path.join(binOut, exeName(name)), 0o755);
  }
  const first = path.join(binOut, exeName(targets[0]));
  const ver = await runGrouped(first, ['--version'], { signal: spec.signal });
  ws.log(`$ ${first} --version\n${ver.output}`);
  if (ver.exitCode !== 0) throw stepFailed(`the new ${exeName(targets[0])} does not run (--version exit ${ver.exitCode})`, 'check', ws, ver.output);
  return versionLine(ver.output);
}

/** Writes build.json and moves the build into place, atomically: the key's folder exists only complete. */
function install(spec: CMakeBuildSpec, ws: Workspace, meta: BuildMeta): CompleteBuild {
  fs.writeFileSync(path.join(ws.outDir, 'build.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const final = path.join(ws.root, spec.key);
  if (fs.existsSync(final)) {
    const old = path.join(ws.root, '.tmp', `${spec.key}.old-${randomBytes(4).toString('hex')}`);
    fs.renameSync(final, old);
    fs.rmSync(old, { recursive: true, force: true });
  }
  if (spec.signal?.aborted) throw spec.signal.reason;
  fs.renameSync(ws.outDir, final);
  ws.log(`# done in ${meta.seconds}s`);
  spec.progress.stop();
  const complete = readCompleteBuild(spec.cacheRoot, spec.key);
  if (!complete) throw new Error(`build ${spec.key} vanished after it was moved into place`);
  return complete;
}

/** A failed step, with the log, the output's last lines and the likely fix. */
function stepFailed(message: string, step: BuildStepError['step'], ws: Workspace, output: string): BuildStepError {
  return new BuildStepError(message, step, ws.logPath, tailLines(output, 30), diagnose(output));
}

function jobsFromEnv(): number | undefined {
  const n = Number(process.env.QWEN3ASR_BUILD_JOBS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** "version: 1 (abc123)" → kept as printed, first non-empty line. */
export function versionLine(output: string): string {
  const line = output.split(/\r?\n/).find((l) => /version/i.test(l)) ?? output.split(/\r?\n/).find((l) => l.trim()) ?? '';
  return line.trim();
}

/** `cmake --version` → "3.25.1", or null when absent. */
export async function cmakeVersion(): Promise<string | null> {
  const out = await tryOutput('cmake', ['--version']);
  return out?.match(/cmake version (\d+\.\d+(?:\.\d+)?)/)?.[1] ?? null;
}

export function versionAtLeast(actual: string, min: string): boolean {
  const a = actual.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
