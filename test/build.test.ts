import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { acquireLock, isStale, readLock, type LockInfo } from '../src/util/lock.js';
import { buildWithCMake, readCompleteBuild, BuildStepError, type CMakeBuildSpec } from '../src/llamacpp/cmake.js';
import { cacheKey, keyInputsFor, prebuiltFromEnv } from '../src/llamacpp/index.js';
import { applyVendor, checkPatch, findHunk, parseApplyError, type Vendor } from '../src/llamacpp/patch.js';
import { importSource, SourceMismatchError, treeHashOfFolder } from '../src/llamacpp/source.js';
import { LLAMA_CPP } from '../src/llamacpp/pinned.js';
import { parseBuildProgress, type Progress } from '../src/llamacpp/progress.js';
import { loadArgs } from '../src/llamacpp/load-args.js';

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-buildtest-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A Progress that records stages and prints nothing. */
function recorder(onStage?: (s: string) => void): Progress & { stages: string[] } {
  const stages: string[] = [];
  return {
    stages,
    stage: (s) => {
      stages.push(s);
      onStage?.(s);
    },
    detail: () => {},
    info: () => {},
    warn: () => {},
    verbose: () => {},
    stop: () => {},
  };
}

const vendorOf = (patch: string, encoder = ''): Vendor => ({
  patchPath: patch ? '/x/llama.cpp.patch' : null,
  patch: Buffer.from(patch),
  encoderPath: encoder ? '/x/qwen3asr-enc.cpp' : null,
  encoder: Buffer.from(encoder),
});

describe('the real build (from global-setup)', () => {
  it('gives binaries that run', () => {
    const cli = inject('mtmdCli');
    expect(fs.existsSync(cli)).toBe(true);
    const r = spawnSync(cli, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/version/);
    for (const b of [inject('server'), inject('quantize')]) expect(fs.existsSync(b)).toBe(true);
  });

  it('is a CPU build, so its binaries load the model without fitting it to a device (-fit off)', () => {
    // QWEN3ASR_BIN_DIR into our cache: the build's record beside bin/ says what it was built for.
    const build = prebuiltFromEnv({ QWEN3ASR_BIN_DIR: path.dirname(inject('server')) })!;
    expect(build.cpuOnly).toBe(true);
    expect(loadArgs(build)).toEqual(['-fit', 'off']);
    // Binaries from elsewhere (no record): nothing is assumed, llama.cpp's default stays.
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-bins-'));
    for (const b of ['llama-mtmd-cli', 'llama-server', 'llama-quantize']) fs.copyFileSync(inject('server'), path.join(elsewhere, b));
    const theirs = prebuiltFromEnv({ QWEN3ASR_BIN_DIR: elsewhere })!;
    expect(theirs.cpuOnly).toBe(false);
    expect(loadArgs(theirs)).toEqual([]);
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });
});

describe('source verification', () => {
  const source = inject('llamaSource');
  const haveSource = source !== '' && fs.existsSync(path.join(source, '.git'));

  it.runIf(haveSource)('refuses a copy of the cached source with one file changed, accepts an exact copy', async () => {
    const copy = path.join(tmp, 'src-copy');
    execFileSync('git', ['checkout-index', '-a', '-f', `--prefix=${copy}/`], { cwd: source });
    // Build outputs in a used checkout are .gitignore'd, so they do not count.
    fs.mkdirSync(path.join(copy, 'build'), { recursive: true });
    fs.writeFileSync(path.join(copy, 'build', 'junk.o'), 'x');
    expect(await treeHashOfFolder(copy, path.join(tmp, 'hash.git'))).toBe(LLAMA_CPP.tree);
    fs.appendFileSync(path.join(copy, 'src', 'llama.cpp'), '\n// tampered\n');
    const progress = recorder();
    const err = await importSource(copy, path.join(tmp, 'imported'), tmp, { progress }).catch((e) => e);
    expect(err).toBeInstanceOf(SourceMismatchError);
    expect(String(err.message)).toMatch(/is not llama\.cpp v0\.5\.0: its git tree is [0-9a-f]{12}…, expected fd570ef54b10…/);
  });

  it.runIf(haveSource)('accepts a tarball of the pinned tree and imports it as a verified checkout', async () => {
    const tarball = path.join(tmp, 'llama.tar.gz');
    execFileSync('git', ['archive', '--format=tar.gz', '--prefix=llama.cpp-0.5.0/', '-o', tarball, 'HEAD'], { cwd: source });
    const work = fs.mkdtempSync(path.join(tmp, 'w-'));
    const repo = path.join(work, 'repo');
    await importSource(tarball, repo, work, { progress: recorder() });
    expect(execFileSync('git', ['rev-parse', 'HEAD^{tree}'], { cwd: repo, encoding: 'utf8' }).trim()).toBe(LLAMA_CPP.tree);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' })).toBe('');
  });

  it('refuses a tarball of something else', async () => {
    const dir = path.join(tmp, 'other');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'CMakeLists.txt'), 'project(x)\n');
    const tarball = path.join(tmp, 'other.tar.gz');
    execFileSync('tar', ['-czf', tarball, '-C', tmp, 'other']);
    const err = await importSource(tarball, path.join(tmp, 'imported2'), fs.mkdtempSync(path.join(tmp, 'w-')), { progress: recorder() }).catch((e) => e);
    expect(err).toBeInstanceOf(SourceMismatchError);
    expect(String(err.message)).toContain('the tarball');
  });
});

