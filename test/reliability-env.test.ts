/**
 * Reliability matrix, models and environment, at the CLI: the line a user sees, the exit code,
 * and what is left on disk. The validation itself is tested in test/models.test.ts ("validation
 * before any run"); Ctrl-C during a download there ("Ctrl-C in the real CLI"), during a build in
 * test/build.test.ts ("stops on Ctrl-C mid-compile").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { AS_NOBODY, canDropPrivileges, expectClean, expectOneLine, filesIn, makeRunner, mountTmpfs, unmount, modelArgsFor, writeFileIn } from './helpers/reliability.js';
import { mmprojGguf, textGguf } from './helpers/gguf.js';
import { cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';
import { findOnPath } from '../src/util/which.js';

const SCRIPT = 'language English<asr_text>Hello world.<|im_end|>';
const NO_FFMPEG_HINT = 'install ffmpeg (apt install ffmpeg / brew install ffmpeg), point --ffmpeg or QWEN3ASR_FFMPEG at a binary, or `npm install ffmpeg-static`';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-rel-env-'));
fs.chmodSync(tmp, 0o755);
const run = makeRunner(tmp);
const mounts: string[] = [];
let model: SyntheticModel;
let env: Record<string, string>;
let talkWav: string;
let talkMp3: string;

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: SCRIPT });
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
  const talk = script(sentences(2).map((s, i) => ({ pause: i === 0 ? 0.5 : 1.2, audio: speak(s) })), 0.8).samples;
  talkWav = write('talk.wav', floatWavBytes(talk));
  fs.chmodSync(talkWav, 0o644);
  talkMp3 = path.join(tmp, 'talk.mp3');
  const { execaSync } = await import('execa');
  execaSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', talkWav, talkMp3]);
});
afterAll(async () => {
  for (const m of mounts) await unmount(m);
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const write = (name: string, bytes: Uint8Array): string => writeFileIn(tmp, name, bytes);
const modelArgs = (): string[] => modelArgsFor(model);

/** A folder of links to just the named tools: a PATH that lacks everything else. */
function pathWith(name: string, tools: string[]): string {
  const dir = path.join(tmp, `path-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const t of tools) {
    const real = t === 'node' ? process.execPath : findOnPath(t);
    if (real && !fs.existsSync(path.join(dir, t))) fs.symlinkSync(real, path.join(dir, t));
  }
  return dir;
}

/** Every file and folder under `dir`, relative. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

function hasFfmpegStatic(): boolean {
  try {
    const p = createRequire(import.meta.url)('ffmpeg-static') as unknown;
    return typeof p === 'string' && fs.existsSync(p);
  } catch {
    return false;
  }
}

describe('models given by path: one line, exit 1, before any model run', () => {
  const TEXT = textGguf({ width: 64, rows: 512 });
  const cases: Array<[string, () => [string, string], (t: string, m: string) => string]> = [
    ['the text GGUF given as --mmproj', () => [write('m1/text.gguf', TEXT), write('m1/text-again.gguf', TEXT)], (_t, m) => `qwen3asr: ${m} is not an encoder (mmproj) file — give the Qwen3-ASR mmproj GGUF with --mmproj`],
    ['text and mmproj of different sizes', () => [write('m2/text.gguf', TEXT), write('m2/mmproj.gguf', mmprojGguf({ outWidth: 128 }))], (t, m) => `qwen3asr: ${m} produces 128-wide embeddings but ${t} expects 64 — use the text model and mmproj of the same size (0.6B with 0.6B, 1.7B with 1.7B)`],
    ['a truncated text GGUF', () => [write('m3/text.gguf', TEXT.subarray(0, TEXT.length - 1000)), write('m3/mmproj.gguf', mmprojGguf())], (t) => `qwen3asr: ${t} is truncated: ${TEXT.length - 1000} bytes, but its tensors need ${TEXT.length} — download or copy it again`],
    ['a GGUF of another architecture', () => [write('m4/text.gguf', textGguf({ arch: 'llama' })), write('m4/mmproj.gguf', mmprojGguf())], (t) => `qwen3asr: ${t} is a 'llama' model, not a Qwen3-ASR text model (architecture qwen3 or qwen3vl)`],
  ];
  for (const [what, make, message] of cases) {
    it(what, async () => {
      const [t, m] = make();
      const out = path.join(tmp, `out-${what.replace(/\W+/g, '-')}`);
      const r = await run([talkWav, '-o', out, '--model', t, '--mmproj', m], { env });
      expect(r.code).toBe(1);
      expectOneLine(r, message(t, m));
      expect(filesIn(out)).toEqual([]);
      await expectClean(r, tmp);
    });
  }

  it('in a batch, a bad model stops the run at once (it is no fault of the files)', async () => {
    const t = write('m5/text.gguf', textGguf({ arch: 'llama' }));
    const m = write('m5/mmproj.gguf', mmprojGguf());
    const out = path.join(tmp, 'out-batch-bad-model');
    const second = path.join(tmp, 'talk-2.wav');
    fs.copyFileSync(talkWav, second);
    const r = await run([talkWav, second, '-o', out, '--model', t, '--mmproj', m], { env });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: ${t} is a 'llama' model, not a Qwen3-ASR text model (architecture qwen3 or qwen3vl)`);
    expect(filesIn(out)).toEqual([]);
  });
});

