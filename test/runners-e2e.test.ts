/**
 * The warm server runner and --endpoint against the per-window subprocess runner, end to end
 * with the real binaries: at temperature 0 every runner must give the same transcript, byte for
 * byte. Checked on a scripted model (fixed answer) and on a random-weights model, whose answer
 * depends on the audio, so a runner that fed the audio differently would show.
 */
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { BIN, runCli } from './helpers/cli.js';
import { cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';
import { startServer, type RunningServer } from '../src/runner/local/server-process.js';
import { slotContextFor } from '../src/runner/local/server-runner.js';
import { DEFAULT_SERVER_SLOTS } from '../src/pipeline/choose-runner.js';

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
async function outputs(name: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Record<string, string>> {
  const out = path.join(tmp, name);
  const r = await runCli([talk, '-f', 'srt,txt,json', '-o', out, ...args], { env: { ...env, ...extraEnv } });
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

  it('random-weights model: same outputs with one slot, two, and the default slots batched together', async () => {
    // The default decodes several windows at once (bench/RESULTS.md, issue 19): each step's batch holds
    // every slot's token, so this is the check that batching leaves each window's answer as it was.
    // It also checks the patched server's shared prompt prefix: a slot takes the system turn
    // another slot computed instead of computing it again, which must not change a byte either.
    expect(DEFAULT_SERVER_SLOTS).toBeGreaterThan(2);
    const a = await outputs('random-sub', ['--runner', 'subprocess', '--no-guard', ...modelArgs(random)]);
    const b = await outputs('random-server-1', ['--runner', 'server', '--jobs', '1', '--no-guard', ...modelArgs(random)]);
    const c = await outputs('random-server-2', ['--runner', 'server', '--jobs', '2', '--no-guard', ...modelArgs(random)]);
    const log = path.join(tmp, 'random-server-default.log');
    const d = await outputs('random-server-default', ['--runner', 'server', '--no-guard', ...modelArgs(random)], { QWEN3ASR_EXTRA_ARGS: `--log-file ${log}` });
    // Several windows with audio-dependent answers: a meaningful comparison.
    const windows = JSON.parse(a.json).windows as { text: string }[];
    expect(windows.length).toBeGreaterThan(2);
    // Every slot but the first to start took the prefix from another, once (a slot's next windows
    // find it in its own cache).
    const serverLog = fs.readFileSync(log, 'utf8');
    const slotsUsed = new Set([...serverLog.matchAll(/launch_slot_: id +(\d+) \| task \d+ \| processing task/g)].map((m) => m[1]));
    const taken = serverLog.match(/qwen3asr: \d+ prompt tokens taken from slot \d+/g) ?? [];
    expect(slotsUsed.size).toBeGreaterThan(2);
    expect(taken.length).toBe(slotsUsed.size - 1);
    expect(new Set(windows.map((w) => w.text)).size).toBeGreaterThan(1);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(d).toEqual(a);
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

  it("an endpoint on a port fetch() refuses (6000, 6665–6669: the WHATWG 'bad ports') works", async () => {
    const reference = await outputs('badport-reference', ['--runner', 'subprocess', '--no-guard', ...modelArgs(random)]);
    const setup = { server: inject('server'), model: random.text, mmproj: random.mmproj, threads: 2, slots: 1, slotContext: slotContextFor({ windowSeconds: 8, context: null, budget: null }) };
    const server = await startServer(setup);
    servers.push(server);
    // a plain TCP relay on the first of those ports that is free here, to the real server
    const target = new URL(server.url);
    const relay = net.createServer((c) => {
      const up = net.connect(Number(target.port), target.hostname);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    let port = 0;
    for (const p of [6000, 6665, 6666, 6667, 6668, 6669]) {
      const ok = await new Promise<boolean>((resolve) => {
        relay.once('error', () => resolve(false));
        relay.listen(p, '127.0.0.1', () => resolve(true));
      });
      if (ok) {
        port = p;
        break;
      }
    }
    expect(port).toBeGreaterThan(0);
    try {
      expect(await outputs('badport-run', ['--endpoint', `http://127.0.0.1:${port}`, '--no-guard'])).toEqual(reference);
    } finally {
      relay.close();
    }
  });

  it('SIGTERM while an endpoint holds a request: abandoned at once, exit 143, one line', async () => {
    // a server that says it is llama-server, then never answers a completion
    let asked = false;
    const held: http.ServerResponse[] = [];
    const fake = http.createServer((req, res) => {
      if (req.url === '/props') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ media_marker: '<__media__>', total_slots: 1 }));
        return;
      }
      asked = true;
      held.push(res);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as net.AddressInfo;
    try {
      const child = execa(process.execPath, [BIN, talk, '-o', path.join(tmp, 'term-endpoint'), '--endpoint', `http://127.0.0.1:${port}`], { env, reject: false });
      const deadline = Date.now() + 60_000;
      while (!asked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(asked).toBe(true);
      const sent = Date.now();
      child.kill('SIGTERM');
      const r = await child;
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(r.exitCode).toBe(143);
      expect(String(r.stderr).trim()).toBe('qwen3asr: stopped by SIGTERM');
    } finally {
      for (const res of held) res.destroy();
      fake.close();
    }
  });
});
