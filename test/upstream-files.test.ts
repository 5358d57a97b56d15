/**
 * The GGUF files users already have are upstream llama.cpp's (ggml-org's Qwen3-ASR repos, written
 * by its own convert_hf_to_gguf.py): text arch `qwen3vl`, mmproj projector `qwen3a`. Here
 * upstream's converter runs unchanged (test/helpers/upstream-convert.ts) on ONE synthetic
 * checkpoint with 4 encoder layers, beside our converter on the same checkpoint, and the tool
 * must treat both alike: same metadata where it matters, same prompt tokens, and byte-identical
 * transcripts at temperature 0 through every runner, for f16 and q8_0, and for mixed pairs.
 *
 * Needs the verified llama.cpp source in the cache (global setup) and Debian's /usr/bin/python3
 * (torch, numpy) for upstream's converter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { upstreamModelSet, type UpstreamModelSet } from './helpers/upstream-convert.js';
import { runCli } from './helpers/cli.js';
import { cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';
import type { OutType } from '../src/convert/ggml-types.js';
import { readGgufHeader, metaNumber, metaString, type GgufHeader, type GgufValue } from '../src/gguf/read-header.js';
import { tensorBytes } from '../src/gguf/tensor-size.js';
import { validateModelPair } from '../src/models/validate.js';
import { audioTokens, contextSizeFor } from '../src/runner/request/budget.js';
import { completionBody } from '../src/runner/http/llama-server-client.js';
import { runMtmdCli } from '../src/runner/local/mtmd-cli.js';
import { buildPrompt, MEDIA_MARKER } from '../src/runner/request/prompt.js';
import { startServer, type RunningServer } from '../src/runner/local/server-process.js';
import { slotContextFor } from '../src/runner/local/server-runner.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';

const LLAMA_SOURCE = inject('llamaSource');
if (!LLAMA_SOURCE) throw new Error('test/upstream-files.test.ts needs the verified llama.cpp source in the cache (not there with QWEN3ASR_BIN_DIR)');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-upstream-files-'));
const SCRIPT = 'language English<asr_text>Hello world.<|im_end|>';
let random: UpstreamModelSet;
let scripted: UpstreamModelSet;
let talk: string;
let env: Record<string, string>;
const servers: RunningServer[] = [];

beforeAll(async () => {
  random = await upstreamModelSet({ llamaSource: LLAMA_SOURCE });
  scripted = await upstreamModelSet({ llamaSource: LLAMA_SOURCE, script: SCRIPT });
  const s = script(sentences(6).map((t, i) => ({ pause: i === 0 ? 0.5 : 1.2, audio: speak(t) })), 0.5);
  talk = path.join(tmp, 'talk.wav');
  fs.writeFileSync(talk, floatWavBytes(s.samples));
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Several CLI runs per test on a shared 2-core machine.
vi.setConfig({ testTimeout: 900_000 });

const OUT_TYPES: OutType[] = ['f16', 'q8_0'];

type PairName = 'ours' | 'upstream' | 'upstream text + our mmproj' | 'our text + upstream mmproj';
type Pair = { readonly text: string; readonly mmproj: string };

async function pairs(set: UpstreamModelSet, t: OutType): Promise<Record<PairName, Pair>> {
  const up = await set.upstream(t);
  const ours = await set.ours(t);
  return {
    ours: { text: ours.text, mmproj: ours.mmproj },
    upstream: up,
    'upstream text + our mmproj': { text: up.text, mmproj: ours.mmproj },
    'our text + upstream mmproj': { text: ours.text, mmproj: up.mmproj },
  };
}

const header = (file: string) => readGgufHeader(file, { keepArrays: ['tokenizer.ggml.tokens'] });
const items = (h: GgufHeader, key: string): readonly GgufValue[] => {
  const v = h.metadata.get(key);
  return typeof v === 'object' && v.items ? v.items : [];
};
const tensorType = (h: GgufHeader, name: string) => h.tensors.find((t) => t.name === name)?.type;
const GGML = { F32: 0, F16: 1, Q8_0: 8 } as const;

/** A tensor's bytes, read from the file at the header's offsets. */
function tensorData(file: string, h: GgufHeader, name: string): Buffer {
  const t = h.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`${file} has no tensor ${name}`);
  const n = Number(tensorBytes(t));
  const out = Buffer.alloc(n);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, out, 0, n, Number(h.dataOffset + t.offset));
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

