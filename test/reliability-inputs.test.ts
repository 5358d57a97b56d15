/**
 * Reliability matrix, inputs: each odd input gives one clear line and exit 1 with nothing
 * written, or is transcribed as far as it holds audio (exit 0). Every run has a private TMPDIR
 * that must end empty, and no child process may be left.
 *
 * Covered elsewhere, not repeated here (test/cli.test.ts, "bad inputs"): a missing file, a
 * directory ("X is a folder, not a file"), a zero-byte file ("X is empty (0 bytes)"), a text
 * file ("cannot decode X: it is not an audio or video file ffmpeg can read"), a WAV cut at 40
 * bytes. The 6-hour file is test/reliability-6h.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { AS_NOBODY, canDropPrivileges, expectClean, expectOneLine, filesIn, makeRunner, modelArgsFor, writeFileIn } from './helpers/reliability.js';
import { wavBytes } from './helpers/signals.js';
import { cleanupFixtures, script, sentences, speak, SR } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';
import { BIN } from './helpers/cli.js';
import { decodeWavFile } from '../src/audio/wav.js';
import { rms } from './helpers/signals.js';

const SCRIPT = 'language English<asr_text>Hello world.<|im_end|>';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-rel-inputs-'));
fs.chmodSync(tmp, 0o755); // the no-permission case runs the CLI as nobody
const run = makeRunner(tmp);
let model: SyntheticModel;
let env: Record<string, string>;
let talk: Float32Array;
let talkWav: string;

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: SCRIPT });
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
  talk = script(sentences(2).map((s, i) => ({ pause: i === 0 ? 0.5 : 1.2, audio: speak(s) })), 0.8).samples;
  talkWav = file('talk.wav', floatWavBytes(talk));
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const file = (name: string, bytes: Uint8Array): string => writeFileIn(tmp, name, bytes);
const modelArgs = (): string[] => modelArgsFor(model);

/** 16-bit PCM WAV bytes of `frames` frames of `channels` channels (header written by hand). */
function pcm16Wav(frames: number, channels = 1, rate = SR, fill = 0x1000): Buffer {
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames * channels; i++) data.writeInt16LE(fill, i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

const decoders: Array<[string, string[]]> = [
  ['ffmpeg', []],
  ['no ffmpeg', ['--ffmpeg', 'none']],
];

describe('inputs that fail: one line, exit 1, nothing written, nothing left', () => {
  const cases: Array<[string, () => string, string[], (f: string) => string]> = [
    ['a truncated WAV header (20 bytes)', () => file('trunc.wav', pcm16Wav(100).subarray(0, 20)), [], (f) => `qwen3asr: cannot decode ${f}: it is not an audio or video file ffmpeg can read`],
    ['a truncated WAV header (20 bytes), no ffmpeg', () => file('trunc-noff.wav', pcm16Wav(100).subarray(0, 20)), ['--ffmpeg', 'none'], (f) => `qwen3asr: cannot decode ${f}: not a valid WAV file (Could not find the "data" chunk) — check the file, or install ffmpeg, which reads damaged files more leniently`],
    ['a 0-sample WAV', () => file('zero.wav', pcm16Wav(0)), [], (f) => `qwen3asr: ${f} holds no audio (0 samples) — give a file that contains audio`],
    ['a 0-sample WAV, no ffmpeg', () => file('zero-noff.wav', pcm16Wav(0)), ['--ffmpeg', 'none'], (f) => `qwen3asr: ${f} holds no audio (0 samples) — give a file that contains audio`],
    ['a video with no audio track', () => makeWithFfmpeg('novideo.mp4', ['-f', 'lavfi', '-i', 'testsrc=d=1:s=64x48', '-c:v', 'mpeg4']), [], (f) => `qwen3asr: cannot decode ${f}: it has no audio track`],
    ['an image (png)', () => makeWithFfmpeg('picture.png', ['-f', 'lavfi', '-i', 'testsrc=d=1:s=64x48', '-frames:v', '1']), [], (f) => `qwen3asr: cannot decode ${f}: it has no audio track`],
    ['an image (png), no ffmpeg', () => makeWithFfmpeg('picture2.png', ['-f', 'lavfi', '-i', 'testsrc=d=1:s=64x48', '-frames:v', '1']), ['--ffmpeg', 'none'], (f) => `qwen3asr: cannot decode ${f}: it is not a WAV file and ffmpeg is turned off (--ffmpeg none) — install ffmpeg (apt install ffmpeg / brew install ffmpeg), point --ffmpeg or QWEN3ASR_FFMPEG at a binary, or \`npm install ffmpeg-static\``],
    ['a symlink loop', () => symlinkLoop(), [], (f) => `qwen3asr: input is a symbolic link loop: ${f}`],
  ];
  for (const [what, make, extra, message] of cases) {
    it(what, async () => {
      const input = make();
      const out = path.join(tmp, `out-${what.replace(/\W+/g, '-')}`);
      const r = await run([input, '-f', 'srt,txt', '-o', out, ...extra, ...modelArgs()], { env });
      expect(r.code).toBe(1);
      expectOneLine(r, message(input));
      expect(filesIn(out)).toEqual([]);
      await expectClean(r, tmp);
    });
  }

  it.skipIf(!canDropPrivileges())('a file without read permission (run as nobody: root reads anything)', async () => {
    const input = file('secret.wav', floatWavBytes(talk));
    fs.chmodSync(input, 0o600);
    const out = path.join(tmp, 'out-noperm');
    fs.mkdirSync(out, { mode: 0o777 });
    fs.chmodSync(out, 0o777);
    const r = await run([input, '-o', out, ...modelArgs()], { env, prefix: AS_NOBODY });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot read ${input}: permission denied`);
    expect(filesIn(out)).toEqual([]);
    await expectClean(r, tmp);
  });

  // The model starts while the first input decodes, but only when that sets nothing up: here the
  // model files are given, yet there is no build, so a bad input must not start one (minutes).
  it('a bad input where llama.cpp is not built yet: the same one line, and nothing is built', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'home-'));
    const input = file('trunc-unbuilt.wav', pcm16Wav(100).subarray(0, 20));
    const r = await run([input, '-f', 'srt', '-o', path.join(tmp, 'out-unbuilt'), ...modelArgs()], {
      env: { QWEN3ASR_BIN_DIR: undefined, QWEN3ASR_HOME: home },
    });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: cannot decode ${input}: it is not an audio or video file ffmpeg can read`);
    expect(filesIn(path.join(home, 'builds'))).toEqual([]);
    await expectClean(r, tmp);
  });

  it('stdin that holds too little to decode (100 bytes of an mp3)', async () => {
    const mp3 = makeWithFfmpeg('stdin-short.mp3', ['-i', talkWav, '-c:a', 'libmp3lame', '-b:a', '64k']);
    const out = path.join(tmp, 'out-stdin-short');
    const r = await run(['-', '-o', out, ...modelArgs()], { env, input: fs.readFileSync(mp3).subarray(0, 100) });
    expect(r.code).toBe(1);
    expectOneLine(r, 'qwen3asr: cannot decode stdin: it is not an audio or video file ffmpeg can read');
    expect(filesIn(out)).toEqual([]);
    await expectClean(r, tmp);
  });
});

