import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tones, wavBytes } from './helpers/signals.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-cli-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

/** Each run gets a private TMPDIR, so leftovers are the run's own, not another process's. */
function privateTmp(): string {
  return fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
}

describe('help and usage', () => {
  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['transcribe', 'build', 'models', 'convert', 'doctor']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('transcribe --help shows the options users expect', async () => {
    const r = await runCli(['transcribe', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--format', '--output-dir', '--language', '--model', '--mmproj', '--threads', '--quiet', '--verbose', '--force', '--json']) {
      expect(r.stdout).toContain(o);
    }
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['no input', ['transcribe'], /missing required argument 'inputs'/],
    ['an unknown option', ['a.wav', '--no-such-thing'], /unknown option '--no-such-thing'/],
    ['an unknown format', ['a.wav', '-f', 'srt,docx'], /unknown format 'docx'/],
    ['stdout with two formats', ['a.wav', '-f', 'srt,vtt', '-o', '-'], /writes one format to stdout, but 2 were asked/],
    ['a bad thread count', ['a.wav', '--threads', 'zero'], /--threads must be a whole number/],
    ['a window too long', ['a.wav', '--window-seconds', '45'], /--window-seconds must be a number of seconds from 1 to 30/],
    ['stdin twice', ['-', '-'], /stdin \('-'\) can be read only once/],
    ['two inputs with one output name', [path.join('x', 'talk.mp3'), path.join('y', 'talk.wav'), '-o', 'out'], /would both write/],
    ['an ftp endpoint', ['a.wav', '--endpoint', 'ftp://127.0.0.1:21'], /'ftp:\/\/127\.0\.0\.1:21': only http and https endpoints are supported/],
    ['an endpoint that is no URL', ['a.wav', '--endpoint', 'localhost'], /'localhost' is not a URL: give it as http:\/\/host:port/],
    ['--jobs beyond reason', ['a.wav', '--jobs', '100000'], /--jobs must be a whole number from 1 to 64, got '100000'/],
    ['--highlight-words without vtt', ['a.wav', '-f', 'srt,json', '--highlight-words'], /^qwen3asr: --highlight-words tags the words of vtt cues, but -f asks for srt,json — add vtt to -f, or drop --highlight-words$/],
    ['--highlight-words with --align off', ['a.wav', '-f', 'vtt', '--align', 'off', '--highlight-words'], /^qwen3asr: --highlight-words needs the words' times, and --align off turns them off — drop one of them$/],
    ['stdout with two inputs (no one well-formed document)', ['a.wav', 'b.wav', '-f', 'srt', '-o', '-'], /^qwen3asr: -o - writes one transcript to stdout, but 2 inputs were given — give -o a folder/],
    ['an output file for two inputs', ['a.wav', 'b.wav', '-o', 'subs.srt'], /^qwen3asr: -o subs\.srt names one output file, but 2 inputs were given — give -o a folder for a batch$/],
    ['an output file of another format than -f', ['a.wav', '-f', 'txt', '-o', 'subs.srt'], /^qwen3asr: -o subs\.srt is a \.srt file, but -f asks for txt/],
    ['-o naming an existing file that is no output format', ['a.wav', '-o', fileURLToPath(import.meta.url)], /-o .*cli\.test\.ts is a file, not a folder — give -o a folder, or a file name ending in \.txt, \.srt, \.vtt or \.json$/],
  ];
  for (const [what, args, message] of usage) {
    it(`${what} is a usage error: one line, exit 2`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toMatch(message);
      expect(r.stdout).toBe('');
    });
  }
});

describe('bad inputs: one clear line, exit 1, nothing left behind', () => {
  const cases: Array<[string, () => string, RegExp]> = [
    ['a missing file', () => path.join(tmp, 'nope.wav'), /^qwen3asr: input not found: .*nope\.wav — check the path$/],
    ['a directory', () => tmp, /is a folder, not a file/],
    ['an empty file', () => write('empty.mp3', new Uint8Array()), /empty\.mp3 is empty \(0 bytes\)/],
    ['a text file', () => write('notes.txt', new TextEncoder().encode('hello\n')), /cannot decode .*notes\.txt: it is not an audio or video file/],
    ['a corrupt WAV', () => write('corrupt.wav', wavBytes([tones([440], 1, 16000)], 16000, '16').subarray(0, 40)), /cannot decode .*corrupt\.wav/],
  ];
  for (const [what, make, message] of cases) {
    it(what, async () => {
      const input = make();
      const out = path.join(tmp, `out-${what.replace(/\W+/g, '-')}`);
      const tmpdir = privateTmp();
      const r = await runCli([input, '-f', 'srt,txt', '-o', out], { env: { TMPDIR: tmpdir } });
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toMatch(message);
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
      expect(fs.readdirSync(tmpdir)).toEqual([]);
    });
  }

  it('a batch reports each bad file and exits 1', async () => {
    const a = path.join(tmp, 'missing-a.wav');
    const b = write('batch-empty.wav', new Uint8Array());
    const r = await runCli([a, b, '-o', path.join(tmp, 'batch-out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing-a\.wav: input not found/);
    expect(r.stderr).toMatch(/batch-empty\.wav: .* is empty/);
    expect(r.stderr).toMatch(/0 transcribed, 0 skipped, 2 failed/);
  });
});

function write(name: string, bytes: Uint8Array): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, bytes);
  return p;
}