describe("upstream's files are the ones users have", () => {
  for (const t of OUT_TYPES) {
    it(`${t}: text qwen3vl (no deepstack), BOS = EOS = <|im_end|>, no pad, no BOS added; mmproj qwen3a without window keys`, async () => {
      const up = await random.upstream(t);
      const text = header(up.text);
      expect(metaString(text, 'general.architecture')).toBe('qwen3vl');
      expect(metaNumber(text, 'qwen3vl.n_deepstack_layers')).toBe(0);
      expect(items(text, 'qwen3vl.rope.dimension_sections')).toEqual([4, 2, 2, 0]);
      const tokens = items(text, 'tokenizer.ggml.tokens');
      const imEnd = tokens.indexOf('<|im_end|>');
      expect(imEnd).toBeGreaterThan(0);
      expect(metaNumber(text, 'tokenizer.ggml.bos_token_id')).toBe(imEnd);
      expect(metaNumber(text, 'tokenizer.ggml.eos_token_id')).toBe(imEnd);
      expect(text.metadata.has('tokenizer.ggml.padding_token_id')).toBe(false);
      expect(text.metadata.get('tokenizer.ggml.add_bos_token')).toBe(false);
      expect(metaString(text, 'tokenizer.ggml.pre')).toBe('qwen2');
      for (const m of ['<|audio_start|>', '<|audio_end|>', '<|audio_pad|>', '<asr_text>']) expect(tokens).toContain(m);
      // Stored although the checkpoint ties it (the synthetic lm_head is a copy of the embedding).
      expect(tensorType(text, 'output.weight')).toBe(t === 'q8_0' ? GGML.Q8_0 : GGML.F16);
      expect(tensorType(text, 'output_norm.weight')).toBe(GGML.F32);

      const mm = header(up.mmproj);
      expect(metaString(mm, 'clip.audio.projector_type')).toBe('qwen3a');
      expect(metaNumber(mm, 'clip.audio.block_count')).toBe(4);
      expect(mm.metadata.has('clip.audio.n_window')).toBe(false);
      expect(mm.metadata.has('clip.audio.n_window_infer')).toBe(false);
      // Upstream forces every conv kernel (conv_out too) to F16, whatever the outtype.
      for (const k of ['a.conv2d.1.weight', 'a.conv2d.2.weight', 'a.conv2d.3.weight', 'a.conv_out.weight']) expect(tensorType(mm, k)).toBe(GGML.F16);
      expect(tensorType(mm, 'a.blk.0.attn_q.weight')).toBe(t === 'q8_0' ? GGML.Q8_0 : GGML.F16);
      expect(tensorType(mm, 'a.position_embd.weight')).toBe(GGML.F32);
    });

    it(`${t}: every tensor holds the same bytes as our converter's (the sinusoid table to float32 rounding)`, async () => {
      const up = await random.upstream(t);
      const ours = await random.ours(t);
      for (const [a, b] of [[up.text, ours.text], [up.mmproj, ours.mmprojQwen3a]] as const) {
        const ha = header(a);
        const hb = header(b);
        expect(ha.tensors.map((x) => x.name).sort()).toEqual(hb.tensors.map((x) => x.name).sort());
        for (const ta of ha.tensors) {
          const tb = hb.tensors.find((x) => x.name === ta.name)!;
          expect([ta.name, tb.type, tb.shape]).toEqual([ta.name, ta.type, ta.shape]);
          const da = tensorData(a, ha, ta.name);
          const db = tensorData(b, hb, ta.name);
          if (ta.name !== 'a.position_embd.weight') {
            expect(da.equals(db), ta.name).toBe(true);
            continue;
          }
          // torch builds the table in float32 (position × frequency rounded before the sin); we
          // do it in float64. Over the rows an 8 s window uses (104) they agree to 1e-5.
          const fa = new Float32Array(da.buffer, da.byteOffset, da.length / 4);
          const fb = new Float32Array(db.buffer, db.byteOffset, db.length / 4);
          const width = ta.shape[0];
          let early = 0;
          let all = 0;
          for (let i = 0; i < fa.length; i++) {
            const d = Math.abs(fa[i] - fb[i]);
            all = Math.max(all, d);
            if (i < 104 * width) early = Math.max(early, d);
          }
          expect(early).toBeLessThan(1e-5);
          expect(all).toBeLessThan(5e-4);
        }
      }
    });
  }

  it('every pair validates: upstream text as qwen3vl, each mmproj as its own format, the 8 s window', async () => {
    for (const t of OUT_TYPES) {
      const p = await pairs(random, t);
      const arch = { ours: 'qwen3', upstream: 'qwen3vl', 'upstream text + our mmproj': 'qwen3vl', 'our text + upstream mmproj': 'qwen3' };
      const projector = { ours: 'qwen3asr', upstream: 'qwen3a', 'upstream text + our mmproj': 'qwen3asr', 'our text + upstream mmproj': 'qwen3a' };
      for (const [name, pair] of Object.entries(p) as [PairName, Pair][]) {
        expect(validateModelPair(pair.text, pair.mmproj), `${t} ${name}`).toMatchObject({
          textArchitecture: arch[name], projector: projector[name], windowSeconds: 8, embeddingWidth: 64,
        });
      }
    }
  });
});

