/**
 * The warm server runner and --endpoint against the per-window subprocess runner, end to end
 * with the real binaries: at temperature 0 every runner must give the same transcript, byte for
 * byte. Checked on a scripted model (fixed answer) and on a random-weights model, whose answer
 * depends on the audio, so a runner that fed the audio differently would show.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { runCli } from './helpers/cli.js';
import { cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/window-wav.js';
import { startServer, type RunningServer } from '../src/runner/server-process.js';
import { slotContextFor } from '../src/runner/server-runner.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-runners-e2e-'));
let scripted: SyntheticModel;
let random: SyntheticModel;
let looping: SyntheticModel;
let talk: string;
let env: Record<string, string>;

beforeAll(async () => {
  scripted = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
  random = await ensureSyntheticModel('tiny');
  looping = await ensureSyntheticModel('tiny', { script: { prefix: 'language English<asr_text>', loop: 'again and ' } });
  const s = script(sentences(6).map((t, i) => ({ pause: i === 0 ? 0.5 : 1.2, audio: speak(t) })), 0.5);
  talk = path.join(tmp, 'talk.wav');
  fs.writeFileSync(talk, floatWavBytes(s.samples));
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Three CLI runs per test on a shared 2-core machine: llama.cpp's spinning threads slow down a lot
// when other work competes for the cores.
vi.setConfig({ testTimeout: 600_000 });

const modelArgs = (m: SyntheticModel) => ['--model', m.text, '--mmproj', m.mmproj, '--threads', '2'];

/** The outputs of one run; the JSON without wall times and the model's name, which may differ. */
async function outputs(name: string, args: string[]): Promise<Record<string, string>> {
  const out = path.join(tmp, name);
  const r = await runCli([talk, '-f', 'srt,txt,json', '-o', out, ...args], { env });
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'), (k, v) => (k === 'ms' || k === 'model' ? undefined : v));
  return {
    srt: fs.readFileSync(path.join(out, 'talk.srt'), 'utf8'),
    txt: fs.readFileSync(path.join(out, 'talk.txt'), 'utf8'),
    json: JSON.stringify(json, null, 1),
  };
}

describe('server runner', () => {
  it('scripted model: same srt, txt and json as the subprocess runner', async () => {
    const a = await outputs('scripted-sub', ['--runner', 'subprocess', ...modelArgs(scripted)]);
    const b = await outputs('scripted-server', ['--runner', 'server', '--jobs', '2', ...modelArgs(scripted)]);
    expect(a.txt).toMatch(/^Hello world\./);
    expect(b).toEqual(a);
  });

  it('random-weights model: same outputs with one slot and with two slots batched together', async () => {
    const a = await outputs('random-sub', ['--runner', 'subprocess', '--no-guard', ...modelArgs(random)]);
    const b = await outputs('random-server-1', ['--runner', 'server', '--jobs', '1', '--no-guard', ...modelArgs(random)]);
    const c = await outputs('random-server-2', ['--runner', 'server', '--jobs', '2', '--no-guard', ...modelArgs(random)]);
    // Several windows with audio-dependent answers: a meaningful comparison.
    const windows = JSON.parse(a.json).windows as { text: string }[];
    expect(windows.length).toBeGreaterThan(2);
    expect(new Set(windows.map((w) => w.text)).size).toBeGreaterThan(1);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('guard retries (repetition control, split, no context) go through the server too', async () => {
    const args = ['--context', 'Speaker: Ann Lee.', ...modelArgs(looping)];
    const a = JSON.parse((await outputs('loop-sub', ['--runner', 'subprocess', ...args])).json);
    const b = JSON.parse((await outputs('loop-server', ['--runner', 'server', ...args])).json);
    type Attempt = { step: string; text: string; repetitionControl: boolean };
    expect(b.windows.length).toBe(a.windows.length);
    for (const [i, w] of b.windows.entries()) {
      const server: Attempt[] = w.guard.attempts;
      const sub: Attempt[] = a.windows[i].guard.attempts;
      expect(server.map((x) => x.step)).toEqual(['initial', 'repetition-control', 'split', 'drop-context']);
      expect(server.map((x) => x.step)).toEqual(sub.map((x) => x.step));
      // The penalties reached the server (its text changed) ...
      expect(server[1].repetitionControl).toBe(true);
      expect(server[1].text).not.toBe(server[0].text);
      // ... and every attempt matches the subprocess runner's, penalties included: both count the
      // prompt's text tokens in the penalty history (llama-server's init_sampler; our mtmd-cli
      // patch does the same under MTMD_RAW_PROMPT).
      expect(server.map((x) => x.text)).toEqual(sub.map((x) => x.text));
    }
    expect(b).toEqual(a);
  });
});

describe('--endpoint', () => {
  let servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('spreads windows over two llama-servers; one killed mid-run, the run completes with the same output', async () => {
    const reference = await outputs('endpoint-reference', ['--runner', 'subprocess', '--no-guard', ...modelArgs(random)]);
    const setup = { server: inject('server'), model: random.text, mmproj: random.mmproj, threads: 1, slots: 2, slotContext: slotContextFor({ windowSeconds: 8, context: null, budget: null }) };
    servers = await Promise.all([startServer(setup), startServer(setup)]);
    const [keep, doomed] = servers;
    const run = outputs('endpoint-run', ['--endpoint', keep.url, '--endpoint', `${doomed.url}/v1/`, '--no-guard']);
    // Kill the second server once it is decoding a window.
    const deadline = Date.now() + 30_000;
    let killed = false;
    while (!killed && Date.now() < deadline) {
      const slots = (await fetch(`${doomed.url}/slots`).then((r) => r.json()).catch(() => [])) as { is_processing?: boolean }[];
      if (slots.some((s) => s.is_processing)) {
        process.kill(doomed.pid, 'SIGKILL');
        killed = true;
      } else {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    expect(killed).toBe(true);
    expect(await run).toEqual(reference);
    expect(doomed.alive()).toBe(false);
  });
});