describe('patch checks', () => {
  const source = inject('llamaSource');
  const haveSource = source !== '' && fs.existsSync(path.join(source, '.git'));

  it.runIf(haveSource)('says which file and hunk of a patch does not apply', async () => {
    const file = 'tools/mtmd/mtmd.cpp';
    const lines = fs.readFileSync(path.join(source, file), 'utf8').split('\n');
    const hunk1 = ['@@ -1,3 +1,4 @@', ` ${lines[0]}`, '+// added by test', ` ${lines[1]}`, ` ${lines[2]}`];
    const hunk2 = ['@@ -100,3 +101,3 @@', ' this line is not there', '-nor this one', '+replacement', ' nor that'];
    const patch = [`diff --git a/${file} b/${file}`, `--- a/${file}`, `+++ b/${file}`, ...hunk1, ...hunk2, ''].join('\n');
    const patchPath = path.join(tmp, 'bad.patch');
    fs.writeFileSync(patchPath, patch);
    const err = await checkPatch(source, patchPath).catch((e) => e);
    expect(err?.message).toContain(`${file}, hunk 2 (at line 100): its context does not match`);
    // --check only: the cached source is untouched.
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: source, encoding: 'utf8' })).toBe('');
  });

  it('applies the patch and copies the encoder, also in a folder inside another git repository', async () => {
    // .cache/ is git-ignored in this repository: git must not take the repository for ours.
    fs.mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
    const inside = fs.mkdtempSync(path.join(repoRoot, '.cache', 'applytest-'));
    try {
      const dir = path.join(inside, 'src');
      fs.mkdirSync(path.join(dir, 'tools', 'mtmd', 'models'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'a.txt'), 'one\ntwo\nthree\n');
      const patch = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n';
      const vdir = path.join(inside, 'vendor');
      fs.mkdirSync(vdir);
      fs.writeFileSync(path.join(vdir, 'llama.cpp.patch'), patch);
      fs.writeFileSync(path.join(vdir, 'qwen3asr-enc.cpp'), '// encoder\n');
      const vendor: Vendor = {
        patchPath: path.join(vdir, 'llama.cpp.patch'),
        patch: Buffer.from(patch),
        encoderPath: path.join(vdir, 'qwen3asr-enc.cpp'),
        encoder: Buffer.from('// encoder\n'),
      };
      expect(await applyVendor(dir, vendor)).toEqual({ patched: true, encoder: true });
      expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('one\nTWO\nthree\n');
      expect(fs.existsSync(path.join(dir, 'tools', 'mtmd', 'models', 'qwen3asr-enc.cpp'))).toBe(true);
      // An empty patch and a missing encoder are skipped.
      expect(await applyVendor(dir, vendorOf(''))).toEqual({ patched: false, encoder: false });
    } finally {
      fs.rmSync(inside, { recursive: true, force: true });
    }
  });

  it('parses git apply errors', () => {
    const patch = 'diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,2 @@\n x\n@@ -40,3 +40,3 @@\n y\n';
    expect(parseApplyError('error: patch failed: a.c:40\nerror: a.c: patch does not apply\n', patch)).toMatchObject({ file: 'a.c', line: 40, hunk: 2 });
    expect(parseApplyError('error: b.c: No such file or directory\n', patch)).toMatchObject({ file: 'b.c', hunk: null });
    expect(findHunk(patch, 'a.c', 1)).toBe(1);
  });
});

describe('cache key', () => {
  it('changes with the patch, the encoder and the backend, and only with them', async () => {
    const a = cacheKey(await keyInputsFor('cpu', vendorOf('diff a')));
    expect(cacheKey(await keyInputsFor('cpu', vendorOf('diff a')))).toBe(a);
    expect(cacheKey(await keyInputsFor('cpu', vendorOf('diff b')))).not.toBe(a);
    expect(cacheKey(await keyInputsFor('cpu', vendorOf('diff a', 'enc')))).not.toBe(a);
    expect(cacheKey(await keyInputsFor('vulkan', vendorOf('diff a')))).not.toBe(a);
    expect(a).toMatch(/^cpu-[0-9a-f]{16}$/);
  });
});

