/**
 * End to end on two hours: a compressed (FLAC) file made by looping a short espeak-ng talk with
 * known pauses, through the real CLI, the default server runner and a scripted tiny model. Long
 * inputs are where sample counting drifts, windows get lost at boundaries and outputs stop being
 * monotonic; the loop makes the expected speech times known for the whole two hours.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseSync, type NodeCue } from 'subtitle';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { runCli } from './helpers/cli.js';
import { script, sentences, speak, cleanupFixtures, SR } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';

const SECONDS = 2 * 3600;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-2h-test-'));
let model: SyntheticModel;
let base: { period: number; speech: { start: number; end: number }[] };
let file = '';

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
  // One period: six sentences with 1.2–2 s pauses (~25 s), looped to two hours by ffmpeg.
  const parts = sentences(6).map((s, i) => ({ pause: [1, 1.5, 2, 1.2, 1.8, 1.4][i], audio: speak(s) }));
  const s = script(parts, 1.3);
  base = { period: s.samples.length / SR, speech: s.speech };
  const wav = path.join(tmp, 'period.wav');
  fs.writeFileSync(wav, floatWavBytes(s.samples));
  file = path.join(tmp, 'two-hours.flac');
  const loops = Math.ceil(SECONDS / base.period);
  await execa('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', String(loops - 1), '-i', wav,
    '-t', String(SECONDS), '-ac', '1', '-c:a', 'flac', '-compression_level', '0', file]);
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a two-hour input through the model', () => {
  it('every window is transcribed, and every cue lies over the speech it came from, to the end', async () => {
    const out = path.join(tmp, 'out');
    const r = await runCli([file, '-f', 'srt,json', '-o', out, '--model', model.text, '--mmproj', model.mmproj, '--threads', '2'],
      { env: { QWEN3ASR_BIN_DIR: inject('binDir') } });
    expect(r.stderr).not.toMatch(/error|warning/i);
    expect(r.code).toBe(0);

    const json = JSON.parse(fs.readFileSync(path.join(out, 'two-hours.json'), 'utf8'));
    expect(json.duration).toBeCloseTo(SECONDS, 0);
    const loops = SECONDS / base.period;
    // At least one window per period of the loop, each at most 8 s, in order, none overlapping.
    expect(json.windows.length).toBeGreaterThanOrEqual(Math.floor(loops));
    let previous = 0;
    for (const w of json.windows) {
      expect(w).toMatchObject({ text: 'Hello world.', stop: 'eos' });
      expect(w.start).toBeGreaterThanOrEqual(previous - 1e-6);
      expect(w.end - w.start).toBeLessThanOrEqual(8 + 1e-6);
      previous = w.end;
    }
    expect(previous).toBeGreaterThan(SECONDS - base.period);

    // Cue times: monotonic, and each cue's middle falls on speech of its period, from the first
    // period to the last.
    const cues = parseSync(fs.readFileSync(path.join(out, 'two-hours.srt'), 'utf8'))
      .filter((n): n is NodeCue => n.type === 'cue').map((n) => n.data);
    expect(cues.length).toBe(json.cues.length);
    expect(cues.length).toBeGreaterThanOrEqual(json.windows.length);
    let previousEnd = 0;
    for (const c of cues) {
      expect(c.start).toBeGreaterThanOrEqual(previousEnd);
      expect(c.end).toBeGreaterThan(c.start);
      previousEnd = c.end;
      const mid = (c.start + c.end) / 2000;
      const inPeriod = mid - Math.floor(mid / base.period) * base.period;
      expect(base.speech.some((s) => inPeriod >= s.start - 0.35 && inPeriod <= s.end + 0.35)).toBe(true);
    }
    expect(cues[cues.length - 1].end / 1000).toBeGreaterThan(SECONDS - base.period);
  }, 1_200_000);
});
