/**
 * End to end: the real CLI, the real patched llama-mtmd-cli (built once by global-setup) and a
 * tiny synthetic model whose greedy answer is scripted, on espeak-ng speech with known pauses.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseSync, type NodeCue } from 'subtitle';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { BIN, runCli } from './helpers/cli.js';
import { script, sentences, silence, speak, cleanupFixtures, concat, SR } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';

const SCRIPT = 'language English<asr_text>Hello world.<|im_end|>';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-e2e-test-'));
let model: SyntheticModel;
let talk: { file: string; speech: { start: number; end: number }[]; duration: number };
let env: Record<string, string>;

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: SCRIPT });
  // About a minute: fourteen sentences with 1.5 s pauses between them.
  const parts = sentences(14).map((s, i) => ({ pause: i === 0 ? 1 : 1.5, audio: speak(s) }));
  const s = script(parts, 1.2);
  talk = { file: path.join(tmp, 'talk.wav'), speech: s.speech, duration: s.samples.length / SR };
  fs.writeFileSync(talk.file, floatWavBytes(s.samples));
  // The build from global-setup, used as a prebuilt folder: no test builds llama.cpp again.
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function modelArgs(): string[] {
  return ['--model', model.text, '--mmproj', model.mmproj, '--threads', '2'];
}

function cuesOf(text: string) {
  return parseSync(text).filter((n): n is NodeCue => n.type === 'cue').map((n) => n.data);
}

describe('transcribe end to end', () => {
  it('writes srt, vtt, txt and json with cues inside the speech', async () => {
    const out = path.join(tmp, 'out');
    const r = await runCli([talk.file, '-f', 'srt,vtt,txt,json', '-o', out, ...modelArgs()], { env });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['talk.json', 'talk.srt', 'talk.txt', 'talk.vtt']);

    const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'));
    expect(json.language).toBe('English');
    expect(json.duration).toBeCloseTo(talk.duration, 2);
    expect(talk.duration).toBeGreaterThan(55);
    expect(json.windows.length).toBeGreaterThanOrEqual(1);
    for (const w of json.windows) {
      expect(w).toMatchObject({ language: 'English', text: 'Hello world.', stop: 'eos' });
      expect(w.end - w.start).toBeLessThanOrEqual(8 + 1e-6);
    }

    const srt = cuesOf(fs.readFileSync(path.join(out, 'talk.srt'), 'utf8'));
    const vtt = cuesOf(fs.readFileSync(path.join(out, 'talk.vtt'), 'utf8'));
    expect(srt.length).toBe(json.cues.length);
    expect(vtt.map((c) => [c.start, c.end])).toEqual(srt.map((c) => [c.start, c.end]));
    let previousEnd = 0;
    for (const c of srt) {
      expect(c.text.length).toBeGreaterThan(0);
      expect(c.start).toBeGreaterThanOrEqual(previousEnd); // monotonic, no overlap
      expect(c.end).toBeGreaterThan(c.start);
      previousEnd = c.end;
      // Every cue lies over speech (with the windows' 0.2 s margins and millisecond rounding).
      const mid = (c.start + c.end) / 2000;
      expect(talk.speech.some((s) => mid >= s.start - 0.3 && mid <= s.end + 0.3)).toBe(true);
    }
    // No cue spans a known 1.5 s pause entirely.
    for (let i = 1; i < talk.speech.length; i++) {
      const gapStart = talk.speech[i - 1].end + 0.3;
      const gapEnd = talk.speech[i].start - 0.3;
      for (const c of srt) expect(c.start / 1000 <= gapStart && c.end / 1000 >= gapEnd).toBe(false);
    }
    expect(fs.readFileSync(path.join(out, 'talk.txt'), 'utf8')).toMatch(/^Hello world\./);
  });

  it('gives byte-identical subtitles with --jobs 2 and --jobs 1', async () => {
    const outs = await Promise.all([1, 2].map(async (jobs) => {
      const out = path.join(tmp, `jobs-${jobs}`);
      const r = await runCli([talk.file, '-f', 'srt,vtt,txt', '-o', out, '--jobs', String(jobs), ...modelArgs()], { env });
      expect(r.code).toBe(0);
      return ['srt', 'vtt', 'txt'].map((f) => fs.readFileSync(path.join(out, `talk.${f}`), 'utf8'));
    }));
    expect(outs[1]).toEqual(outs[0]);
  });

  it('forces the language the official way: the answer starts after `language X<asr_text>`', async () => {
    const r = await runCli([talk.file, '-f', 'json', '-o', '-', '--language', 'de', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.language).toBe('German');
    for (const w of json.windows) expect(w).toMatchObject({ language: 'German', text: 'Hello world.' });
  });

  it('transcribes a 1-second file as one window', async () => {
    const file = path.join(tmp, 'short.wav');
    fs.writeFileSync(file, floatWavBytes(speak('Yes.')));
    const r = await runCli([file, '-f', 'json', '-o', '-', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.duration).toBeLessThan(1.5);
    expect(json.windows).toHaveLength(1);
    expect(json.cues.map((c: { text: string }) => c.text)).toEqual(['Hello world.']);
  });

  it('a batch transcribes each file in turn, and a rerun skips the finished ones', async () => {
    const dir = path.join(tmp, 'batch');
    fs.mkdirSync(dir);
    const files = ['one', 'two', 'three'].map((n, i) => {
      const f = path.join(dir, `${n}.wav`);
      fs.writeFileSync(f, floatWavBytes(concat([silence(0.5), speak(sentences(3)[i]), silence(0.5)])));
      return f;
    });
    const out = path.join(tmp, 'batch-out');
    const first = await runCli([...files, '-f', 'srt', '-o', out, '--json', ...modelArgs()], { env });
    expect(first.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['one.srt', 'three.srt', 'two.srt']);
    const summary = JSON.parse(first.stdout);
    expect(summary.files.map((f: { status: string }) => f.status)).toEqual(['done', 'done', 'done']);
    expect(first.stderr).toMatch(/3 transcribed, 0 skipped, 0 failed/);
    fs.rmSync(path.join(out, 'two.srt'));
    const again = await runCli([...files, '-f', 'srt', '-o', out, '--json', ...modelArgs()], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files.map((f: { status: string }) => f.status)).toEqual(['skipped', 'done', 'skipped']);
  });

  it.runIf(process.platform === 'linux')('on a terminal: a spinner while the model loads, then bars that say which file of the batch and its ETA', async () => {
    // util-linux `script` gives the run a pseudo-terminal (with a size: bars need columns)
    const second = path.join(tmp, 'talk-2.wav');
    fs.copyFileSync(talk.file, second);
    const out = path.join(tmp, 'tty-batch');
    const cmd = [process.execPath, BIN, talk.file, second, '-f', 'txt', '-o', out, ...modelArgs()].map((a) => `'${a}'`).join(' ');
    const r = await execa('script', ['-qefc', `stty cols 160 rows 40; ${cmd}`, '/dev/null'], { env: { ...process.env, ...env, CI: '' }, reject: false });
    expect(r.exitCode).toBe(0);
    const screen = String(r.stdout);
    expect(screen).toContain(`loading the model (${path.basename(model.text)})…`);
    expect(screen).toMatch(/\[1\/2\] talk\.wav \[[= ]*\] \d+\/\d+ windows/);
    expect(screen).toMatch(/\[2\/2\] talk-2\.wav \[[= ]*\] \d+\/\d+ windows/);
    // no "ETA 0s" before any window is done: the first frame of each bar says it cannot tell yet
    expect(screen).toMatch(/\[1\/2\] talk\.wav \[ +\] 0\/\d+ windows \| 0\.0 min of audio \| RTF - \| ETA …/);
    expect(screen).not.toMatch(/ 0\/\d+ windows[^\r\n\x1b]*ETA 0s/);
    // the second file's bar knows how long a file takes: the batch's ETA, from its first frame on
    expect(screen).toMatch(/\[2\/2\] talk-2\.wav \[ +\] 0\/\d+ windows[^\r\n\x1b]*ETA … \| batch: \d+\.\d min of audio done, ETA \d+s/);
    expect(fs.readdirSync(out).sort()).toEqual(['talk-2.txt', 'talk.txt']);
  });

  it('writes no cues for pure silence, without calling the model', async () => {
    const file = path.join(tmp, 'silence.wav');
    fs.writeFileSync(file, floatWavBytes(silence(12)));
    const r = await runCli([file, '-f', 'srt', '-o', '-', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    // said once, so an empty file is not mistaken for a failure
    expect(r.stderr.trim()).toBe(`${file}: no speech found in 12.0 s of audio: the outputs are empty`);
  });

  // SIGHUP is what closing the terminal (or an SSH drop) sends; SIGTERM what `kill` and service managers send.
  const stops: Array<[NodeJS.Signals, number, string]> = [
    ['SIGINT', 130, 'qwen3asr: interrupted (Ctrl-C)'],
    ['SIGTERM', 143, 'qwen3asr: stopped by SIGTERM'],
    ['SIGHUP', 129, 'qwen3asr: stopped by SIGHUP (the terminal closed)'],
  ];
  for (const [sig, code, line] of stops) it(`${sig} mid-run stops the model: exit ${code}, one line, no outputs, temp files or processes`, async () => {
    const long = path.join(tmp, `long-${sig}.wav`);
    const parts = Array.from({ length: 6 }, (_, i) => concat([speak(sentences(6)[i]), silence(1.5)]));
    fs.writeFileSync(long, floatWavBytes(concat(parts)));
    const out = path.join(tmp, `interrupted-${sig}`);
    const privateTmp = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    // The per-window runner writes a WAV per call: its appearance shows a model call under way.
    const child = execa(process.execPath, [BIN, long, '-f', 'srt,json', '-o', out, '--runner', 'subprocess', ...modelArgs()], {
      env: { ...env, TMPDIR: privateTmp },
      reject: false,
    });
    // Wait until the first window's model call is under way, then press Ctrl-C.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !fs.readdirSync(privateTmp).some((d) => fs.existsSync(path.join(privateTmp, d)) && fs.readdirSync(path.join(privateTmp, d)).some((f) => f.endsWith('.wav')))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill(sig);
    const r = await child;
    expect(r.exitCode).toBe(code);
    expect(String(r.stderr).trim().split('\n').at(-1)).toBe(line);
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    expect(fs.readdirSync(privateTmp)).toEqual([]);
    const still = await execa('pgrep', ['-f', model.text], { reject: false });
    expect(String(still.stdout).trim()).toBe('');
  });

  it('Ctrl-C with the warm server runner stops llama-server and leaves no outputs', async () => {
    const long = path.join(tmp, 'long-server.wav');
    const parts = Array.from({ length: 6 }, (_, i) => concat([speak(sentences(6)[i]), silence(1.5)]));
    fs.writeFileSync(long, floatWavBytes(concat(parts)));
    const out = path.join(tmp, 'interrupted-server');
    const child = execa(process.execPath, [BIN, long, '-f', 'srt,json', '-o', out, '--runner', 'server', ...modelArgs()], { env, reject: false });
    // Wait for llama-server to be running with this model, then press Ctrl-C.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const r = await execa('pgrep', ['-f', `llama-server.*${model.text}`], { reject: false });
      if (String(r.stdout).trim()) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    const still = await execa('pgrep', ['-f', model.text], { reject: false });
    expect(String(still.stdout).trim()).toBe('');
  });

  it.runIf(process.platform !== 'win32')('Ctrl-C while ffmpeg decodes: exit 130, one line, nothing left in TMPDIR', async () => {
    // A stand-in ffmpeg that writes some samples, says so, then hangs until it is told to stop,
    // and takes a moment to die (the Ctrl-C must wait for it, not race it).
    const dir = fs.mkdtempSync(path.join(tmp, 'slow-ffmpeg-'));
    const started = path.join(dir, 'started');
    fs.writeFileSync(
      path.join(dir, 'ffmpeg'),
      `#!/bin/sh\nhead -c 64000 /dev/zero\ntouch '${started}'\nsleep 30 &\ntrap 'kill $!; sleep 0.3; exit 255' TERM\nwait $!\n`,
      { mode: 0o755 },
    );
    const privateTmp = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    const out = path.join(tmp, 'interrupted-decode');
    const child = execa(process.execPath, [BIN, talk.file, '-o', out, '--ffmpeg', path.join(dir, 'ffmpeg'), ...modelArgs()], {
      env: { ...env, TMPDIR: privateTmp },
      reject: false,
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !fs.existsSync(started)) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const r = await child;
    expect(String(r.stderr).trim()).toBe('qwen3asr: interrupted (Ctrl-C)');
    expect(r.exitCode).toBe(130);
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    expect(fs.readdirSync(privateTmp)).toEqual([]);
    const still = await execa('pgrep', ['-f', dir], { reject: false });
    expect(String(still.stdout).trim()).toBe('');
  });

  it.runIf(process.platform === 'linux')('a killed qwen3asr (SIGKILL, no cleanup) takes its llama-server and its temp files with it', async () => {
    const long = path.join(tmp, 'long-killed.wav');
    const parts = Array.from({ length: 6 }, (_, i) => concat([speak(sentences(6)[i]), silence(1.5)]));
    fs.writeFileSync(long, floatWavBytes(concat(parts)));
    const privateTmp = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    const child = execa(process.execPath, [BIN, long, '-f', 'srt', '-o', path.join(tmp, 'killed'), '--runner', 'server', ...modelArgs()], {
      env: { ...env, TMPDIR: privateTmp },
      reject: false,
    });
    const deadline = Date.now() + 60_000;
    let server = '';
    while (Date.now() < deadline && !server) {
      server = String((await execa('pgrep', ['-f', `llama-server.*${model.text}`], { reject: false })).stdout).trim();
      if (!server) await new Promise((r) => setTimeout(r, 20));
    }
    expect(server).not.toBe('');
    child.kill('SIGKILL');
    await child;
    const gone = Date.now() + 5_000;
    let still = server;
    while (Date.now() < gone && still) {
      still = String((await execa('pgrep', ['-f', model.text], { reject: false })).stdout).trim();
      if (still) await new Promise((r) => setTimeout(r, 50));
    }
    expect(still).toBe('');
    // Nothing of the run outlives it on disk either: the decoded samples' file was unlinked while open.
    expect(fs.readdirSync(privateTmp)).toEqual([]);
  });
});
