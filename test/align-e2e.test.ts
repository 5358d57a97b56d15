/**
 * Word timestamps end to end: synthetic Qwen3-ForcedAligner checkpoints (random weights, the real
 * layout and 5000 classes), converted by our converter, run by the patched llama-server
 * (`--embeddings --pooling none`, one row of class scores per <timestamp>), against
 *  - the float64 reference of the aligner's forward pass (test/reference/qwen3_aligner.py: encoder,
 *    Qwen3 decoder, head), on the same audio and token ids: logits within a stated bound, the same
 *    class wherever the reference's top-2 margin exceeds that bound;
 *  - the whole CLI: `qwen3asr talk.wav -f srt,json --aligner …` gives each window the words the
 *    server and the reference give for it, and cues that start and end at their words and never
 *    cross a pause;
 *  - an aligner built to answer known times (`timed`: a previous-token attention head and a head
 *    that maps each word to its classes) on speech whose words are where it says: the cues lie on
 *    the known speech, one per word across the pause.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, syntheticAligner, type SyntheticAligner } from './helpers/models.js';
import { HubServer } from './helpers/hub-server.js';
import { runCli } from './helpers/cli.js';
import { concat, script, sentences, silence, speak, trimSilence, cleanupFixtures, SR } from './fixtures/speech.js';
import { generateSyntheticAligner } from '../src/synthetic/synthetic-aligner.js';
import { convertCheckpoint } from '../src/convert/convert-checkpoint.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';
import { startServer, type RunningServer } from '../src/runner/local/server-process.js';
import { requestJson } from '../src/runner/http/http-json.js';
import { alignerCall, argmax } from '../src/align/aligner-call.js';
import { alignerContext } from '../src/align/aligner.js';
import { validateModelPair } from '../src/models/validate.js';
import { alignerPrompt, placeWords } from '../src/align/align-window.js';
import { alignUnits } from '../src/align/units.js';
import { fixTimestamps } from '../src/align/fix-timestamps.js';
import { MEDIA_MARKER } from '../src/runner/request/prompt.js';
import { MIN_DURATION, buildCues } from '../src/cues/build-cues.js';
import { PAUSE_SECONDS } from '../src/cues/word-timing.js';
import { renderSrt } from '../src/writers/srt.js';
import type { WindowResult } from '../src/transcript/window-result.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REF = path.join(HERE, 'reference');
const PYTHON = '/usr/bin/python3';
const GGUF_PY = path.join(inject('llamaSource') || path.join(os.homedir(), '.cache/qwen3asr/src/llama.cpp-fd570ef5'), 'gguf-py');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-align-e2e-'));
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function py(args: string[]): any {
  const r = spawnSync(PYTHON, args, { env: { ...process.env, PYTHONPATH: GGUF_PY }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function readF32(file: string): { rows: number; cols: number; data: Float32Array } {
  const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { rows: number; cols: number };
  const b = fs.readFileSync(file);
  return { ...meta, data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) };
}

/** 16-bit mono WAV: what the reference reads; its samples are exactly representable as floats. */
function s16Wav(file: string, samples: Float32Array): Float32Array {
  const q = new Int16Array(samples.length);
  for (let i = 0; i < q.length; i++) q[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + q.byteLength, 4); h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(SR, 24);
  h.writeUInt32LE(SR * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(q.byteLength, 40);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(q.buffer)]));
  return Float32Array.from(q, (v) => v / 32768);
}

async function alignerServer(m: SyntheticAligner, windowSeconds = 8): Promise<RunningServer> {
  const context = alignerContext(windowSeconds);
  return startServer({
    server: inject('server'), model: m.text, mmproj: m.mmproj, threads: 2, slots: 1, slotContext: context,
    extraArgs: ['--embeddings', '--pooling', 'none', '-b', String(context), '-ub', String(context)],
  });
}

/** The prompt's text ids after <|audio_end|>, as the server tokenizes them. */
async function textIds(url: string, prompt: string): Promise<number[]> {
  const r = (await requestJson(url, '/tokenize', { content: prompt.replace(MEDIA_MARKER, ''), add_special: false, parse_special: true }, 30_000)) as { tokens: number[] };
  return r.tokens;
}

