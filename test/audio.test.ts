import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, looksLikeWav } from '../src/audio/wav.js';
import { SampleFileWriter } from '../src/audio/sample-file.js';
import { resample } from '../src/audio/resample.js';
import { decodeInput, withDecodedInput } from '../src/audio/decode.js';
import { findFfmpeg } from '../src/audio/ffmpeg.js';
import { UserError } from '../src/errors.js';
import { rms, tones, wavBytes, type Depth } from './helpers/signals.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-audio-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ffmpeg = findFfmpeg(null);
if (!ffmpeg) throw new Error('these tests need ffmpeg on PATH (.ci/run installs it)');

/** ffmpeg's own decode + resample of the same file: the oracle for ours. */
function ffmpegDecode(file: string): Float32Array {
  const out = execFileSync(ffmpeg!.path, ['-nostdin', '-loglevel', 'error', '-i', file, '-rematrix_maxval', '1.0', '-ac', '1', '-ar', '16000', '-f', 'f32le', 'pipe:1'], {
    maxBuffer: 1 << 28,
  });
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength - (out.byteLength % 4)));
}

// Tolerance: our Kaiser-windowed sinc and ffmpeg's swr filter differ in their transition band
// and edge handling, so compare away from the ends (50 ms) with in-band tones (≤ 3.5 kHz), where
// both pass the signal essentially untouched: the difference must stay 40 dB below the signal.
const EDGE = 800;
const MAX_RELATIVE_ERROR = 0.01;

describe('WAV decoding without ffmpeg matches ffmpeg', () => {
  const cases: Array<{ rate: number; channels: number; depth: Depth }> = [
    { rate: 8000, channels: 1, depth: '16' },
    { rate: 16000, channels: 1, depth: '16' },
    { rate: 22050, channels: 1, depth: '8' },
    { rate: 44100, channels: 1, depth: '16' },
    { rate: 48000, channels: 2, depth: '16' },
    { rate: 48000, channels: 1, depth: '24' },
    { rate: 32000, channels: 1, depth: '32' },
    { rate: 44100, channels: 2, depth: '32f' },
  ];
  for (const c of cases) {
    it(`${c.rate} Hz, ${c.channels} ch, ${c.depth}-bit`, () => {
      const freqs = c.rate >= 16000 ? [220, 1250, 3400] : [220, 1250, 3100];
      const chans = Array.from({ length: c.channels }, (_, k) => tones(freqs.map((f) => f + 37 * k), 1.5, c.rate));
      const file = path.join(tmp, `t-${c.rate}-${c.channels}-${c.depth}.wav`);
      fs.writeFileSync(file, wavBytes(chans, c.rate, c.depth));
      const audio = decodeWav(fs.readFileSync(file));
      const ours = audio.read(0, audio.length);
      const theirs = ffmpegDecode(file);
      expect(audio.sampleRate).toBe(16000);
      expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
      const n = Math.min(ours.length, theirs.length);
      const diff = new Float32Array(n);
      for (let i = 0; i < n; i++) diff[i] = ours[i] - theirs[i];
      const rel = rms(diff, EDGE, n - EDGE) / rms(theirs, EDGE, n - EDGE);
      expect(rel).toBeLessThan(c.depth === '8' ? 0.03 : MAX_RELATIVE_ERROR);
    });
  }

  it('does not alias: a 12 kHz tone at 48 kHz vanishes at 16 kHz (a nearest-sample resampler would fold it to 4 kHz)', () => {
    const x = Float32Array.from(tones([12000], 1, 48000, 0.5));
    const y = resample(x, 48000, 16000);
    expect(rms(y, EDGE, y.length - EDGE) / rms(x)).toBeLessThan(0.001);
  });

  it('keeps an in-band tone at full level through 44.1 kHz → 16 kHz', () => {
    const x = Float32Array.from(tones([1000], 1, 44100, 0.5));
    const y = resample(x, 44100, 16000);
    expect(rms(y, EDGE, y.length - EDGE) / rms(x)).toBeCloseTo(1, 2);
  });

  it('recognises WAV by its RIFF header', () => {
    expect(looksLikeWav(wavBytes([tones([440], 0.1, 16000)], 16000, '16'))).toBe(true);
    expect(looksLikeWav(new TextEncoder().encode('hello world, not audio'))).toBe(false);
  });

  it('rejects a corrupt WAV with a clear error', async () => {
    const good = wavBytes([tones([440], 0.5, 16000)], 16000, '16');
    const file = path.join(tmp, 'truncated.wav');
    fs.writeFileSync(file, good.subarray(0, 30));
    await expect(decodeInput(file, 'none')).rejects.toThrow(/cannot decode .*truncated\.wav: not a valid WAV file/);
  });
});