describe('the prompt reaches the model as the same tokens, with no BOS', () => {
  const clip = (seconds: number) => {
    const n = Math.round(seconds * 16000);
    // A chirp: audio the encoder cannot mistake for silence.
    const x = new Float32Array(n).map((_, i) => 0.3 * Math.sin(2 * Math.PI * (200 + i / 40) * (i / 16000)));
    const file = path.join(tmp, `clip-${seconds}.wav`);
    fs.writeFileSync(file, floatWavBytes(x));
    return { file, samples: x };
  };

  /** The prompt's text tokens as llama-server tokenizes a raw prompt (add_special, parse_special). */
  async function textTokens(server: RunningServer, text: string): Promise<number[]> {
    const r = await fetch(`${server.url}/tokenize`, { method: 'POST', body: JSON.stringify({ content: text, add_special: true, parse_special: true }) });
    return ((await r.json()) as { tokens: number[] }).tokens;
  }

  it('llama-server tokenizes the official prompt identically for both text files, starting at <|im_start|>', async () => {
    const prompt = buildPrompt('Kubernetes, etcd', 'English');
    const [before, after] = prompt.split(MEDIA_MARKER);
    const ids: number[][][] = [];
    for (const t of OUT_TYPES) {
      const p = await pairs(random, t);
      for (const pair of [p.ours, p['upstream text + our mmproj']]) {
        const server = await startServer({ server: inject('server'), model: pair.text, mmproj: pair.mmproj, threads: 1, slots: 1, slotContext: 512 });
        servers.push(server);
        ids.push([await textTokens(server, before), await textTokens(server, after)]);
        const imStart = items(header(pair.text), 'tokenizer.ggml.tokens').indexOf('<|im_start|>');
        expect(ids.at(-1)![0][0]).toBe(imStart);
        await server.stop();
      }
    }
    for (const x of ids) expect(x).toEqual(ids[0]);
  });

  /** n_prompt of llama-mtmd-cli (the subprocess runner's call) and tokens_evaluated of llama-server (the server runner's). */
  async function promptCounts(pair: Pair, wav: { file: string; samples: Float32Array }) {
    const prompt = buildPrompt(null, null);
    const contextSize = contextSizeFor(wav.samples.length, null, 8);
    const mtmd = await runMtmdCli(
      { mtmdCli: inject('mtmdCli'), model: pair.text, mmproj: pair.mmproj, threads: 2, timeoutMs: 300_000, tempDir: tmp },
      { wavPath: wav.file, prompt, maxTokens: 4, contextSize },
    );
    const server = await startServer({ server: inject('server'), model: pair.text, mmproj: pair.mmproj, threads: 2, slots: 1, slotContext: contextSize });
    servers.push(server);
    try {
      const body = completionBody(
        { name: 'w', samples: wav.samples, prompt, context: null, language: null, maxTokens: 4, contextSize, ignoreEos: false },
        MEDIA_MARKER,
      );
      const r = (await (await fetch(`${server.url}/completion`, { method: 'POST', body: JSON.stringify(body) })).json()) as { tokens_evaluated: number };
      const [before, after] = prompt.split(MEDIA_MARKER);
      const text = (await textTokens(server, before)).length + (await textTokens(server, after)).length;
      return { mtmd: mtmd.n_prompt, server: r.tokens_evaluated, text };
    } finally {
      await server.stop();
    }
  }

  // 6.375 s: 637 frames -> 6 x 13 + conv_len(37) = 83 audio tokens; 8 s: 800 frames -> 104.
  for (const seconds of [6.375, 8]) {
    it(`${seconds} s: the same prompt length for upstream's text file as for ours (our mmproj), both runners`, async () => {
      const wav = clip(seconds);
      const p = await pairs(random, 'f16');
      const ours = await promptCounts(p.ours, wav);
      const upText = await promptCounts(p['upstream text + our mmproj'], wav);
      // The official count: text tokens, <|audio_start|> + audio + <|audio_end|>, nothing else (no BOS).
      expect(ours.mtmd).toBe(ours.text + 2 + audioTokens(wav.samples.length));
      expect(upText).toEqual(ours);
      expect(ours.server).toBe(ours.mtmd);
    });

    // Waits for the patch that runs every qwen3a mmproj through our encoder graph: upstream's own
    // graph pads the last chunk (91 tokens for 6.375 s, 104 + 13 for 8 s).
    it(`${seconds} s: upstream's qwen3a mmproj gives the official audio token count (13 per 100 frames + conv_len(rest))`, async () => {
      const wav = clip(seconds);
      const p = await pairs(random, 'f16');
      const ours = await promptCounts(p.ours, wav);
      expect(await promptCounts(p.upstream, wav)).toEqual(ours);
      expect(await promptCounts(p['our text + upstream mmproj'], wav)).toEqual(ours);
      // The context the runners allocate holds prompt, audio and answer.
      expect(contextSizeFor(wav.samples.length, null, 8)).toBeGreaterThanOrEqual(ours.mtmd + 8);
    });
  }
});