interface Reference {
  timestamps: { pos: number; cls: number; ms: number; margin: number }[];
  logits: { rows: number; cols: number; data: Float32Array };
}

function reference(m: SyntheticAligner, wav: string, ids: number[], tag: string): Reference {
  const out = path.join(tmp, `${tag}-logits.f32`);
  const j = py([path.join(REF, 'qwen3_aligner.py'), 'align', '--text', m.text, '--mmproj', m.mmproj, '--wav', wav, '--ids', ids.join(','), '--out-logits', out]);
  return { timestamps: j.timestamps, logits: readF32(out) };
}

const TEXT = 'hello world, this is a test of the words.';

describe.each([
  // shape, outType, bound on max |ours − ref| / max |ref| over the timestamp rows (measured:
  // f16 ≤ 2.1e-3, most of it llama.cpp's f16 KV cache; q8_0 ≤ 1.4e-2, ggml quantizing activations)
  ['tiny', 'f16', 5e-3],
  ['small', 'f16', 5e-3],
  ['tiny', 'q8_0', 3e-2],
] as const)('the %s aligner (%s) against the float64 reference', (shape, outType, bound) => {
  let m: SyntheticAligner;
  let server: RunningServer;
  beforeAll(async () => {
    m = await syntheticAligner(shape, { outType });
    server = await alignerServer(m);
  });
  afterAll(async () => server?.stop());

  it.each([2.7, 7.9])('%s s: the same logits within the bound and the same classes where they are clear', async (seconds) => {
    const tag = `${shape}-${outType}-${seconds}`;
    const wav = path.join(tmp, `${tag}.wav`);
    py([path.join(REF, 'qwen3asr_encoder.py'), 'wav', '--seconds', String(seconds), '--out', wav, '--seed', '3']);
    const samples = readWavS16(wav);
    const units = alignUnits(TEXT, 'English');
    const prompt = alignerPrompt(units);
    const ids = await textIds(server.url, prompt);
    const meta = validateModelPair(m.text, m.mmproj).aligner!;
    expect(ids.filter((t) => t === meta.timestampToken)).toHaveLength(2 * units.length);

    const answer = (await requestJson(server.url, '/embeddings', {
      content: { prompt_string: prompt, multimodal_data: [floatWavBytes(samples).toString('base64')] },
      output_token: meta.timestampToken,
    }, 60_000)) as { embedding: number[][] }[];
    const rows = answer[0].embedding;
    const ref = reference(m, wav, ids, tag);
    expect(rows).toHaveLength(2 * units.length);
    expect(ref.logits.rows).toBe(rows.length);
    expect(ref.logits.cols).toBe(5000);

    let maxDiff = 0;
    let maxRef = 0;
    rows.forEach((row, r) => {
      expect(row).toHaveLength(5000);
      for (let c = 0; c < row.length; c++) {
        const x = ref.logits.data[r * 5000 + c];
        maxDiff = Math.max(maxDiff, Math.abs(row[c] - x));
        maxRef = Math.max(maxRef, Math.abs(x));
      }
    });
    const rel = maxDiff / maxRef;
    console.log(`[align] ${tag}: max |ours − ref| ${maxDiff.toExponential(2)} over max |ref| ${maxRef.toFixed(3)} (${rel.toExponential(2)} relative)`);
    expect(rel).toBeLessThan(bound);
    // The class where the reference's choice is clear of our error; and the call our pipeline makes.
    const ours = rows.map((r) => argmax(r));
    const classes = await alignerCall(server.url, meta.timestampToken, 60_000)(samples, prompt);
    expect(classes).toEqual(ours);
    let clear = 0;
    ref.timestamps.forEach((t, i) => {
      if (t.margin > 2 * maxDiff) {
        clear++;
        expect(ours[i]).toBe(t.cls);
      }
    });
    expect(clear).toBeGreaterThan(0);
  });
});