describe('ffmpeg input', () => {
  for (const [ext, args] of [
    ['mp3', ['-c:a', 'libmp3lame', '-b:a', '128k']],
    ['mp4', ['-f', 'lavfi', '-i', 'color=c=black:s=64x64:d=2', '-shortest', '-c:v', 'libx264', '-c:a', 'aac']],
    ['flac', ['-c:a', 'flac']],
  ] as const) {
    it(`decodes ${ext} made by ffmpeg to 16 kHz mono with the content intact`, async () => {
      const src = path.join(tmp, `src-${ext}.wav`);
      fs.writeFileSync(src, wavBytes([tones([440], 2, 44100, 0.4), tones([440], 2, 44100, 0.4)], 44100, '16'));
      const file = path.join(tmp, `clip.${ext}`);
      const extra = ext === 'mp4' ? ['-i', src, ...args.slice(0, 4), '-map', '1:v', '-map', '0:a', ...args.slice(4)] : ['-i', src, ...args];
      execFileSync(ffmpeg!.path, ['-nostdin', '-loglevel', 'error', '-y', ...(ext === 'mp4' ? extra : extra), file]);
      const samples = await withDecodedInput(file, null, async (audio) => {
        expect(audio.sampleRate).toBe(16000);
        return audio.read(0, audio.length);
      });
      expect(samples.length / 16000).toBeGreaterThan(1.9);
      expect(samples.length / 16000).toBeLessThan(2.2);
      // 0.4-amplitude sine: RMS 0.283 (lossy codecs shave a little).
      expect(rms(samples, 4000, 28000)).toBeGreaterThan(0.25);
      expect(rms(samples, 4000, 28000)).toBeLessThan(0.31);
    });
  }

  it('says a video without audio has no audio track', async () => {
    const file = path.join(tmp, 'silent-video.mp4');
    execFileSync(ffmpeg!.path, ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=64x64:d=1', '-c:v', 'libx264', file]);
    await expect(decodeInput(file, null)).rejects.toThrow(/has no audio track/);
  });

  it('says a text file is not audio, with or without ffmpeg', async () => {
    const file = path.join(tmp, 'notes.txt');
    fs.writeFileSync(file, 'just some words\n');
    await expect(decodeInput(file, null)).rejects.toThrow(/not an audio or video file/);
    const err = await decodeInput(file, 'none').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/not a WAV file and ffmpeg is turned off/);
    expect((err as UserError).hint).toMatch(/QWEN3ASR_FFMPEG/);
  });
});

