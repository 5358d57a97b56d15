/**
 * Reliability matrix, faults: the real CLI and patched llama-mtmd-cli with the tiny scripted
 * model, and a wrapper binary (a shell script in QWEN3ASR_BIN_DIR) that crashes, hangs or
 * writes garbage. Then batches: one bad file among good ones, --fail-fast, two runs on the
 * same outputs at once, and a batch interrupted and run again.
 *
 * Ctrl-C during a transcription: test/transcribe-e2e.test.ts ("Ctrl-C mid-run"); during a
 * download: test/models.test.ts ("Ctrl-C in the real CLI"); during a build: test/build.test.ts
 * ("stops on Ctrl-C mid-compile").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { BIN } from './helpers/cli.js';
import { expectClean, expectOneLine, filesIn, makeRunner, wrapperBinDir } from './helpers/reliability.js';
import { cleanupFixtures, concat, script, sentences, silence, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';

const SCRIPT = 'language English<asr_text>Hello world.<|im_end|>';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-rel-faults-'));
const run = makeRunner(tmp);
let model: SyntheticModel;
let realBin: string;
let talkWav: string;
let longWavs: string[];

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: SCRIPT });
  realBin = inject('binDir');
  const talk = script(sentences(3).map((s, i) => ({ pause: i === 0 ? 0.5 : 1.5, audio: speak(s) })), 0.8).samples;
  talkWav = path.join(tmp, 'talk.wav');
  fs.writeFileSync(talkWav, floatWavBytes(talk));
  // Three files of several windows each, for the interrupted batch.
  const all = sentences(6);
  const long = concat(all.slice(0, 4).map((s) => concat([speak(s), silence(1.5)])));
  longWavs = [1, 2, 3].map((i) => {
    const p = path.join(tmp, 'batch', `part-${i}.wav`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, floatWavBytes(long));
    return p;
  });
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The faults are injected into llama-mtmd-cli, so these runs use the per-window subprocess runner. */
function modelArgs(): string[] {
  return ['--model', model.text, '--mmproj', model.mmproj, '--threads', '2', '--runner', 'subprocess'];
}