function readWavS16(file: string): Float32Array {
  const b = fs.readFileSync(file);
  const data = b.indexOf('data');
  const n = b.readUInt32LE(data + 4) / 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readInt16LE(data + 8 + 2 * i) / 32768;
  return out;
}

describe('qwen3asr with --aligner', () => {
  const SCRIPT = 'language English<asr_text>Hello world.<|im_end|>';
  let talk: { file: string; samples: Float32Array; speech: { start: number; end: number }[] };
  let asr: { text: string; mmproj: string };
  let aligner: SyntheticAligner;
  let env: Record<string, string>;
  beforeAll(async () => {
    asr = await ensureSyntheticModel('tiny', { script: SCRIPT });
    aligner = await syntheticAligner('tiny');
    // Three sentences with 1.5 s pauses.
    const s = script(sentences(3).map((t, i) => ({ pause: i === 0 ? 1 : 1.5, audio: speak(t) })), 1.2);
    const file = path.join(tmp, 'talk.wav');
    talk = { file, samples: s16Wav(file, s.samples), speech: s.speech };
    env = { QWEN3ASR_BIN_DIR: inject('binDir') };
  });

  it('gives every window the reference’s words and times the cues by them', async () => {
    const out = path.join(tmp, 'out');
    const r = await runCli([talk.file, '-f', 'srt,json,vtt', '-o', out, '--model', asr.text, '--mmproj', asr.mmproj, '--aligner', aligner.text, '--threads', '2', '--highlight-words'], { env });
    expect(r.stderr).not.toMatch(/error|warn|fail/i);
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'));
    const meta = validateModelPair(aligner.text, aligner.mmproj).aligner!;
    const server = await alignerServer(aligner);
    let compared = 0;
    try {
      for (const w of json.windows) {
        expect(w.text).toBe('Hello world.');
        expect(w.words.map((x: { text: string }) => x.text)).toEqual(['Hello', 'world']);
        // The reference on exactly the samples the pipeline sent for this window.
        const from = Math.floor(w.start * SR);
        const to = Math.min(talk.samples.length, Math.ceil(w.end * SR));
        const wav = path.join(tmp, `w${w.index}.wav`);
        s16Wav(wav, talk.samples.subarray(from, to));
        const units = alignUnits(w.text, 'English');
        const ids = await textIds(server.url, alignerPrompt(units));
        const ref = reference(aligner, wav, ids, `w${w.index}`);
        // What the pipeline wrote is what the aligner says for these samples, fixed and placed...
        const classes = await alignerCall(server.url, meta.timestampToken, 60_000)(readWavS16(wav), alignerPrompt(units));
        const words = placeWords(units, fixTimestamps(classes.map((c) => c * meta.segmentMs)), w.start, w.end);
        expect(w.words).toEqual(words.map((x) => ({ text: x.text, start: Math.round(x.start * 1000) / 1000, end: Math.round(x.end * 1000) / 1000 })));
        // ...and that is the reference's class at every timestamp it calls clearly (top-2 margin over our error).
        ref.timestamps.forEach((t, i) => {
          if (t.margin < 2e-2) return;
          compared++;
          expect(classes[i]).toBe(t.cls);
        });
        for (const x of w.words) {
          expect(x.start).toBeGreaterThanOrEqual(w.start - 1e-3);
          expect(x.end).toBeLessThanOrEqual(w.end + 1e-3);
          expect(x.end).toBeGreaterThanOrEqual(x.start);
        }
        expect(meta.segmentMs).toBe(80);
      }
    } finally {
      await server.stop();
    }
    expect(compared).toBeGreaterThan(0);
    // The srt is the cues of those words, and the cues keep to them.
    const results: WindowResult[] = json.windows.map((w: any) => ({
      window: { index: w.index, start: w.start, end: w.end, speech: [{ start: w.start, end: w.end }] },
      language: w.language, text: w.text, ms: 0, stop: w.stop, tokens: w.tokens,
      words: w.words.map((x: any) => {
        const u = alignUnits(w.text, 'English').find((y) => y.text === x.text)!;
        return { ...x, from: u.from, to: u.to };
      }),
    }));
    const cues = buildCues(results);
    expect(fs.readFileSync(path.join(out, 'talk.srt'), 'utf8')).toBe(renderSrt(cues));
    let byWords = 0;
    for (const [i, c] of cues.entries()) {
      if (!c.marks) continue; // a window whose words all fell on one instant keeps the timing by characters
      byWords++;
      const ws = results.find((x) => x.window.start <= c.start && c.start <= x.window.end)!.words!;
      expect(c.start).toBe(ws[0].start);
      const next = i + 1 < cues.length ? cues[i + 1].start : Infinity;
      expect(c.end).toBeCloseTo(Math.min(Math.max(ws[ws.length - 1].end, c.start + MIN_DURATION), next), 9);
      for (let k = 1; k < ws.length; k++) if (ws[k].start - ws[k - 1].end >= PAUSE_SECONDS) expect(c.end).toBeLessThanOrEqual(ws[k].start);
    }
    console.log(`[align] ${byWords} of ${cues.length} cues timed by words`);
    const vtt = fs.readFileSync(path.join(out, 'talk.vtt'), 'utf8');
    expect(vtt.startsWith('WEBVTT')).toBe(true);
  });

  it('--align off keeps the timing by characters; --align on without an aligner says so in one line', async () => {
    const out = path.join(tmp, 'off');
    const r = await runCli([talk.file, '-f', 'json', '-o', out, '--model', asr.text, '--mmproj', asr.mmproj, '--aligner', aligner.text, '--align', 'off', '--threads', '2'], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'));
    for (const w of json.windows) expect(w.words).toBeUndefined();
    const cache = fs.mkdtempSync(path.join(tmp, 'cache-'));
    const bad = await runCli([talk.file, '-f', 'json', '-o', path.join(tmp, 'on'), '--model', asr.text, '--mmproj', asr.mmproj, '--align', 'on', '--threads', '2'], {
      env: { ...env, XDG_CACHE_HOME: cache, HF_ENDPOINT: 'http://127.0.0.1:9' },
    });
    console.log(`[align] --align on, no aligner: ${bad.stderr.trim()}`);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(bad.stderr.includes('hint') ? 2 : 1);
    expect(bad.stderr).toMatch(/aligner|Qwen3-ForcedAligner/);
    expect(fs.existsSync(path.join(tmp, 'on', 'talk.json'))).toBe(false);
  });

  it('a language the aligner does not know keeps the timing by characters, said once', async () => {
    const out = path.join(tmp, 'ar');
    const r = await runCli([talk.file, '-f', 'json', '-o', out, '--model', asr.text, '--mmproj', asr.mmproj, '--aligner', aligner.text, '--language', 'Arabic', '--threads', '2'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => /the aligner does not know Arabic/.test(l))).toHaveLength(1);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'));
    expect(json.windows.length).toBeGreaterThan(1);
    for (const w of json.windows) expect(w.words).toBeUndefined();
  });

  it('an ASR model given as --aligner, or the aligner as --model, is one clear line', async () => {
    const r = await runCli([talk.file, '-f', 'json', '-o', path.join(tmp, 'wrong'), '--model', asr.text, '--mmproj', asr.mmproj, '--aligner', asr.text, '--threads', '2'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a forced aligner/);
    const swapped = await runCli([talk.file, '-f', 'json', '-o', path.join(tmp, 'swapped'), '--model', aligner.text, '--threads', '2'], { env });
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toMatch(/is the forced aligner, which times words but cannot transcribe/);
    expect(fs.existsSync(path.join(tmp, 'swapped', 'talk.json'))).toBe(false);
  });
});

describe('the aligner from the catalog', () => {
  const REPO = 'Qwen/Qwen3-ForcedAligner-0.6B';
  const hub = new HubServer();
  let files: Record<string, Buffer>;
  let asr: { text: string; mmproj: string };
  let wav: string;
  beforeAll(async () => {
    await hub.start();
    const m = await syntheticAligner('tiny');
    files = Object.fromEntries(fs.readdirSync(m.dir).map((f) => [f, fs.readFileSync(path.join(m.dir, f))]));
    asr = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
    wav = path.join(tmp, 'hello.wav');
    s16Wav(wav, script([{ pause: 0.5, audio: speak('Hello world.') }], 0.5).samples);
  });
  afterAll(() => hub.stop());

  it('`--align on` fetches the official checkpoint (each file checked), converts it once and times the words', async () => {
    hub.reset();
    hub.addRepo(REPO, files);
    const cache = fs.mkdtempSync(path.join(tmp, 'cache-'));
    const env = { QWEN3ASR_BIN_DIR: inject('binDir'), XDG_CACHE_HOME: cache, HF_ENDPOINT: hub.endpoint };
    const out = path.join(tmp, 'pulled');
    const r = await runCli([wav, '-f', 'json', '-o', out, '--model', asr.text, '--mmproj', asr.mmproj, '--align', 'on', '--threads', '2'], { env });
    expect(r.stderr).not.toMatch(/error|fail/i);
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'hello.json'), 'utf8'));
    expect(json.windows[0].words.map((w: { text: string }) => w.text)).toEqual(['Hello', 'world']);
    // every checkpoint file came from the Hub; the weights through the CDN, checked by the published sha256
    const fetched = hub.requests.filter((q) => q.path.includes('/resolve/')).map((q) => decodeURIComponent(q.path.split('/resolve/main/')[1]));
    expect(new Set(fetched)).toEqual(new Set(Object.keys(files).filter((f) => /\.(json|txt|safetensors)$/.test(f))));
    const models = path.join(cache, 'qwen3asr', 'models');
    expect(fs.readdirSync(path.join(models, 'aligner')).sort()).toEqual(['Qwen3-ForcedAligner-0.6B-mmproj-f16.gguf', 'Qwen3-ForcedAligner-0.6B-text-f16.gguf', 'model.json']);
    expect(fs.existsSync(path.join(models, '.checkpoints', 'aligner'))).toBe(false); // the checkpoint is not kept
    // `auto` (the default) now finds it in the cache, with no request to the Hub
    hub.requests.length = 0;
    const again = await runCli([wav, '-f', 'json', '-o', path.join(tmp, 'auto'), '--model', asr.text, '--mmproj', asr.mmproj, '--threads', '2'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'auto', 'hello.json'), 'utf8')).windows[0].words).toHaveLength(2);
    expect(hub.requests).toEqual([]);
  });

  it('a corrupt weights file is one line, and nothing is cached', async () => {
    hub.reset();
    const broken = { ...files, 'model.safetensors': Buffer.from(files['model.safetensors']) };
    hub.addRepo(REPO, broken);
    broken['model.safetensors'][100_000] ^= 0xff; // after the Hub published its sha256
    hub.cdn.files.set(hub.cdnKey(REPO, 'model.safetensors'), broken['model.safetensors']);
    const cache = fs.mkdtempSync(path.join(tmp, 'cache-'));
    const env = { QWEN3ASR_BIN_DIR: inject('binDir'), XDG_CACHE_HOME: cache, HF_ENDPOINT: hub.endpoint };
    const r = await runCli(['models', 'pull', 'aligner'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model\.safetensors .* is corrupt/);
    expect(fs.existsSync(path.join(cache, 'qwen3asr', 'models', 'aligner', 'model.json'))).toBe(false);
  });
});