describe('decoded audio lives in a temp file, not in memory', () => {
  /** Runs `fn` with os.tmpdir() pointing at a fresh folder (the decoder's temp files go there). */
  async function inPrivateTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      return await fn(dir);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  }

  it('reads any stretch exactly as ffmpeg decoded it, from a file no one else can see', async () => {
    const src = path.join(tmp, 'stretch-src.wav');
    fs.writeFileSync(src, wavBytes([tones([300, 1700], 95, 44100, 0.3)], 44100, '16'));
    const file = path.join(tmp, 'stretch.mp3');
    execFileSync(ffmpeg!.path, ['-nostdin', '-loglevel', 'error', '-y', '-i', src, '-c:a', 'libmp3lame', '-b:a', '64k', file]);
    const want = ffmpegDecode(file);
    await inPrivateTmp(async (dir) => {
      const audio = await decodeInput(file, null);
      // Already unlinked (POSIX): the open descriptor keeps it, and a SIGKILL cannot leave it behind.
      if (process.platform !== 'win32') expect(fs.readdirSync(dir)).toEqual([]);
      expect(audio.length).toBe(want.length);
      for (const [a, b] of [[0, 1], [0, 16000], [777_777, 800_000], [want.length - 5, want.length]]) {
        expect(audio.read(a, b)).toEqual(want.slice(a, b));
      }
      // Clamped to the audio, as an array's slice is.
      expect(audio.read(-50, 3)).toEqual(want.slice(0, 3));
      expect(audio.read(want.length - 2, want.length + 100)).toEqual(want.slice(want.length - 2));
      expect(audio.read(want.length + 10, want.length + 20)).toEqual(new Float32Array(0));
      audio.close();
      expect(fs.readdirSync(dir)).toEqual([]);
      expect(() => audio.read(0, 10)).toThrow(/after close/);
      audio.close(); // twice is harmless
    });
  });

  it('a decode that fails leaves no temp file', async () => {
    const file = path.join(tmp, 'not-audio.bin');
    fs.writeFileSync(file, Buffer.alloc(4096, 7));
    await inPrivateTmp(async (dir) => {
      await expect(decodeInput(file, null)).rejects.toThrow(/cannot decode/);
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });

  it('a 0-sample input leaves no temp file', async () => {
    const file = path.join(tmp, 'zero.wav');
    fs.writeFileSync(file, wavBytes([new Float64Array(0)], 16000, '16'));
    await inPrivateTmp(async (dir) => {
      await expect(decodeInput(file, null)).rejects.toThrow(/holds no audio/);
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });
});

describe('the sample file takes ffmpeg chunks split anywhere', () => {
  it('samples split across chunks of 1–7 bytes read back exactly; NaN/±Inf become 0 and are counted', () => {
    const samples = new Float32Array(1001);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.sin(i / 7) * 0.5;
    samples[3] = NaN;
    samples[500] = Infinity;
    samples[1000] = -Infinity;
    const bytes = new Uint8Array(samples.buffer.slice(0));
    const writer = new SampleFileWriter();
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const n = 1 + (k % 7);
      writer.push(bytes.subarray(at, at + n));
      at += n;
    }
    writer.push(new Uint8Array([1, 2])); // a trailing partial sample is dropped
    const audio = writer.finish();
    try {
      expect(audio.length).toBe(samples.length);
      expect(audio.repaired).toBe(3);
      const want = samples.map((x) => (Number.isFinite(x) ? x : 0));
      expect(audio.read(0, audio.length)).toEqual(want);
    } finally {
      audio.close();
    }
  });
});

describe("the input's own timeline", () => {
  const ff = (...args: string[]) => execFileSync(ffmpeg!.path, ['-nostdin', '-loglevel', 'error', '-y', ...args]);
  const tone = (name: string, seconds: number) => {
    const f = path.join(tmp, name);
    ff('-f', 'lavfi', '-i', `sine=f=440:d=${seconds},volume=0.5`, '-ar', '48000', f);
    return f;
  };
  /** The first sample index (from `from`) whose magnitude is over 0.05. */
  const firstSound = (x: Float32Array, from = 0) => {
    for (let i = from; i < x.length; i++) if (Math.abs(x[i]) > 0.05) return i;
    return -1;
  };

  it('an mkv whose audio starts 1.94 s after the video: the samples start at the file\'s 0, said in the timeline', async () => {
    const wav = tone('late.wav', 5);
    const mkv = path.join(tmp, 'late.mkv');
    ff('-f', 'lavfi', '-i', 'testsrc=d=7:s=64x48', '-itsoffset', '1.94', '-i', wav, '-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', '-c:a', 'libopus', mkv);
    const audio = await decodeInput(mkv, null);
    try {
      const x = audio.read(0, audio.length);
      expect(firstSound(x) / 16000).toBeGreaterThan(1.9);
      expect(firstSound(x) / 16000).toBeLessThan(2.0);
      expect(audio.length / 16000).toBeCloseTo(6.94, 1);
      expect(audio.timeline?.startSeconds).toBeCloseTo(1.94, 1);
      expect(audio.timeline?.gaps).toEqual([]);
    } finally {
      audio.close();
    }
  });

  it('an ogg/opus file with pages cut out: the gap is filled with silence (later audio keeps its time) and named', async () => {
    // beeps of 0.2 s every second: the one at 7 s must still come at 7 s after a cut
    const src = path.join(tmp, 'beeps.wav');
    ff('-f', 'lavfi', '-i', "aevalsrc='0.5*sin(2*PI*440*t)*lt(mod(t,1),0.2)':d=10:s=48000", src);
    const ogg = path.join(tmp, 'beeps.opus');
    ff('-i', src, '-c:a', 'libopus', '-page_duration', '100000', ogg);
    const bytes = fs.readFileSync(ogg);
    const pages: number[] = [];
    for (let i = bytes.indexOf('OggS'); i >= 0; i = bytes.indexOf('OggS', i + 4)) pages.push(i);
    // pages are 0.1 s each after the two header pages: cut 3.05 s..5.05 s or so (20 pages)
    const from = pages[2 + 30];
    const to = pages[2 + 50];
    const damaged = path.join(tmp, 'damaged.opus');
    fs.writeFileSync(damaged, Buffer.concat([bytes.subarray(0, from), bytes.subarray(to)]));
    const audio = await decodeInput(damaged, null);
    try {
      const x = audio.read(0, audio.length);
      expect(audio.length / 16000).toBeCloseTo(10, 0);
      // the beep at 7 s is where it was, not 2 s early
      expect(firstSound(x, Math.round(6.5 * 16000)) / 16000).toBeCloseTo(7, 1);
      expect(audio.timeline?.startSeconds).toBe(0);
      expect(audio.timeline?.gaps).toHaveLength(1);
      const gap = audio.timeline!.gaps[0];
      expect(gap.seconds).toBeGreaterThan(1.7);
      expect(gap.seconds).toBeLessThan(2.3);
      expect(gap.at).toBeGreaterThan(2.8);
      expect(gap.at).toBeLessThan(3.4);
    } finally {
      audio.close();
    }
  });

  it('a clean file reports no start offset and no gap (mp3 with its encoder delay, flac)', async () => {
    const wav = tone('clean.wav', 3);
    for (const [ext, codec] of [['mp3', 'libmp3lame'], ['flac', 'flac']]) {
      const f = path.join(tmp, `clean.${ext}`);
      ff('-i', wav, '-c:a', codec, f);
      const audio = await decodeInput(f, null);
      expect(audio.timeline).toEqual({ startSeconds: 0, gaps: [], audioStreams: 1 });
      expect(audio.length / 16000).toBeCloseTo(3, 1);
      audio.close();
    }
  });

  it('--audio-stream picks the stream; one that is not there names how many there are', async () => {
    const mkv = path.join(tmp, 'two-streams.mkv');
    ff('-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono:d=2', '-f', 'lavfi', '-i', 'sine=f=440:d=2,volume=0.5', '-map', '0:a', '-map', '1:a', '-c:a', 'flac', mkv);
    const first = await decodeInput(mkv, null);
    expect(first.timeline?.audioStreams).toBe(2);
    expect(rms(first.read(0, first.length), 0, first.length)).toBeLessThan(1e-4);
    first.close();
    const second = await decodeInput(mkv, null, { audioStream: 1 });
    expect(rms(second.read(0, second.length), 1000, second.length - 1000)).toBeGreaterThan(0.03); // sine's 1/8 × 0.5
    second.close();
    await expect(decodeInput(mkv, null, { audioStream: 5 })).rejects.toThrow(`cannot decode ${mkv}: it has no audio stream 5: it has 2 (--audio-stream 0–1)`);
  });
});