describe('stdin', () => {
  for (const [how, extra] of decoders) {
    it(`empty: one line, exit 1 (${how})`, async () => {
      const out = path.join(tmp, `out-stdin-empty-${how.replace(/\W+/g, '-')}`);
      const r = await run(['-', '-o', out, ...extra, ...modelArgs()], { env, input: '' });
      expect(r.code).toBe(1);
      expectOneLine(r, 'qwen3asr: stdin is empty (0 bytes) — give a file that contains audio');
      expect(filesIn(out)).toEqual([]);
      await expectClean(r, tmp);
    });
  }

  // ffmpeg reads stdin as it arrives (never held whole); without ffmpeg the WAV is read whole.
  for (const [how, extra, name] of [...decoders.map(([h, e]) => [h, e, 'talk.wav'] as const), ['ffmpeg', [], 'talk.mp3'] as const]) {
    it(`${name} piped in gives the same subtitles as the file itself (${how})`, async () => {
      const input = name === 'talk.wav' ? talkWav : makeWithFfmpeg('stdin-full.mp3', ['-i', talkWav, '-c:a', 'libmp3lame', '-b:a', '64k']);
      const tag = `${how}-${name}`.replace(/\W+/g, '-');
      const fromFile = await run([input, '-f', 'srt', '-o', path.join(tmp, `out-file-${tag}`), '-q', ...extra, ...modelArgs()], { env });
      expect(fromFile.code).toBe(0);
      const piped = await run(['-', '-f', 'srt', '-o', '-', ...extra, ...modelArgs()], { env, inputFile: input });
      expect(piped.stderr).toBe('');
      expect(piped.code).toBe(0);
      const want = fs.readFileSync(path.join(tmp, `out-file-${tag}`, `${path.basename(input, path.extname(input))}.srt`), 'utf8');
      expect(want).toMatch(/Hello world\./);
      expect(piped.stdout).toBe(want.replace(/\n$/, '')); // execa strips the final newline of stdout
      await expectClean(piped, tmp);
    });
  }
});