describe('environment', () => {
  it('--ffmpeg none with an mp3', async () => {
    const r = await run([talkMp3, '-o', path.join(tmp, 'out-ffnone'), '--ffmpeg', 'none', ...modelArgs()], { env });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot decode ${talkMp3}: it is not a WAV file and ffmpeg is turned off (--ffmpeg none) — ${NO_FFMPEG_HINT}`);
    expect(filesIn(path.join(tmp, 'out-ffnone'))).toEqual([]);
    await expectClean(r, tmp);
  });

  it('QWEN3ASR_FFMPEG naming a binary that is not there', async () => {
    const r = await run([talkMp3, '-o', path.join(tmp, 'out-ffmissing'), ...modelArgs()], { env: { ...env, QWEN3ASR_FFMPEG: '/nonexistent/ffmpeg' } });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot decode ${talkMp3}: cannot run ffmpeg at /nonexistent/ffmpeg`);
    await expectClean(r, tmp);
  });

  it.skipIf(hasFfmpegStatic())('no ffmpeg on PATH (skipped where the ffmpeg-static package is installed: it is found first)', async () => {
    const r = await run([talkMp3, '-o', path.join(tmp, 'out-nopath'), ...modelArgs()], { env: { ...env, PATH: pathWith('noffmpeg', ['node']) } });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot decode ${talkMp3}: it is not a WAV file and ffmpeg was not found — ${NO_FFMPEG_HINT}`);
    // A WAV still works without ffmpeg.
    const ok = await run([talkWav, '-o', path.join(tmp, 'out-nopath'), '-q', ...modelArgs()], { env: { ...env, PATH: pathWith('noffmpeg', ['node']) } });
    expect(ok.code).toBe(0);
    expect(filesIn(path.join(tmp, 'out-nopath'))).toEqual(['talk.txt']);
  });

  it('no cmake at first run: `build` says so, exit 1, and leaves no lock or temp folder', async () => {
    const home = path.join(tmp, 'home-nocmake');
    fs.mkdirSync(home);
    const r = await run(['build', '--backend', 'cpu'], { env: { QWEN3ASR_BIN_DIR: undefined, QWEN3ASR_HOME: home, PATH: pathWith('nocmake', ['node', 'git', 'sh']) } });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      'qwen3asr: cmake is needed to build llama.cpp on first use, but it is not on PATH — install it with your package manager (`sudo apt-get install cmake`, `sudo dnf install cmake`), or `pip install cmake` for a newer one',
    );
    expect(tree(home)).toEqual([]);
    await expectClean(r, home);
  });

  it.skipIf(!inject('llamaSource') || !findOnPath('cmake'))('no compiler at first run: the configure step names it, exit 1; only the log and the verified source stay', async () => {
    const home = path.join(tmp, 'home-nocc');
    fs.mkdirSync(home);
    const r = await run(['build', '--backend', 'cpu', '--llama-cpp-source', inject('llamaSource')], {
      env: { QWEN3ASR_BIN_DIR: undefined, QWEN3ASR_HOME: home, CXX: undefined, CC: undefined, PATH: pathWith('nocc', ['node', 'git', 'sh', 'cmake', 'make']) },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^qwen3asr: configuring llama\.cpp failed \(cmake exit 1\); full log: .*\.log — no C\/C\+\+ compiler was found: install a C\+\+ compiler: `sudo apt-get install g\+\+`/,
    );
    const builds = tree(path.join(home, 'builds'));
    expect(builds.filter((f) => !f.startsWith('logs') && f !== '.tmp')).toEqual([]); // no lock, no half build
    expect(builds.filter((f) => f.startsWith('logs/'))).toHaveLength(1);
    await expectClean(r, home);
  });

  it('a read-only cache folder: one line naming it, exit 1 (build, models pull, transcribe with an alias)', async () => {
    const home = path.join(tmp, 'home-ro');
    if (!(await mountTmpfs(home, 'ro,size=64k'))) return void console.warn('skipped: mount is not permitted here');
    mounts.push(home);
    const line = `qwen3asr: cannot write to the cache folder ${home}: read-only file system — make it writable, or point QWEN3ASR_HOME at a folder that is`;
    const noBin = { QWEN3ASR_BIN_DIR: undefined, QWEN3ASR_HOME: home };
    const build = await run(['build', '--backend', 'cpu', '-q'], { env: noBin });
    expect(build.code).toBe(1);
    expectOneLine(build, line);
    const pull = await run(['models', 'pull', '0.6b'], { env: noBin });
    expect(pull.code).toBe(1);
    expectOneLine(pull, line);
    const out = path.join(tmp, 'out-ro-cache');
    const tr = await run([talkWav, '-o', out], { env: noBin });
    expect(tr.code).toBe(1);
    expectOneLine(tr, line);
    expect(filesIn(out)).toEqual([]);
    for (const r of [build, pull, tr]) await expectClean(r, home);
  });

  it.skipIf(!canDropPrivileges())('a cache folder without write permission (as nobody)', async () => {
    const home = path.join(tmp, 'home-noperm');
    fs.mkdirSync(home, { mode: 0o755 });
    const r = await run(['models', 'pull', '0.6b'], { env: { QWEN3ASR_HOME: home }, prefix: AS_NOBODY });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot write to the cache folder ${home}: permission denied — make it writable, or point QWEN3ASR_HOME at a folder that is`);
    expect(tree(home)).toEqual([]);
  });

  it('a read-only output folder is found before any transcription', async () => {
    const out = path.join(tmp, 'out-ro');
    if (!(await mountTmpfs(out, 'ro,size=64k'))) return void console.warn('skipped: mount is not permitted here');
    mounts.push(out);
    const r = await run([talkWav, '-o', out, ...modelArgs()], { env });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot write to ${out}: read-only file system — choose another folder with -o`);
    // A folder to be made inside it says the same, not "does not exist".
    const sub = await run([talkWav, '-o', path.join(out, 'sub'), ...modelArgs()], { env });
    expectOneLine(sub, `qwen3asr: cannot write to ${path.join(out, 'sub')}: read-only file system — choose another folder with -o`);
    await expectClean(r, tmp);
  });

  it.skipIf(!canDropPrivileges())('an output folder without write permission (as nobody)', async () => {
    const out = path.join(tmp, 'out-noperm');
    fs.mkdirSync(out, { mode: 0o755 });
    const r = await run([talkWav, '-o', out, ...modelArgs()], { env, prefix: AS_NOBODY });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot write to ${out}: permission denied — choose another folder with -o`);
    expect(filesIn(out)).toEqual([]);
    await expectClean(r, tmp);
  });

  it('disk full while writing the output: one line, no temp file, no partial output', async () => {
    const out = path.join(tmp, 'out-full');
    if (!(await mountTmpfs(out, 'size=64k'))) return void console.warn('skipped: mount is not permitted here');
    mounts.push(out);
    // Fill the 64 kB to the last byte.
    const fd = fs.openSync(path.join(out, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const r = await run([talkWav, '-f', 'srt', '-o', out, ...modelArgs()], { env });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: no space left on the device while writing ${path.join(out, 'talk.srt')} — free some space and run again`);
    expect(filesIn(out)).toEqual(['filler']);
    await expectClean(r, tmp);
  });

  describe('TMPDIR (where the decoded samples wait): one line naming it, exit 1, nothing written, nothing left', () => {
    const runIn = (tmpdir: string, out: string, prefix?: string[]) => run([talkWav, '-o', out, ...modelArgs()], { env, tmpdir, prefix });

    it('full: says how much room the samples take and what to do', async () => {
      const small = path.join(tmp, 'tmpdir-small');
      if (!(await mountTmpfs(small, 'size=64k'))) return void console.warn('skipped: mount is not permitted here');
      mounts.push(small);
      const out = path.join(tmp, 'out-tmp-full');
      // talk.wav is several seconds: 64 kB holds one of them as float32.
      const r = await runIn(small, out);
      expect(r.code).toBe(1);
      expectOneLine(r, `qwen3asr: not enough free space in ${small} for the decoded audio (230 MB per hour of audio) — free some space there, or point TMPDIR at a larger disk`);
      expect(filesIn(out)).toEqual([]);
      await expectClean(r, tmp);
    });

    it('missing', async () => {
      const missing = path.join(tmp, 'no-such-tmpdir');
      const out = path.join(tmp, 'out-tmp-missing');
      const r = await runIn(missing, out);
      expect(r.code).toBe(1);
      expectOneLine(r, `qwen3asr: the temp folder ${missing} does not exist — create it, or point TMPDIR at a folder that exists`);
      expect(filesIn(out)).toEqual([]);
    });

    it.runIf(canDropPrivileges())('not writable', async () => {
      const locked = path.join(tmp, 'tmpdir-locked');
      fs.mkdirSync(locked, { mode: 0o555 });
      fs.chmodSync(locked, 0o555);
      const out = path.join(tmp, 'out-tmp-locked');
      fs.mkdirSync(out, { mode: 0o777 });
      fs.chmodSync(out, 0o777);
      const r = await runIn(locked, out, AS_NOBODY);
      expect(r.code).toBe(1);
      expectOneLine(r, `qwen3asr: cannot create a temp folder in ${locked}: permission denied — point TMPDIR at a writable folder`);
      expect(filesIn(out)).toEqual([]);
      await expectClean(r, tmp);
    });
  });

  it('HOME unset: transcribes, and finds the cache through the user database', async () => {
    const out = path.join(tmp, 'out-nohome');
    const r = await run([talkWav, '-o', out, '-q', ...modelArgs()], { env: { ...env, HOME: undefined } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(filesIn(out)).toEqual(['talk.txt']);
    const p = await run(['build', '--print-path', '--backend', 'cpu'], { env: { HOME: undefined } });
    expect(p.code).toBe(0);
    if (!process.env.QWEN3ASR_HOME && !process.env.XDG_CACHE_HOME && !process.env.QWEN3ASR_BIN_DIR) expect(p.stdout.trim()).toBe(inject('binDir'));
    await expectClean(r, tmp);
  });

  it.skipIf(!canDropPrivileges())('HOME unset for a user the user database does not know: one line naming the fix', async () => {
    const r = await run(['build', '--print-path'], { env: { HOME: undefined, QWEN3ASR_BIN_DIR: undefined }, prefix: ['setpriv', '--reuid=54321', '--regid=54321', '--clear-groups'] });
    expect(r.code).toBe(1);
    expectOneLine(r, 'qwen3asr: cannot find a cache folder: HOME is not set and this user has no home directory — set QWEN3ASR_HOME (or HOME, or XDG_CACHE_HOME) to a writable folder');
    // With QWEN3ASR_HOME it works.
    const home = path.join(tmp, 'home-uid');
    fs.mkdirSync(home, { mode: 0o777 });
    fs.chmodSync(home, 0o777);
    const ok = await run(['models', 'list'], { env: { HOME: undefined, QWEN3ASR_HOME: home }, prefix: ['setpriv', '--reuid=54321', '--regid=54321', '--clear-groups'] });
    expect(ok.code).toBe(0);
  });
});