/** The outputs of one CLI run; the JSON without wall times and the model's name, which differ. */
async function outputs(name: string, args: string[]): Promise<Record<string, string>> {
  const out = path.join(tmp, name);
  const r = await runCli([talk, '-f', 'srt,json', '-o', out, '--threads', '2', ...args], { env });
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'), (k, v) => (k === 'ms' || k === 'model' ? undefined : v));
  return { srt: fs.readFileSync(path.join(out, 'talk.srt'), 'utf8'), json: JSON.stringify(json, null, 1) };
}
const modelArgs = (p: Pair) => ['--model', p.text, '--mmproj', p.mmproj];

describe('byte-identical transcripts from our files and upstream\'s', () => {
  it('scripted model: every pair, subprocess and server runners, gives the scripted text', async () => {
    const p = await pairs(scripted, 'f16');
    const reference = await outputs('scripted-ours', ['--runner', 'subprocess', ...modelArgs(p.ours)]);
    expect(JSON.parse(reference.json).windows[0].text).toBe('Hello world.');
    for (const [name, pair] of Object.entries(p) as [PairName, Pair][]) {
      for (const runner of ['subprocess', 'server']) {
        expect(await outputs(`scripted-${name}-${runner}`.replace(/\W+/g, '-'), ['--runner', runner, ...modelArgs(pair)]), `${name} ${runner}`).toEqual(reference);
      }
    }
  });

  for (const t of OUT_TYPES) {
    // The answer of a random-weights model depends on the audio embeddings and on every position:
    // any difference in the encoder, the token count or the rope shows in the text.
    describe(`random-weights model, ${t}`, () => {
      let reference: Record<string, string>;
      beforeAll(async () => {
        const p = await pairs(random, t);
        reference = await outputs(`random-${t}-ours`, ['--runner', 'subprocess', '--no-guard', ...modelArgs(p.ours)]);
        const windows = JSON.parse(reference.json).windows as { text: string }[];
        expect(windows.length).toBeGreaterThan(2);
        expect(new Set(windows.map((w) => w.text)).size).toBeGreaterThan(1);
      });

      for (const name of ['upstream text + our mmproj', 'upstream', 'our text + upstream mmproj'] as const) {
        for (const runner of ['subprocess', 'server'] as const) {
          it(`${name}, --runner ${runner}: same srt and json as our files`, async () => {
            const p = await pairs(random, t);
            const got = await outputs(`random-${t}-${name}-${runner}`.replace(/\W+/g, '-'), ['--runner', runner, '--no-guard', ...modelArgs(p[name])]);
            expect(got).toEqual(reference);
          });
        }
      }

      it('upstream, --endpoint (a llama-server started here): same srt and json as our files', async () => {
        const p = await pairs(random, t);
        const slotContext = slotContextFor({ windowSeconds: 8, context: null, budget: null });
        const server = await startServer({ server: inject('server'), model: p.upstream.text, mmproj: p.upstream.mmproj, threads: 2, slots: 2, slotContext });
        servers.push(server);
        try {
          expect(await outputs(`random-${t}-endpoint`, ['--endpoint', server.url, '--no-guard'])).toEqual(reference);
        } finally {
          await server.stop();
        }
      });
    });
  }

  it('random-weights model, a forced language and a context (prefilled prompt): upstream pair = ours', async () => {
    const p = await pairs(random, 'f16');
    const args = ['--no-guard', '--language', 'en', '--context', 'Kubernetes, etcd, Raft'];
    const reference = await outputs('random-lang-ours', ['--runner', 'subprocess', ...args, ...modelArgs(p.ours)]);
    expect(await outputs('random-lang-upstream', ['--runner', 'subprocess', ...args, ...modelArgs(p.upstream)])).toEqual(reference);
    expect(await outputs('random-lang-upstream-server', ['--runner', 'server', ...args, ...modelArgs(p.upstream)])).toEqual(reference);
  });
});