const FAILED = (what: string) =>
  new RegExp(`^qwen3asr: transcribing ${escape(talkWav)} failed at \\d+\\.\\d–\\d+\\.\\d s: ${what} — nothing was written for it; run the same command again to retry it$`);

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('the model binary misbehaves: the file fails whole, nothing partial is written', () => {
  const faults: Array<[string, string, string, Record<string, string>]> = [
    ['crashes (SIGKILL mid-window)', 'crash', 'printf \'{"text": "lang\' > "$MTMD_RESULT_FILE"\nkill -KILL $$', {}],
    ['hangs (SIGSTOP): the per-window timeout fires', 'hang', 'kill -STOP $$', { QWEN3ASR_WINDOW_TIMEOUT: '1' }],
    // A wrapper whose own child hangs: the timeout must end the child too (expectClean finds it
    // by its window WAV in the run's TMPDIR), not leave it stopped behind a killed wrapper.
    ['a wrapper\'s child hangs: the timeout ends the whole process group', 'hang-child', '"$REAL" "$@" &\nkill -STOP $!\nwait', { QWEN3ASR_WINDOW_TIMEOUT: '1' }],
    ['writes a malformed result file', 'garbage', 'printf \'{"text": "Hello wo\' > "$MTMD_RESULT_FILE"', {}],
    ['writes a result of the wrong shape', 'shape', 'printf \'[1, 2, 3]\' > "$MTMD_RESULT_FILE"', {}],
  ];
  const messages: Record<string, string> = {
    crash: 'llama-mtmd-cli was killed by SIGKILL',
    hang: 'llama-mtmd-cli did not finish within 1 s',
    'hang-child': 'llama-mtmd-cli did not finish within 1 s',
    garbage: 'llama-mtmd-cli wrote a result that cannot be read',
    shape: 'llama-mtmd-cli wrote a result that cannot be read',
  };
  for (const [what, name, sh, extraEnv] of faults) {
    it(what, async () => {
      const bin = wrapperBinDir(tmp, name, realBin, sh);
      const out = path.join(tmp, `out-${name}`);
      const started = Date.now();
      const r = await run([talkWav, '-f', 'srt,txt', '-o', out, ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: bin, ...extraEnv } });
      expect(r.code).toBe(1);
      expectOneLine(r, FAILED(escape(messages[name])));
      expect(filesIn(out)).toEqual([]);
      await expectClean(r, bin, tmp);
      // The first failed window stops the file: two attempts of one window, not of every window.
      if (name.startsWith('hang')) expect(Date.now() - started).toBeLessThan(8000);
    });
  }

  it('a crash that does not repeat is absorbed by the retry: complete outputs, exit 0', async () => {
    const counter = path.join(tmp, 'crash-once');
    const bin = wrapperBinDir(tmp, 'crash-once', realBin, `if [ ! -e '${counter}' ]; then : > '${counter}'; kill -KILL $$; fi\nexec "$REAL" "$@"`);
    const out = path.join(tmp, 'out-crash-once');
    const r = await run([talkWav, '-f', 'txt', '-o', out, '-q', ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: bin } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.existsSync(counter)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'talk.txt'), 'utf8')).toMatch(/^Hello world\./);
    await expectClean(r, bin, tmp);
  });

  it('in a batch, the file whose model run fails is reported and the others complete', async () => {
    // The wrapper crashes once the first file's output exists: every call for the second file.
    const out = path.join(tmp, 'out-batch-crash');
    const bin = wrapperBinDir(tmp, 'crash-later', realBin, `if [ -e '${path.join(out, 'talk.txt')}' ]; then kill -KILL $$; fi\nexec "$REAL" "$@"`);
    const other = path.join(tmp, 'talk-other.wav');
    fs.copyFileSync(talkWav, other);
    const r = await run([talkWav, other, '-f', 'txt', '-o', out, ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: bin } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${escape(other)}: transcribing ${escape(other)} failed at .*: llama-mtmd-cli was killed by SIGKILL — nothing was written for it`));
    expect(r.stderr).toMatch(/1 transcribed, 0 skipped, 1 failed/);
    expect(filesIn(out)).toEqual(['talk.txt']);
    await expectClean(r, bin, tmp);
  });
});

describe('batches', () => {
  function batchFiles(dir: string): { good1: string; bad: string; good2: string } {
    fs.mkdirSync(dir, { recursive: true });
    const good1 = path.join(dir, 'a-good.wav');
    const bad = path.join(dir, 'b-bad.wav');
    const good2 = path.join(dir, 'c-good.wav');
    fs.copyFileSync(talkWav, good1);
    fs.writeFileSync(bad, 'this is not audio\n');
    fs.copyFileSync(talkWav, good2);
    return { good1, bad, good2 };
  }

  it('one bad file is reported and skipped, the others complete, exit 1', async () => {
    const f = batchFiles(path.join(tmp, 'batch-one-bad'));
    const out = path.join(tmp, 'out-batch-one-bad');
    const r = await run([f.good1, f.bad, f.good2, '-f', 'txt', '-o', out, ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: realBin } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`qwen3asr: ${f.bad}: cannot decode ${f.bad}: it is not an audio or video file ffmpeg can read`);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^2 transcribed, 0 skipped, 1 failed — .* of audio in .* \(RTF [\d.]+\)$/);
    expect(filesIn(out)).toEqual(['a-good.txt', 'c-good.txt']);
    await expectClean(r, tmp);
  });

  it('--fail-fast stops at the first bad file; the rest are not started', async () => {
    const f = batchFiles(path.join(tmp, 'batch-fail-fast'));
    const out = path.join(tmp, 'out-batch-fail-fast');
    const r = await run([f.good1, f.bad, f.good2, '-f', 'txt', '-o', out, '--fail-fast', ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: realBin } });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.slice(-3, -1)).toEqual([
      `qwen3asr: ${f.bad}: cannot decode ${f.bad}: it is not an audio or video file ffmpeg can read`,
      'qwen3asr: --fail-fast: stopping; 1 file was not started',
    ]);
    expect(lines.at(-1)).toMatch(/^1 transcribed, 0 skipped, 1 failed, 1 not started — /);
    expect(filesIn(out)).toEqual(['a-good.txt']);
    await expectClean(r, tmp);
  });

  it('--json lists files --fail-fast did not start', async () => {
    const f = batchFiles(path.join(tmp, 'batch-fail-fast-json'));
    const r = await run([f.bad, f.good1, '-o', path.join(tmp, 'out-ffjson'), '--fail-fast', '--json', '-q', ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: realBin } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).files.map((x: { status: string }) => x.status)).toEqual(['failed', 'not started']);
  });

  it('--json prints its summary whatever happens: one bad input, and a model that cannot start', async () => {
    const f = batchFiles(path.join(tmp, 'batch-json-single'));
    const one = await run([f.bad, '-o', path.join(tmp, 'out-json-single'), '--json', ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: realBin } });
    expect(one.code).toBe(1);
    expectOneLine(one, `qwen3asr: cannot decode ${f.bad}: it is not an audio or video file ffmpeg can read`);
    expect(JSON.parse(one.stdout)).toMatchObject({ failed: 1, files: [{ input: f.bad, status: 'failed', error: `cannot decode ${f.bad}: it is not an audio or video file ffmpeg can read` }] });

    const broken = path.join(tmp, 'not-a-model.gguf');
    fs.writeFileSync(broken, 'GGUF but not really');
    const setup = await run([f.good1, f.good2, '-o', path.join(tmp, 'out-json-setup'), '--json', '--model', broken, '--mmproj', broken], { env: { QWEN3ASR_BIN_DIR: realBin } });
    expect(setup.code).toBe(1);
    const summary = JSON.parse(setup.stdout);
    expect(summary.files.map((x: { status: string }) => x.status)).toEqual(['failed', 'not started']);
    expect(summary.files[0].error).toMatch(/not-a-model\.gguf/);
  });

  for (const force of [false, true]) {
    it(`two runs writing the same outputs at once both finish, with one complete file${force ? ' (--force: the last one wins)' : ''}`, async () => {
      const ref = path.join(tmp, `out-ref-${force}`);
      const refRun = await run([talkWav, '-f', 'srt,json', '-o', ref, '-q', ...modelArgs()], { env: { QWEN3ASR_BIN_DIR: realBin } });
      expect(refRun.code).toBe(0);
      const out = path.join(tmp, `out-race-${force}`);
      const args = [talkWav, '-f', 'srt,json', '-o', out, ...(force ? ['--force'] : []), ...modelArgs()];
      const [a, b] = await Promise.all([run(args, { env: { QWEN3ASR_BIN_DIR: realBin } }), run(args, { env: { QWEN3ASR_BIN_DIR: realBin } })]);
      expect([a.code, b.code]).toEqual([0, 0]);
      for (const r of [a, b]) expect(r.stderr).not.toMatch(/error|already exists|cannot/i);
      expect(filesIn(out)).toEqual(['talk.json', 'talk.srt']);
      const strip = (s: string) => s.replace(/"ms": \d+/g, '"ms": 0');
      expect(fs.readFileSync(path.join(out, 'talk.srt'), 'utf8')).toBe(fs.readFileSync(path.join(ref, 'talk.srt'), 'utf8'));
      expect(strip(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'))).toBe(strip(fs.readFileSync(path.join(ref, 'talk.json'), 'utf8')));
      const wrote = [a, b].filter((r) => r.stderr.includes(`wrote ${path.join(out, 'talk.srt')}`)).length;
      if (force) expect(wrote).toBeGreaterThanOrEqual(1);
      else {
        expect(wrote).toBe(1);
        // The other one skipped the file (its outputs existed when it started) or kept the ones that appeared meanwhile.
        const other = [a, b].find((r) => !r.stderr.includes(`wrote ${path.join(out, 'talk.srt')}`))!;
        expect(other.stderr).toMatch(/skipped, its outputs exist|talk\.srt appeared meanwhile \(another run\?\): kept; --force overwrites/);
      }
      await expectClean(a, tmp);
      await expectClean(b, tmp);
    });
  }

  it('a batch interrupted after its first file, run again, redoes only the unfinished files', async () => {
    const out = path.join(tmp, 'out-resume');
    const args = [...longWavs, '-f', 'srt,txt', '-o', out, ...modelArgs()];
    const tmpdir = fs.mkdtempSync(path.join(tmp, 'tmpdir-resume-'));
    const child = execa(process.execPath, [BIN, ...args], { env: { QWEN3ASR_BIN_DIR: realBin, TMPDIR: tmpdir }, reject: false });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !fs.existsSync(path.join(out, 'part-1.txt'))) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGINT');
    const first = await child;
    expect(first.exitCode).toBe(130);
    expect(String(first.stderr).trim().split('\n').at(-1)).toBe('qwen3asr: interrupted (Ctrl-C)');
    // Only the finished file's outputs, each complete; no temp files anywhere.
    expect(filesIn(out)).toEqual(['part-1.srt', 'part-1.txt']);
    expect(filesIn(tmpdir)).toEqual([]);

    const again = await run(args, { env: { QWEN3ASR_BIN_DIR: realBin } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${longWavs[0]}: skipped, its outputs exist (--force redoes them)`);
    expect(again.stderr.trim().split('\n').at(-1)).toMatch(/^2 transcribed, 1 skipped, 0 failed — /);
    expect(filesIn(out)).toEqual(['part-1.srt', 'part-1.txt', 'part-2.srt', 'part-2.txt', 'part-3.srt', 'part-3.txt']);
    const txt = fs.readFileSync(path.join(out, 'part-1.txt'), 'utf8');
    for (const i of [2, 3]) expect(fs.readFileSync(path.join(out, `part-${i}.txt`), 'utf8')).toBe(txt);
    await expectClean(again, tmp);
  });
});