describe('QWEN3ASR_BIN_DIR', () => {
  it('uses prebuilt binaries, and says which one is missing', () => {
    const dir = path.join(tmp, 'prebuilt');
    fs.mkdirSync(dir, { recursive: true });
    for (const n of ['llama-mtmd-cli', 'llama-server']) fs.writeFileSync(path.join(dir, n), '');
    expect(() => prebuiltFromEnv({ QWEN3ASR_BIN_DIR: dir })).toThrow(/llama-quantize is not there/);
    fs.writeFileSync(path.join(dir, 'llama-quantize'), '');
    expect(prebuiltFromEnv({ QWEN3ASR_BIN_DIR: dir })).toMatchObject({ binDir: dir, key: 'prebuilt', mtmdCli: path.join(dir, 'llama-mtmd-cli') });
    expect(prebuiltFromEnv({})).toBeNull();
  });
});

describe('progress parsing', () => {
  it('reads make and ninja markers', () => {
    expect(parseBuildProgress('[ 42%] Building CXX object x.o')).toMatchObject({ text: '[42%]', linking: false });
    expect(parseBuildProgress('[209/210] Linking CXX executable bin/llama-server')).toMatchObject({ text: '[209/210]', linking: true });
    expect(parseBuildProgress('-- Configuring done')).toBeNull();
  });
});

describe('lock', () => {
  const lockJs = path.join(repoRoot, 'dist', 'util', 'lock.js');
  beforeAll(() => {
    if (!fs.existsSync(lockJs)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot });
  });

  it('lets one of two processes hold it at a time', async () => {
    const lockPath = path.join(tmp, 'two.lock');
    const trace = path.join(tmp, 'trace.txt');
    const script = `
      import fs from 'node:fs';
      import { acquireLock } from ${JSON.stringify(lockJs)};
      for (let i = 0; i < 3; i++) {
        const lock = await acquireLock(${JSON.stringify(lockPath)}, { pollMs: 20 });
        fs.appendFileSync(${JSON.stringify(trace)}, 'in ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 150));
        fs.appendFileSync(${JSON.stringify(trace)}, 'out ' + process.pid + '\\n');
        lock.release();
        await new Promise((r) => setTimeout(r, 5));
      }`;
    const run = () =>
      new Promise<number>((resolve) => {
        const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
        c.on('exit', (code) => resolve(code ?? 1));
      });
    expect(await Promise.all([run(), run()])).toEqual([0, 0]);
    const events = fs.readFileSync(trace, 'utf8').trim().split('\n');
    expect(events).toHaveLength(12);
    for (let i = 0; i < events.length; i += 2) {
      const [kin, pin] = events[i].split(' ');
      const [kout, pout] = events[i + 1].split(' ');
      expect([kin, kout, pin]).toEqual(['in', 'out', pout]);
    }
    expect(new Set(events.map((e) => e.split(' ')[1])).size).toBe(2);
    expect(fs.existsSync(lockPath)).toBe(false);
  });

  it('takes over a stale lock of a dead process, waits for a live one', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const lockPath = path.join(tmp, 'stale.lock');
    const stale: LockInfo = { pid: deadPid, hostname: os.hostname(), startedAt: new Date().toISOString(), token: 'old' };
    fs.writeFileSync(lockPath, JSON.stringify(stale));
    expect(isStale(stale)).toBe(true);
    let tookOver: LockInfo | null = null;
    const lock = await acquireLock(lockPath, { onStale: (h) => (tookOver = h), timeoutMs: 5000 });
    expect(tookOver).toMatchObject({ pid: deadPid });
    expect(readLock(lockPath)).toMatchObject({ pid: process.pid });

    // Held by a live process (us): a second taker waits, and says so.
    let waited = false;
    const second = acquireLock(lockPath, { pollMs: 20, timeoutMs: 300, onWait: () => (waited = true) });
    await expect(second).rejects.toThrow(/timed out/);
    expect(waited).toBe(true);
    lock.release();
    expect(fs.existsSync(lockPath)).toBe(false);
  });
});

