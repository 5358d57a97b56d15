/**
 * Reliability matrix, a 6-hour input: decoded and analysed in bounded memory. Six hours of
 * 16 kHz float32 is 1318 MiB. Through ffmpeg (every real input) the samples stream into a temp
 * file and are read a minute or a window at a time, so the peak holds none of them: only Node,
 * the analysis' per-frame arrays (100 floats per second) and the windows. The ffmpeg-free WAV
 * path keeps its samples in memory (its resampler wants them whole): the samples plus headroom.
 *
 * Two files, both cheap to make: a real compressed one (opus, a 1.2 s tone every 10 s: 2160
 * speech windows, made by looping a 10 s file with -c copy) decoded, analysed and windowed in a
 * child process that reports its peak RSS; and a sparse 6-hour WAV (silence: 691 MB that take
 * no disk) through the whole CLI, whose peak RSS a preloaded module records.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { BIN } from './helpers/cli.js';
import { filesIn } from './helpers/reliability.js';
import { pcm16WavHeader } from './fixtures/wav.js';

const HOURS = 6;
const SECONDS = HOURS * 3600;
const SAMPLES_MIB = (SECONDS * 16_000 * 4) / 2 ** 20; // 1318
/** Allowed above the samples themselves: Node, the analysis' per-frame arrays, the windows. */
const HEADROOM_MIB = 450;
/**
 * The whole peak when the samples are in a temp file: Node (~60 MiB), the analysis' per-frame
 * arrays (6 h = 2.16 M frames, a few float arrays: ~50 MiB), a minute of samples per read.
 */
const FILE_BACKED_MIB = 300;

const DIST = path.resolve(import.meta.dirname, '..', 'dist');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-rel-6h-'));
let model: SyntheticModel;

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sparseWav(file: string, seconds: number): void {
  const data = seconds * 16_000 * 2;
  const h = pcm16WavHeader(seconds * 16_000);
  fs.writeFileSync(file, h);
  fs.truncateSync(file, 44 + data);
}

describe(`a ${HOURS}-hour input`, () => {
  it('a 6-hour opus file is decoded, analysed and windowed in bounded memory, its samples in a temp file', async () => {
    const ten = path.join(tmp, 'ten.opus');
    const six = path.join(tmp, 'six.opus');
    const ff = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
    await execa('ffmpeg', [...ff, '-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:d=10', '-af', "volume='if(lt(t,1.2),0.3,0)':eval=frame", '-ac', '1', '-c:a', 'libopus', '-b:a', '12k', ten]);
    await execa('ffmpeg', [...ff, '-stream_loop', String(SECONDS / 10 - 1), '-i', ten, '-c', 'copy', six]);
    const probe = path.join(tmp, 'probe.mjs');
    fs.writeFileSync(
      probe,
      `import { decodeInput } from ${JSON.stringify(path.join(DIST, 'audio/decode.js'))};
import { analyseSpeech } from ${JSON.stringify(path.join(DIST, 'speech/speech-regions.js'))};
import { cutWindows } from ${JSON.stringify(path.join(DIST, 'windows/cut-windows.js'))};
const t0 = performance.now();
const audio = await decodeInput(process.argv[2], null);
const t1 = performance.now();
const a = analyseSpeech(audio);
const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 8, duration: a.duration });
const t2 = performance.now();
audio.close();
process.stdout.write(JSON.stringify({ seconds: audio.length / 16000, decodeS: (t1 - t0) / 1000, analyseS: (t2 - t1) / 1000, windows: ws.length, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`,
    );
    const r = await execa(process.execPath, [probe, six], { env: { TMPDIR: tmp } });
    const m = JSON.parse(r.stdout);
    console.log(`6 h opus: decode ${m.decodeS.toFixed(1)} s, analysis + windows ${m.analyseS.toFixed(1)} s, ${m.windows} windows, peak RSS ${Math.round(m.maxRssMiB)} MiB (samples alone: ${Math.round(SAMPLES_MIB)} MiB)`);
    expect(Math.abs(m.seconds - SECONDS)).toBeLessThan(SECONDS * 0.005); // opus adds 20 ms of pre-skip per loop
    expect(m.windows).toBe(SECONDS / 10);
    expect(m.maxRssMiB).toBeLessThan(FILE_BACKED_MIB);
    expect(filesIn(tmp).filter((f) => f.startsWith('qwen3asr-audio-'))).toEqual([]);
  }, 400_000);

  it('a sparse 6-hour WAV without ffmpeg is read in blocks: the samples plus bounded headroom', async () => {
    const wav = path.join(tmp, 'six-noffmpeg.wav');
    sparseWav(wav, SECONDS);
    const probe = path.join(tmp, 'probe-wav.mjs');
    fs.writeFileSync(
      probe,
      `import { decodeInput } from ${JSON.stringify(path.join(DIST, 'audio/decode.js'))};
const t0 = performance.now();
const audio = await decodeInput(process.argv[2], 'none');
process.stdout.write(JSON.stringify({ seconds: audio.length / 16000, decodeS: (performance.now() - t0) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`,
    );
    const m = JSON.parse((await execa(process.execPath, [probe, wav])).stdout);
    console.log(`6 h WAV without ffmpeg: decode ${m.decodeS.toFixed(1)} s, peak RSS ${Math.round(m.maxRssMiB)} MiB`);
    expect(m.seconds).toBe(SECONDS);
    expect(m.maxRssMiB).toBeLessThan(SAMPLES_MIB + HEADROOM_MIB);
    fs.rmSync(wav);
  }, 400_000);

  // From a file, and piped into stdin (691 MB that ffmpeg reads as they arrive, never held whole).
  for (const via of ['file', 'stdin'] as const) {
    it(`a sparse 6-hour WAV goes through the whole CLI (${via}): exit 0, one empty transcript, bounded memory, nothing left`, async () => {
      const wav = path.join(tmp, 'six hours.wav');
      if (!fs.existsSync(wav)) sparseWav(wav, SECONDS);
      const rssFile = path.join(tmp, `rss-${via}.json`);
      const preload = path.join(tmp, `rss-${via}.mjs`);
      fs.writeFileSync(
        preload,
        `import fs from 'node:fs';\nconst t0 = performance.now();\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024, seconds: (performance.now() - t0) / 1000 })));\n`,
      );
      const tmpdir = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
      const out = path.join(tmp, `out-${via}`);
      const r = await execa(process.execPath, ['--import', preload, BIN, via === 'file' ? wav : '-', '-f', 'txt,json', '-o', out, '-q', '--model', model.text, '--mmproj', model.mmproj], {
        env: { QWEN3ASR_BIN_DIR: inject('binDir'), TMPDIR: tmpdir },
        inputFile: via === 'stdin' ? wav : undefined,
        reject: false,
      });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const m = JSON.parse(fs.readFileSync(rssFile, 'utf8'));
      console.log(`6 h sparse WAV through the CLI (${via}): ${m.seconds.toFixed(1)} s, peak RSS ${Math.round(m.maxRssMiB)} MiB`);
      const name = via === 'file' ? 'six hours' : 'stdin';
      expect(filesIn(out)).toEqual([`${name}.json`, `${name}.txt`]);
      expect(JSON.parse(fs.readFileSync(path.join(out, `${name}.json`), 'utf8')).duration).toBe(SECONDS);
      expect(fs.readFileSync(path.join(out, `${name}.txt`), 'utf8').trim()).toBe('');
      expect(filesIn(tmpdir)).toEqual([]);
      expect(m.maxRssMiB).toBeLessThan(FILE_BACKED_MIB);
    }, 400_000);
  }
});