describe('pipes as inputs: read once, as they arrive', () => {
  /** The CLI under bash; `$CLI` in the script is the quoted CLI. `exit=N` ends stderr. */
  const bash = (script: string, extraEnv: Record<string, string> = {}) => {
    const cli = [process.execPath, BIN].map((a) => `'${a}'`).join(' ');
    return run([], { env: { ...env, ...extraEnv, CLI: cli }, prefix: ['bash', '-c', script, 'bash'], cwd: tmp });
  };
  let want = '';
  beforeAll(async () => {
    const r = await run([talkWav, '-f', 'srt', '-o', '-', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    want = r.stdout;
    expect(want).toMatch(/Hello world\./);
  });
  const args = () => ['-f', 'srt', '-o', '-', ...modelArgs()].map((a) => `'${a}'`).join(' ');

  for (const [how, extra] of decoders) {
    it(`process substitution <(cat talk.wav) gives the file's subtitles (${how})`, async () => {
      const r = await bash(`eval "$CLI" '<(cat "${talkWav}")' ${args()} ${extra.join(' ')}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(want);
      await expectClean(r, tmp);
    });

    it(`/dev/stdin with a pipe on stdin gives the file's subtitles (${how})`, async () => {
      const r = await bash(`cat "${talkWav}" | eval "$CLI" /dev/stdin ${args()} ${extra.join(' ')}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(want);
    });
  }

  it('a named FIFO whose writer starts after us gives the file\'s subtitles; outputs go beside it', async () => {
    const fifo = path.join(tmp, 'talk-fifo.wav');
    fs.rmSync(fifo, { force: true });
    execaSync('mkfifo', [fifo]);
    const r = await bash(`(sleep 1; cat "${talkWav}" > "${fifo}") & eval "$CLI" "${fifo}" -f srt ${modelArgs().map((a) => `'${a}'`).join(' ')}; wait`);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'talk-fifo.srt'), 'utf8')).toBe(`${want}\n`);
    await expectClean(r, tmp);
  });

  it('a named FIFO that nothing writes to: one line, exit 1, no hang', async () => {
    const fifo = path.join(tmp, 'nobody.fifo');
    fs.rmSync(fifo, { force: true });
    execaSync('mkfifo', [fifo]);
    const r = await bash(`eval "$CLI" "${fifo}" -o "${path.join(tmp, 'out-fifo')}" ${modelArgs().map((a) => `'${a}'`).join(' ')}`, { QWEN3ASR_PIPE_WAIT_SECONDS: '1' });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: ${fifo} is a pipe that nothing wrote to within 1 s — start the program that writes to it first, or give a file (QWEN3ASR_PIPE_WAIT_SECONDS sets the wait)`);
    expect(filesIn(path.join(tmp, 'out-fifo'))).toEqual([]);
    await expectClean(r, tmp);
  });
});

describe('inputs that decode as far as they hold audio: exit 0, complete outputs', () => {
  it('stdin that closes early (half an mp3 piped in) is transcribed up to where it stops', async () => {
    const mp3 = makeWithFfmpeg('stdin-half.mp3', ['-i', talkWav, '-c:a', 'libmp3lame', '-b:a', '64k']);
    const bytes = fs.readFileSync(mp3);
    const out = path.join(tmp, 'out-stdin-half');
    const r = await run(['-', '-f', 'json,txt', '-o', out, ...modelArgs()], { env, input: bytes.subarray(0, Math.floor(bytes.length / 2)) });
    expect(r.code).toBe(0);
    expect(filesIn(out)).toEqual(['stdin.json', 'stdin.txt']);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'stdin.json'), 'utf8'));
    const full = talk.length / SR;
    expect(json.duration).toBeGreaterThan(full * 0.3);
    expect(json.duration).toBeLessThan(full * 0.7);
    expect(fs.readFileSync(path.join(out, 'stdin.txt'), 'utf8')).toMatch(/^Hello world\./);
    await expectClean(r, tmp);
  });

  for (const [how, extra] of decoders) {
    it(`a WAV whose header claims more data than there is: the part that is there (${how})`, async () => {
      // Decision: transcribe what is there. ffmpeg does so (it warns only at -loglevel warning),
      // and so does wavefile; a download cut short still has its first hours, which are worth
      // having, and the transcript's duration says how much there was.
      const whole = wavBytes([Float64Array.from(talk)], SR, '16');
      const cut = Math.floor(whole.length * 0.6);
      const input = file(`lying-${how.replace(/\W/g, '')}.wav`, whole.subarray(0, cut));
      const out = path.join(tmp, `out-lying-${how.replace(/\W/g, '')}`);
      const r = await run([input, '-f', 'json,txt', '-o', out, ...extra, ...modelArgs()], { env });
      expect(r.stderr).not.toMatch(/error|warn|cannot|failed/i);
      expect(r.code).toBe(0);
      const json = JSON.parse(fs.readFileSync(path.join(out, path.basename(input, '.wav') + '.json'), 'utf8'));
      expect(json.duration).toBeCloseTo((cut - 44) / 2 / SR, 2);
      expect(fs.readFileSync(path.join(out, path.basename(input, '.wav') + '.txt'), 'utf8')).toMatch(/^Hello world\./);
      await expectClean(r, tmp);
    });

    it(`a 1-sample WAV is silence: empty outputs, exit 0 (${how})`, async () => {
      const input = file(`one-${how.replace(/\W/g, '')}.wav`, pcm16Wav(1));
      const out = path.join(tmp, `out-one-${how.replace(/\W/g, '')}`);
      const r = await run([input, '-f', 'srt,txt', '-o', out, ...extra, ...modelArgs()], { env });
      expect(r.stderr).not.toMatch(/error|warn|cannot|failed/i);
      expect(r.stderr).toContain(`${input}: no speech found in 0.0 s of audio: the outputs are empty`);
      expect(r.code).toBe(0);
      const stem = path.basename(input, '.wav');
      expect(filesIn(out)).toEqual([`${stem}.srt`, `${stem}.txt`]);
      expect(fs.readFileSync(path.join(out, `${stem}.srt`), 'utf8').trim()).toBe('');
      await expectClean(r, tmp);
    });

    it(`a 96 kHz 8-channel 24-bit WAV (${how})`, async () => {
      const input = path.join(tmp, `multi-${how.replace(/\W/g, '')}.wav`);
      const pan = `pan=7.1|${Array.from({ length: 8 }, (_, c) => `c${c}=c0`).join('|')}`;
      makeWithFfmpeg(path.basename(input), ['-i', talkWav, '-af', pan, '-ar', '96000', '-c:a', 'pcm_s24le']);
      const out = path.join(tmp, `out-multi-${how.replace(/\W/g, '')}`);
      const r = await run([input, '-f', 'json,txt', '-o', out, ...extra, ...modelArgs()], { env });
      expect(r.stderr).not.toMatch(/error|warn|cannot|failed/i);
      expect(r.code).toBe(0);
      const stem = path.basename(input, '.wav');
      expect(JSON.parse(fs.readFileSync(path.join(out, `${stem}.json`), 'utf8')).duration).toBeCloseTo(talk.length / SR, 1);
      expect(fs.readFileSync(path.join(out, `${stem}.txt`), 'utf8')).toMatch(/^Hello world\./);
      await expectClean(r, tmp);
    });
  }

  it('a path with spaces and non-ASCII characters; outputs go beside it', async () => {
    const input = file(path.join('dossier à part', 'Grüße 你好 talk (1).wav'), floatWavBytes(talk));
    const r = await run([input, '-f', 'srt,txt', ...modelArgs()], { env });
    expect(r.stderr).not.toMatch(/error|warn|cannot|failed/i);
    expect(r.code).toBe(0);
    expect(filesIn(path.dirname(input))).toEqual(['Grüße 你好 talk (1).srt', 'Grüße 你好 talk (1).txt', 'Grüße 你好 talk (1).wav']);
    expect(fs.readFileSync(path.join(path.dirname(input), 'Grüße 你好 talk (1).txt'), 'utf8')).toMatch(/^Hello world\./);
    await expectClean(r, tmp);
  });
});

describe('where outputs go: -o FILE, and stdout that cannot be written', () => {
  it('-o NAME.srt writes that one file, in the format its name says; a rerun keeps it; --force redoes it', async () => {
    const dest = path.join(tmp, 'out-named', 'subtitles of talk.srt');
    const r = await run([talkWav, '-o', dest, ...modelArgs()], { env });
    expect(r.stderr).not.toMatch(/error|cannot|failed/i);
    expect(r.code).toBe(0);
    expect(filesIn(path.dirname(dest))).toEqual(['subtitles of talk.srt']);
    expect(fs.readFileSync(dest, 'utf8')).toMatch(/^1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\nHello world\./);
    await expectClean(r, tmp);

    fs.writeFileSync(dest, 'edited by hand\n');
    const again = await run([talkWav, '-o', dest, ...modelArgs()], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/skipped, its outputs exist/);
    expect(fs.readFileSync(dest, 'utf8')).toBe('edited by hand\n');

    const forced = await run([talkWav, '-o', dest, '--force', ...modelArgs()], { env });
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(dest, 'utf8')).toMatch(/Hello world\./);
    expect(filesIn(path.dirname(dest))).toEqual(['subtitles of talk.srt']);
    await expectClean(forced, tmp);
  });

  it('an input name near the 255-byte limit: its outputs are written (temp names stay short)', async () => {
    const dir = path.join(tmp, 'long-names');
    const input = file(path.join('long-names', `${'ü'.repeat(120)}${'a'.repeat(6)}.wav`), floatWavBytes(talk)); // 250 bytes
    const r = await run([input, '-f', 'txt,json', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expect(filesIn(dir).map((f) => path.extname(f))).toEqual(['.json', '.txt', '.wav']);
    await expectClean(r, tmp);
  });

  it('an output name over the limit is one line before any work; the batch writes nothing', async () => {
    const dir = path.join(tmp, 'too-long');
    const short = file(path.join('too-long', 'short.wav'), floatWavBytes(talk));
    const long = file(path.join('too-long', `${'a'.repeat(251)}.wav`), floatWavBytes(talk)); // 255 bytes: legal
    const r = await run([short, long, '-f', 'json', ...modelArgs()], { env });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: the output name ${'a'.repeat(251)}.json is too long (256 bytes; file systems take 255) — rename the input, or name the output with -o FILE`);
    expect(filesIn(dir)).toEqual([`${'a'.repeat(251)}.wav`, 'short.wav']);
    await expectClean(r, tmp);
    // its txt fits (255 bytes)
    const txt = await run([long, '-f', 'txt', ...modelArgs()], { env });
    expect(txt.code).toBe(0);
    expect(filesIn(dir)).toContain(`${'a'.repeat(251)}.txt`);
  });

  it('an existing folder named like a file (out.srt/) stays a folder', async () => {
    const dir = path.join(tmp, 'folder.srt');
    fs.mkdirSync(dir, { recursive: true });
    const r = await run([talkWav, '-f', 'txt', '-o', dir, ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expect(filesIn(dir)).toEqual(['talk.txt']);
  });

  /** The CLI under bash, its stdout redirected or piped by `tail` (e.g. `> /dev/full`); `exit=N` ends stderr. */
  const shell = (args: string[], tail: string) => {
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return run([], { env, prefix: ['bash', '-c', `${quoted} ${tail}; echo "exit=\${PIPESTATUS[0]}" >&2`, 'bash'] });
  };
  const unwritable: Array<[string, string[], string, string]> = [
    ['/dev/full (the transcript)', ['-f', 'srt', '-o', '-'], '> /dev/full', 'no space left on the device'],
    ['/dev/full (the --json summary)', ['-f', 'txt', '-o', path.join(tmp, 'out-json-full'), '--json'], '> /dev/full', 'no space left on the device'],
    // `true` exits at once, so the transcript meets a pipe without a reader (EPIPE)
    ['a pipe whose reader has gone (-o - | true)', ['-f', 'srt', '-o', '-'], '| true', 'the reading end of the pipe was closed'],
  ];
  for (const [what, args, tail, why] of unwritable) {
    it(`stdout to ${what}: one line, exit 1, no stack`, async () => {
      const r = await shell([talkWav, ...args, ...modelArgs()], tail);
      const lines = r.stderr.trim().split('\n');
      // after what the run said before it wrote (the --json case lists the txt it wrote)
      expect(lines.slice(-2)).toEqual([`qwen3asr: cannot write to stdout: ${why}`, 'exit=1']);
      expect(lines.filter((l) => l.startsWith('qwen3asr:'))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      await expectClean(r, tmp);
    });
  }
});

describe('reruns know their input: finished means written by qwen3asr for this input, unchanged', () => {
  const quieter = () => talk.map((x) => x * 0.5);
  const json = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

  it('another input with the same output name is not skipped nor overwritten: one line, exit 1; --force replaces', async () => {
    const d1 = file(path.join('same-name', 'd1', '01.wav'), floatWavBytes(talk));
    const d2 = file(path.join('same-name', 'd2', '01.wav'), floatWavBytes(quieter()));
    const out = path.join(tmp, 'same-name', 'out');
    expect((await run([d1, '-f', 'json,txt', '-o', out, ...modelArgs()], { env })).code).toBe(0);
    const before = fs.readFileSync(path.join(out, '01.json'), 'utf8');
    const r = await run([d2, '-f', 'json,txt', '-o', out, ...modelArgs()], { env });
    expect(r.code).toBe(1);
    expectOneLine(r, `qwen3asr: ${path.join(out, '01.json')} holds the transcript of ${fs.realpathSync(d1)} — choose another output folder with -o, or --force to replace it`);
    expect(fs.readFileSync(path.join(out, '01.json'), 'utf8')).toBe(before);
    const forced = await run([d2, '-f', 'json,txt', '-o', out, '--force', ...modelArgs()], { env });
    expect(forced.code).toBe(0);
    expect(json(path.join(out, '01.json')).input).toBe(d2);
    await expectClean(forced, tmp);
  });

  it('an input changed since its outputs were written (same path) is transcribed again', async () => {
    const input = file(path.join('changed', 'talk.wav'), floatWavBytes(talk));
    expect((await run([input, '-f', 'json', ...modelArgs()], { env })).code).toBe(0);
    const first = json(path.join(tmp, 'changed', 'talk.json'));
    fs.writeFileSync(input, floatWavBytes(talk.subarray(0, Math.floor(talk.length / 2))));
    const r = await run([input, '-f', 'json', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/wrote .*talk\.json/);
    expect(json(path.join(tmp, 'changed', 'talk.json')).duration).toBeLessThan(first.duration * 0.6);
  });

  it('an srt from another tool beside our txt is kept and said so; a folder named talk.srt is one line', async () => {
    const input = file(path.join('foreign', 'talk.wav'), floatWavBytes(talk));
    const srt = path.join(tmp, 'foreign', 'talk.srt');
    fs.writeFileSync(srt, '1\n00:00:00,000 --> 00:00:01,000\nfrom another tool\n');
    const r = await run([input, '-f', 'txt,srt', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`qwen3asr: warning: ${srt} was not written by qwen3asr for ${input} (another tool's, or edited since): kept; --force replaces it`);
    expect(fs.readFileSync(srt, 'utf8')).toMatch(/from another tool/);
    expect(fs.readFileSync(path.join(tmp, 'foreign', 'talk.txt'), 'utf8')).toMatch(/Hello world\./);
    const again = await run([input, '-f', 'txt,srt', ...modelArgs()], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/talk\.srt was not written by qwen3asr .* kept/);
    expect(again.stderr).toMatch(/skipped, its outputs exist/);

    const folder = file(path.join('in-the-way', 'talk.wav'), floatWavBytes(talk));
    fs.mkdirSync(path.join(tmp, 'in-the-way', 'talk.srt'));
    const blocked = await run([folder, '-f', 'srt', ...modelArgs()], { env });
    expect(blocked.code).toBe(1);
    expectOneLine(blocked, `qwen3asr: ${path.join(tmp, 'in-the-way', 'talk.srt')} is in the way: it is not a file — move it away, or choose another output folder with -o`);
    await expectClean(blocked, tmp);
  });

  it('stdin is known by its bytes: the same audio again is skipped, other audio is not silently skipped', async () => {
    const out = path.join(tmp, 'stdin-rerun');
    const first = await run(['-', '-f', 'txt', '-o', out, ...modelArgs()], { env, input: floatWavBytes(talk) });
    expect(first.code).toBe(0);
    const same = await run(['-', '-f', 'txt', '-o', out, ...modelArgs()], { env, input: floatWavBytes(talk) });
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/stdin: skipped, its outputs exist \(the same audio as before\)/);
    const other = await run(['-', '-f', 'txt', '-o', out, ...modelArgs()], { env, input: floatWavBytes(quieter()) });
    expect(other.code).toBe(1);
    expectOneLine(other, `qwen3asr: ${path.join(out, 'stdin.txt')} holds the transcript of stdin or a pipe (other bytes) — choose another output folder with -o, or --force to replace it`);
    await expectClean(other, tmp);
  });

  it('an output that would be the input itself is a usage error, --force or not; the input is intact', async () => {
    const input = file(path.join('self', 'talk.srt'), floatWavBytes(talk)); // audio with a subtitle's name
    const bytes = fs.readFileSync(input);
    for (const extra of [[], ['--force']]) {
      const r = await run([input, '-f', 'srt', ...extra, ...modelArgs()], { env });
      expect(r.code).toBe(2);
      expectOneLine(r, `qwen3asr: the output ${input} would overwrite the input ${input} — choose another output folder or name with -o`);
    }
    expect(fs.readFileSync(input).equals(bytes)).toBe(true);
  });
});

describe("cue times follow the input's own timeline", () => {
  const srtStarts = (srt: string) => [...srt.matchAll(/^(\d\d):(\d\d):(\d\d),(\d{3}) -->/gm)].map((m) => +m[1] * 3600 + +m[2] * 60 + +m[3] + +m[4] / 1000);
  const srtEnds = (srt: string) => [...srt.matchAll(/--> (\d\d):(\d\d):(\d\d),(\d{3})$/gm)].map((m) => +m[1] * 3600 + +m[2] * 60 + +m[3] + +m[4] / 1000);

  it('an mkv whose audio starts 1.94 s into the file: the first cue starts after 1.94 s, not at 0', async () => {
    const mkv = makeWithFfmpeg('late-speech.mkv', ['-f', 'lavfi', '-i', `testsrc=d=${(talk.length / SR + 3).toFixed(1)}:s=64x48`, '-itsoffset', '1.94', '-i', talkWav, '-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', '-c:a', 'libopus']);
    const plain = await run([talkWav, '-f', 'srt', '-o', '-', ...modelArgs()], { env });
    const r = await run([mkv, '-f', 'srt', '-o', '-', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const [a, b] = [srtStarts(plain.stdout), srtStarts(r.stdout)];
    expect(b).toHaveLength(a.length);
    // every cue 1.94 s later than in the bare audio (within the VAD's 10 ms frames and opus' edges)
    for (let i = 0; i < a.length; i++) expect(Math.abs(b[i] - a[i] - 1.94)).toBeLessThan(0.08);
    await expectClean(r, tmp);
  });

  it('a damaged opus file (2 s of pages lost): later cues keep their times, and a warning names the gap', async () => {
    const opus = makeWithFfmpeg('talk-pages.opus', ['-i', talkWav, '-c:a', 'libopus', '-page_duration', '100000']);
    const bytes = fs.readFileSync(opus);
    const pages: number[] = [];
    for (let i = bytes.indexOf('OggS'); i >= 0; i = bytes.indexOf('OggS', i + 4)) pages.push(i);
    // ~0.1 s pages after the two header pages: cut 20 of them early on (the leading pause and the
    // first sentence); what was cut, in seconds, from the pages' granule positions (48 kHz)
    const granule = (k: number) => Number(bytes.readBigInt64LE(pages[k] + 6));
    const [from, to] = [2 + 3, 2 + 23];
    const cut = (granule(to - 1) - granule(from - 1)) / 48000;
    const damaged = file('talk-damaged.opus', Buffer.concat([bytes.subarray(0, pages[from]), bytes.subarray(pages[to])]));
    const whole = await run([opus, '-f', 'srt', '-o', '-', ...modelArgs()], { env });
    const r = await run([damaged, '-f', 'srt', '-o', '-', ...modelArgs()], { env });
    expect(r.code).toBe(0);
    expectOneLine(r, /^qwen3asr: warning: .*talk-damaged\.opus: [\d.]+ s of audio missing at 0:0\d\.\d \(damaged or missing data\): filled with silence, so later cues keep their times$/);
    const [, seconds, at] = /: ([\d.]+) s of audio missing at 0:(\d\d\.\d)/.exec(r.stderr)!;
    expect(Math.abs(Number(seconds) - cut)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(Number(at) - granule(from - 1) / 48000)).toBeLessThanOrEqual(0.15);
    // the last cue ends where the undamaged file's does (it would come 2 s early without the fill)
    expect(Math.abs(srtEnds(r.stdout).at(-1)! - srtEnds(whole.stdout).at(-1)!)).toBeLessThan(0.1);
    await expectClean(r, tmp);
  });

  it('--audio-stream picks the stream; a silent first stream says that another one exists', async () => {
    const mkv = makeWithFfmpeg('two-tracks.mkv', ['-f', 'lavfi', '-i', `anullsrc=r=16000:cl=mono:d=${(talk.length / SR).toFixed(2)}`, '-i', talkWav, '-map', '0:a', '-map', '1:a', '-c:a', 'flac']);
    const first = await run([mkv, '-f', 'txt', '-o', '-', ...modelArgs()], { env });
    expect(first.code).toBe(0);
    expectOneLine(first, `qwen3asr: warning: ${mkv}: no speech found in ${(talk.length / SR).toFixed(1)} s of audio: the outputs are empty, but audio stream 1 has speech: --audio-stream 1 picks it`);
    const second = await run([mkv, '-f', 'txt', '-o', '-', '--audio-stream', '1', ...modelArgs()], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Hello world\./);
    // both streams silent: said plainly, the other stream included
    const mute = makeWithFfmpeg('two-mute.mkv', ['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=3', '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=3', '-map', '0:a', '-map', '1:a', '-c:a', 'flac']);
    const quiet = await run([mute, '-f', 'txt', '-o', '-', ...modelArgs()], { env });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr.trim()).toBe(`${mute}: no speech found in 3.0 s of audio: the outputs are empty (nor in its other audio stream)`);
    const none = await run([mkv, '-f', 'txt', '-o', '-', '--audio-stream', '2', ...modelArgs()], { env });
    expect(none.code).toBe(1);
    expectOneLine(none, `qwen3asr: cannot decode ${mkv}: it has no audio stream 2: it has 2 (--audio-stream 0–1)`);
    await expectClean(none, tmp);
  });
});

describe('samples that are not numbers', () => {
  for (const [how, extra] of decoders) {
    it(`NaN and ±Inf in a float WAV are silence, said in one line with their count (${how})`, async () => {
      const bad = talk.slice();
      // inside the speech: 1000 NaN, 10 +Inf and 10 -Inf
      const at = Math.floor(bad.length / 2);
      for (let i = 0; i < 1000; i++) bad[at + i] = NaN;
      for (let i = 0; i < 10; i++) bad[at + 2000 + i] = Infinity;
      for (let i = 0; i < 10; i++) bad[at + 3000 + i] = -Infinity;
      const input = file(`nan-${how.replace(/\W+/g, '-')}.wav`, floatWavBytes(bad));
      const out = path.join(tmp, `out-nan-${how.replace(/\W+/g, '-')}`);
      const r = await run([input, '-f', 'txt', '-o', out, ...extra, ...modelArgs()], { env });
      expect(r.code).toBe(0);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('wrote '));
      expect(lines).toEqual([`qwen3asr: warning: ${input}: 1020 samples were not a number (NaN or infinite): transcribed as silence`]);
      expect(fs.readFileSync(path.join(out, path.basename(input, '.wav') + '.txt'), 'utf8')).toMatch(/^Hello world\./);
      await expectClean(r, tmp);
    });
  }
});

describe('WAV files without ffmpeg are read in blocks, and match ffmpeg', () => {
  // ffmpeg writes WAVE_FORMAT_EXTENSIBLE headers for float and for more than 2 channels; the
  // block reader reads them right (wavefile, used before for every WAV, misread extensible float).
  const cases: Array<[string, string[]]> = [
    ['44.1 kHz stereo float (extensible header)', ['-ar', '44100', '-ac', '2', '-c:a', 'pcm_f32le']],
    ['48 kHz 6-channel 24-bit (extensible header)', ['-af', 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0', '-ar', '48000', '-c:a', 'pcm_s24le']],
    ['22.05 kHz mono 8-bit (odd data length, padded chunk)', ['-ar', '22050', '-ac', '1', '-c:a', 'pcm_u8']],
    ['16 kHz mono 64-bit float', ['-ar', '16000', '-ac', '1', '-c:a', 'pcm_f64le']],
  ];
  for (const [what, args] of cases) {
    it(what, () => {
      const f = makeWithFfmpeg(`blocks-${what.replace(/\W+/g, '-')}.wav`, ['-f', 'lavfi', '-i', 'sine=f=440:d=1.3,volume=0.5', ...args]);
      const audio = decodeWavFile(f);
      const ours = audio.read(0, audio.length);
      const out = execaSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', f, '-rematrix_maxval', '1.0', '-ac', '1', '-ar', '16000', '-f', 'f32le', 'pipe:1'], { encoding: 'buffer' }).stdout as Uint8Array;
      const theirs = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
      expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
      const n = Math.min(ours.length, theirs.length);
      const diff = new Float32Array(n);
      for (let i = 0; i < n; i++) diff[i] = ours[i] - theirs[i];
      expect(rms(diff, 800, n - 800) / rms(theirs, 800, n - 800)).toBeLessThan(0.03);
    });
  }
});

function makeWithFfmpeg(name: string, args: string[]): string {
  const p = path.join(tmp, name);
  execaSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args, p]);
  return p;
}

function symlinkLoop(): string {
  const a = path.join(tmp, 'loop-a.wav');
  const b = path.join(tmp, 'loop-b.wav');
  fs.rmSync(a, { force: true });
  fs.rmSync(b, { force: true });
  fs.symlinkSync(b, a);
  fs.symlinkSync(a, b);
  return a;
}