/** A tiny CMake project with targets named like the real ones; `slow` makes compiling take 60 s. */
function tinyProject(marker: string, opts: { slow?: boolean; broken?: boolean } = {}) {
  return async (dir: string) => {
    fs.writeFileSync(path.join(dir, 'main.c'), '#include <stdio.h>\n#include <string.h>\nint main(int c, char **v) { if (c > 1 && !strcmp(v[1], "--version")) { printf("version: tiny\\n"); return 0; } return 1; }\n');
    const slow = opts.slow
      ? `add_custom_command(OUTPUT \${CMAKE_BINARY_DIR}/slow.c COMMAND sh -c "echo started > \${CMAKE_BINARY_DIR}/started; sleep 60; : ${marker}; touch \${CMAKE_BINARY_DIR}/slow.c" VERBATIM)
add_executable(llama-quantize main.c \${CMAKE_BINARY_DIR}/slow.c)`
      : 'add_executable(llama-quantize main.c)';
    fs.writeFileSync(
      path.join(dir, 'CMakeLists.txt'),
      `cmake_minimum_required(VERSION 3.15)\nproject(tiny C)\n${opts.broken ? 'this_is_not_cmake(\n' : ''}add_executable(llama-mtmd-cli main.c)\nadd_executable(llama-server main.c)\n${slow}\n`,
    );
  };
}

describe.skipIf(process.platform === 'win32')('build with a tiny CMake project', () => {
  const cacheRoot = () => path.join(tmp, 'cache');
  const spec = (over: Partial<CMakeBuildSpec>): CMakeBuildSpec => ({
    cacheRoot: cacheRoot(),
    key: 'tiny-1',
    targets: { mtmdCli: 'llama-mtmd-cli', server: 'llama-server', quantize: 'llama-quantize' },
    cmakeArgs: ['-DCMAKE_BUILD_TYPE=Release'],
    prepare: tinyProject('x'),
    progress: recorder(),
    jobs: 2,
    ...over,
  });

  it('stops on Ctrl-C mid-compile: kills the compiler group, leaves nothing behind; the next run builds', async () => {
    const marker = `qwen3asr-test-${process.pid}-${Date.now()}`;
    const ac = new AbortController();
    const progress = recorder();
    const startedFile = () => path.join(cacheRoot(), 'builds', '.tmp', 'tiny-1', 'build', 'started');
    const poll = setInterval(() => {
      if (fs.existsSync(startedFile())) {
        clearInterval(poll);
        ac.abort(new Error('interrupted (test)'));
      }
    }, 50);
    const err = await buildWithCMake(spec({ prepare: tinyProject(marker, { slow: true }), signal: ac.signal, progress })).catch((e) => e);
    clearInterval(poll);
    expect(String(err?.message)).toMatch(/interrupted \(test\)/);
    expect(progress.stages.some((s) => s.startsWith('compiling'))).toBe(true);
    const builds = path.join(cacheRoot(), 'builds');
    expect(fs.existsSync(path.join(builds, 'tiny-1'))).toBe(false);
    expect(fs.existsSync(path.join(builds, '.tmp', 'tiny-1'))).toBe(false);
    expect(fs.existsSync(path.join(builds, 'tiny-1.lock'))).toBe(false);
    expect(readCompleteBuild(cacheRoot(), 'tiny-1')).toBeNull();
    // The sleeping custom command (a grandchild of cmake) is gone too.
    await new Promise((r) => setTimeout(r, 500));
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    expect(ps).not.toContain(marker);

    const ok = await buildWithCMake(spec({}));
    expect(ok.meta.version).toBe('version: tiny');
    expect(fs.existsSync(ok.bins.quantize)).toBe(true);
    expect(readCompleteBuild(cacheRoot(), 'tiny-1')?.binDir).toBe(path.join(builds, 'tiny-1', 'bin'));
    // Cached now: no rebuild, prepare is not called.
    let prepared = false;
    const again = await buildWithCMake(spec({ prepare: async () => void (prepared = true) }));
    expect(prepared).toBe(false);
    expect(again.binDir).toBe(ok.binDir);
  });

  it('fails a broken project with the log and the tail, and moves nothing into place', async () => {
    const err = await buildWithCMake(spec({ key: 'tiny-broken', prepare: tinyProject('y', { broken: true }) })).catch((e) => e);
    expect(err).toBeInstanceOf(BuildStepError);
    expect(err.step).toBe('configure');
    expect(fs.existsSync(err.logPath)).toBe(true);
    expect(err.tail).toMatch(/CMake Error|Parse error/);
    expect(readCompleteBuild(cacheRoot(), 'tiny-broken')).toBeNull();
    expect(fs.existsSync(path.join(cacheRoot(), 'builds', '.tmp', 'tiny-broken'))).toBe(false);
  });

  it('builds once when two builds of one key run at once', async () => {
    let prepares = 0;
    const prepare = async (dir: string) => {
      prepares++;
      await tinyProject('z')(dir);
    };
    const [a, b] = await Promise.all([buildWithCMake(spec({ key: 'tiny-2', prepare })), buildWithCMake(spec({ key: 'tiny-2', prepare }))]);
    expect(prepares).toBe(1);
    expect(a.binDir).toBe(b.binDir);
  });
});