describe('an aligner whose answers are known', () => {
  // A timed synthetic aligner answers each word's <timestamp> pair with the times it was built with,
  // whatever the audio; built here with the true speech spans of spoken "Hello" and "world", the
  // whole CLI must put the words, and the cues, exactly there.
  const GRID = 80;
  let wav: string;
  let spans: { Hello: [number, number]; world: [number, number] };
  let timed: { Hello: [number, number]; world: [number, number] };
  let asr: { text: string; mmproj: string };
  let alignerText: string;
  beforeAll(async () => {
    asr = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
    const hello = trimSilence(speak('Hello'));
    const world = trimSilence(speak('world'));
    const lead = silence(0.1);
    const gap = silence(1.5);
    wav = path.join(tmp, 'known.wav');
    s16Wav(wav, concat([lead, hello, gap, world, silence(1)]));
    const helloStart = lead.length / SR;
    const worldStart = (lead.length + hello.length + gap.length) / SR;
    spans = { Hello: [helloStart, helloStart + hello.length / SR], world: [worldStart, worldStart + world.length / SR] };
    // On the 80 ms grid, inside the speech: start rounded up, end down.
    const inside = ([a, b]: [number, number]): [number, number] => [Math.ceil((a * 1000) / GRID) * GRID, Math.floor((b * 1000) / GRID) * GRID];
    timed = { Hello: inside(spans.Hello), world: inside(spans.world) };
    const dir = path.join(tmp, 'timed-aligner');
    await generateSyntheticAligner(dir, { shape: 'tiny', timed });
    alignerText = (await convertCheckpoint({ modelDir: dir, outDir: path.join(tmp, 'timed-gguf') })).text;
  });

  it('puts the words and the cues on the known speech', async () => {
    const out = path.join(tmp, 'known-out');
    const r = await runCli([wav, '-f', 'srt,json', '-o', out, '--model', asr.text, '--mmproj', asr.mmproj, '--aligner', alignerText, '--threads', '2'], {
      env: { QWEN3ASR_BIN_DIR: inject('binDir') },
    });
    expect(r.stderr).not.toMatch(/error|warn|fail/i);
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'known.json'), 'utf8'));
    expect(json.windows).toHaveLength(1);
    expect(json.windows[0].start).toBe(0);
    const words = json.windows[0].words as { text: string; start: number; end: number }[];
    expect(words.map((w) => w.text)).toEqual(['Hello', 'world']);
    for (const w of words) {
      const [start, end] = timed[w.text as 'Hello' | 'world'];
      expect(Math.abs(w.start * 1000 - start)).toBeLessThanOrEqual(1);
      expect(Math.abs(w.end * 1000 - end)).toBeLessThanOrEqual(1);
    }

    const seconds = (t: string) => {
      const [h, m, s] = t.replace(',', '.').split(':').map(Number);
      return h * 3600 + m * 60 + s;
    };
    const cues = fs.readFileSync(path.join(out, 'known.srt'), 'utf8').trim().split(/\n\s*\n/).map((block) => {
      const [from, to] = block.split('\n')[1].split(' --> ');
      return { start: seconds(from), end: seconds(to), text: block.split('\n').slice(2).join(' ') };
    });
    console.log(`[align] known spans ${JSON.stringify(spans)}, timed ${JSON.stringify(timed)} ms, cues ${JSON.stringify(cues)}`);
    expect(cues).toHaveLength(2);
    (['Hello', 'world'] as const).forEach((word, i) => {
      const c = cues[i];
      const [speechStart, speechEnd] = spans[word];
      const w = words[i];
      expect(c.text).toContain(word);
      expect(c.start).toBeCloseTo(w.start, 3);
      expect(c.start).toBeGreaterThanOrEqual(speechStart);
      expect(c.start).toBeLessThan(speechEnd);
      expect(w.end).toBeLessThanOrEqual(speechEnd);
      const next = i + 1 < cues.length ? cues[i + 1].start : Infinity;
      expect(c.end).toBeCloseTo(Math.min(Math.max(w.end, c.start + MIN_DURATION), next), 3);
    });
    // Neither cue spans the pause between the two words.
    expect(cues[0].end).toBeLessThanOrEqual(spans.world[0]);
    expect(cues[1].start).toBeGreaterThanOrEqual(spans.Hello[1]);
  });

  it('refuses what it cannot time, in one clear error', async () => {
    const dir = path.join(tmp, 'timed-bad');
    await expect(generateSyntheticAligner(dir, { shape: 'small', timed: { Hello: [0, 80] } })).rejects.toThrow(/tiny only/);
    await expect(generateSyntheticAligner(dir, { shape: 'tiny', timed: { 'Hello world': [0, 80] } })).rejects.toThrow(/one run of letters/);
    await expect(generateSyntheticAligner(dir, { shape: 'tiny', timed: { Hello: [0, 400_000] } })).rejects.toThrow(/outside/);
  });
});