describe("a Hugging Face repo's worth of names", () => {
  it('--model Qwen3-ASR-0.6B-Q8_0.gguf finds mmproj-Qwen3-ASR-0.6B-Q8_0.gguf beside it', async () => {
    const up = await random.upstream('q8_0');
    const repo = path.join(tmp, 'ggml-org-Qwen3-ASR-0.6B-GGUF');
    fs.mkdirSync(repo);
    fs.copyFileSync(up.text, path.join(repo, 'Qwen3-ASR-0.6B-Q8_0.gguf'));
    fs.copyFileSync(up.mmproj, path.join(repo, 'mmproj-Qwen3-ASR-0.6B-Q8_0.gguf'));
    const explicit = await outputs('repo-explicit', ['--runner', 'subprocess', '--no-guard', ...modelArgs(up)]);
    const found = await outputs('repo-sibling', ['--runner', 'subprocess', '--no-guard', '--model', path.join(repo, 'Qwen3-ASR-0.6B-Q8_0.gguf')]);
    expect(found).toEqual(explicit);
    // the whole repo downloaded: one mmproj per quantization, the text's own is taken
    const f16 = await random.upstream('f16');
    fs.copyFileSync(f16.text, path.join(repo, 'Qwen3-ASR-0.6B-F16.gguf'));
    fs.copyFileSync(f16.mmproj, path.join(repo, 'mmproj-Qwen3-ASR-0.6B-F16.gguf'));
    const among = await outputs('repo-among', ['--runner', 'subprocess', '--no-guard', '--model', path.join(repo, 'Qwen3-ASR-0.6B-Q8_0.gguf')]);
    expect(among).toEqual(explicit);
  });
});
