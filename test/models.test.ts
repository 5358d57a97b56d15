import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { execa } from 'execa';
import { FileServer, refusedBaseUrl, startConnectProxy } from './helpers/file-server.js';
import { mmprojGguf, textGguf } from './helpers/gguf.js';
import { BIN, runCli } from './helpers/cli.js';
import { parseCatalog, fileUrl, downloadAliasOf, loadCatalog, type Catalog, type DownloadAlias, type QuantizedAlias } from '../src/models/catalog.js';
import { pullHf, pullModel } from '../src/models/pull.js';
import { hfFolder, hfName, parseHfRef } from '../src/models/hf-ref.js';
import { pickPair, quantOf } from '../src/models/hf-pick.js';
import type { HubFile } from '../src/models/hub.js';
import { quantizedFileName } from '../src/models/quantized.js';
import { HUB_TOKEN, HubServer } from './helpers/hub-server.js';
import { upstreamModelSet } from './helpers/upstream-convert.js';
import { ensureSyntheticModel } from './helpers/models.js';
import { cleanupFixtures, script, silence, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';
import { readCached, modelDir } from '../src/models/cache.js';
import { generateSynthetic } from '../src/synthetic/synthetic.js';
import { resolveModel } from '../src/models/resolve.js';
import { createLog } from '../src/util/log.js';
import { InterruptedError, UserError } from '../src/errors.js';
import { bypassesProxy, proxyFor } from '../src/models/proxy.js';
import { parseContentRange } from '../src/models/http-range.js';
import { validateModelPair } from '../src/models/validate.js';
import { expectedMinimumSize, tensorBytes } from '../src/gguf/tensor-size.js';
import { metaNumber, readGgufHeader } from '../src/gguf/read-header.js';
import { ggufBytes } from './helpers/gguf.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-models-test-'));
const server = new FileServer();
let base = '';
beforeAll(async () => {
  base = await server.start();
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  cleanupFixtures();
});
beforeEach(() => server.reset());

const TEXT = textGguf({ width: 64, rows: 512 }); // ~128 kB: big enough to cut half-way
const MMPROJ = mmprojGguf({ outWidth: 64 });
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

let homeCount = 0;
function freshHome(): string {
  const d = path.join(tmp, `home-${++homeCount}`);
  fs.mkdirSync(d);
  return d;
}

function write(name: string, data: Buffer): string {
  const p = path.join(tmp, `${++homeCount}-${name}`);
  fs.writeFileSync(p, data);
  return p;
}

function capture() {
  const lines: string[] = [];
  return { lines, log: createLog('normal', (s) => lines.push(s.trimEnd())) };
}

/** Everything in the model's cache folder, .part files included. */
function cacheFiles(home: string, name: string): string[] {
  try {
    return fs.readdirSync(path.join(home, 'models', name)).sort();
  } catch {
    return [];
  }
}

/** Waits until a download's .part holds `bytes` (the server stalls there). */
async function partReaches(home: string, name: string, file: string, bytes: number): Promise<void> {
  const part = path.join(home, 'models', name, `${file}.part`);
  while (!fs.existsSync(part) || fs.statSync(part).size < bytes) await new Promise((r) => setTimeout(r, 5));
}

function tinyCatalog(opts: { textSha?: string | null; mmSha?: string | null; textBytes?: number | null } = {}): Catalog {
  return parseCatalog({
    defaultAlias: 'tiny',
    models: [
      {
        alias: 'tiny',
        description: 'test',
        repo: 'test/tiny-never-fetched-from-the-hub',
        text: { name: 'tiny-text.gguf', bytes: opts.textBytes ?? null, sha256: opts.textSha ?? null },
        mmproj: { name: 'tiny-mmproj.gguf', bytes: null, sha256: opts.mmSha ?? null },
      },
      {
        alias: 'tiny-f16',
        repo: 'test/tiny-never-fetched-from-the-hub',
        text: { name: 'tiny-text-f16.gguf', bytes: null, sha256: null },
        mmproj: { name: 'tiny-mmproj.gguf', bytes: null, sha256: opts.mmSha ?? null },
      },
    ],
  });
}

function pullTiny(home: string, catalog: Catalog, extra: { signal?: AbortSignal } = {}) {
  const { log, lines } = capture();
  const env = { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base };
  const p = pullModel(catalog.models[0], { log, level: 'normal', env, catalog, retries: 3, backoffMs: 10, ...extra });
  return { p, lines, env };
}

const ZERO_SIXB = { text: 'Qwen3-ASR-0.6B-Q8_0.gguf', mmproj: 'mmproj-Qwen3-ASR-0.6B-Q8_0.gguf' };

describe('catalog URLs', () => {
  const catalog = parseCatalog({
    defaultAlias: 'a',
    models: [
      {
        alias: 'a',
        repo: 'org/repo',
        text: { name: 'a-text.gguf', bytes: null, sha256: null },
        mmproj: { name: 'sub dir/a mmproj.gguf', bytes: null, sha256: null },
      },
      { alias: 'a-q4_k_m', quantize: { from: 'a', type: 'q4_k_m' } },
    ],
  });
  const m = catalog.models[0] as DownloadAlias;
  it('a file is the Hub resolve URL of its repo', () => {
    expect(fileUrl(m, m.text, {})).toBe('https://huggingface.co/org/repo/resolve/main/a-text.gguf');
    expect(fileUrl(m, m.mmproj, {})).toBe('https://huggingface.co/org/repo/resolve/main/sub%20dir/a%20mmproj.gguf');
  });
  it('HF_ENDPOINT replaces https://huggingface.co', () => {
    expect(fileUrl(m, m.text, { HF_ENDPOINT: 'https://hf-mirror.example/' })).toBe('https://hf-mirror.example/org/repo/resolve/main/a-text.gguf');
    expect(() => fileUrl(m, m.text, { HF_ENDPOINT: 'ftp://x' })).toThrow("HF_ENDPOINT 'ftp://x' is not http(s)");
  });
  it('QWEN3ASR_MODEL_BASE_URL replaces every URL (a mirror keeps the files side by side)', () => {
    const env = { QWEN3ASR_MODEL_BASE_URL: 'http://mirror.local/q', HF_ENDPOINT: 'https://x' };
    expect(fileUrl(m, m.text, env)).toBe('http://mirror.local/q/a-text.gguf');
    expect(fileUrl(m, m.mmproj, env)).toBe('http://mirror.local/q/a%20mmproj.gguf');
  });
  it('a quantized alias must name a download alias', () => {
    expect(downloadAliasOf(catalog.models[1] as QuantizedAlias, catalog)).toBe(m);
    expect(() => parseCatalog({ defaultAlias: 'x', models: [{ alias: 'x', quantize: { from: 'nope', type: 'q4_k_m' } }] })).toThrow(
      'catalog: x is made from nope, which is not a download alias',
    );
  });
  it('the shipped catalog: 0.6b (default) and 1.7b are ggml-org\'s Q8_0 files; the q4_k_m aliases are made from them', async () => {
    const c = loadCatalog();
    expect(c.defaultAlias).toBe('0.6b');
    const urls = c.models.filter((x): x is DownloadAlias => x.kind === 'download').map((x) => [x.alias, fileUrl(x, x.text, {}), fileUrl(x, x.mmproj, {})]);
    expect(urls).toEqual([
      ['0.6b', 'https://huggingface.co/ggml-org/Qwen3-ASR-0.6B-GGUF/resolve/main/Qwen3-ASR-0.6B-Q8_0.gguf', 'https://huggingface.co/ggml-org/Qwen3-ASR-0.6B-GGUF/resolve/main/mmproj-Qwen3-ASR-0.6B-Q8_0.gguf'],
      ['1.7b', 'https://huggingface.co/ggml-org/Qwen3-ASR-1.7B-GGUF/resolve/main/Qwen3-ASR-1.7B-Q8_0.gguf', 'https://huggingface.co/ggml-org/Qwen3-ASR-1.7B-GGUF/resolve/main/mmproj-Qwen3-ASR-1.7B-Q8_0.gguf'],
    ]);
    expect(c.models.filter((x): x is QuantizedAlias => x.kind === 'quantized').map((x) => [x.alias, downloadAliasOf(x, c).alias])).toEqual([
      ['0.6b-q4_k_m', '0.6b'],
      ['1.7b-q4_k_m', '1.7b'],
    ]);
  });
});

describe('HTTP helpers', () => {
  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 100-999/1000')).toEqual({ start: 100, total: 1000 });
    expect(parseContentRange('bytes */1000')).toEqual({ start: null, total: 1000 });
    expect(parseContentRange('nonsense')).toBeNull();
  });
  it('honours NO_PROXY', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'localhost,.internal.example,10.0.0.1:8443' };
    expect(proxyFor('https://huggingface.co/x', env)).toBe('http://proxy:3128');
    expect(proxyFor('http://huggingface.co/x', env)).toBeNull();
    expect(proxyFor('https://a.internal.example/x', env)).toBeNull();
    expect(proxyFor('https://internal.example/x', env)).toBeNull();
    expect(proxyFor('https://10.0.0.1:8443/x', env)).toBeNull();
    expect(proxyFor('https://10.0.0.1/x', env)).toBe('http://proxy:3128');
    expect(bypassesProxy(new URL('https://anything'), '*')).toBe(true);
  });
});

describe('download', () => {
  it('a connection cut half-way is resumed with Range, and the result is byte-identical', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    const half = Math.floor(TEXT.length / 2);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'stall', bytes: half }, { kind: 'normal' }]);
    const { p } = pullTiny(home, tinyCatalog({ textSha: sha(TEXT), mmSha: sha(MMPROJ) }));
    // Cut once the first half is on disk, so the test knows exactly where the resume must start.
    await partReaches(home, 'tiny', 'tiny-text.gguf', half);
    server.dropConnections();
    const r = await p;
    expect(r.downloaded).toBe(true);
    const reqs = server.requestsFor('tiny-text.gguf');
    expect(reqs.map((x) => x.status)).toEqual([200, 206]);
    expect(reqs[0].range).toBeNull();
    const start = Number(/^bytes=(\d+)-$/.exec(reqs[1].range ?? '')?.[1]);
    // Every byte that arrived before the cut was kept: the resume starts exactly there.
    expect(reqs[0].bytesSent).toBe(half);
    expect(start).toBe(half);
    expect(reqs[1].bytesSent).toBe(TEXT.length - start);
    expect(fs.readFileSync(r.model.textPath).equals(TEXT)).toBe(true);
    expect(fs.readFileSync(r.model.mmprojPath).equals(MMPROJ)).toBe(true);
    expect(cacheFiles(home, 'tiny')).toEqual(['model.json', 'tiny-mmproj.gguf', 'tiny-text.gguf']);
  });

  it('a file changed on the server since the .part began is fetched whole (If-Range), not spliced', async () => {
    const home = freshHome();
    const v2 = textGguf({ width: 64, rows: 520 });
    server.files.set('tiny-text.gguf', TEXT);
    server.etags.set('tiny-text.gguf', '"v1"');
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'stall', bytes: 30_000 }, { kind: 'normal' }]);
    const pending = pullTiny(home, tinyCatalog()).p;
    await partReaches(home, 'tiny', 'tiny-text.gguf', 30_000);
    server.files.set('tiny-text.gguf', v2);
    server.etags.set('tiny-text.gguf', '"v2"');
    server.dropConnections();
    const r = await pending;
    const reqs = server.requestsFor('tiny-text.gguf');
    expect(reqs.map((x) => [x.status, x.ifRange])).toEqual([[200, null], [200, '"v1"']]);
    expect(reqs[1].range).toMatch(/^bytes=\d+-$/);
    expect(fs.readFileSync(r.model.textPath).equals(v2)).toBe(true);
    expect(cacheFiles(home, 'tiny')).toEqual(['model.json', 'tiny-mmproj.gguf', 'tiny-text.gguf']);
  });

  it('a file another cached model already has (a shared mmproj) is linked, not fetched', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-text-f16.gguf', textGguf({ width: 64, rows: 8 }));
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    const catalog = tinyCatalog();
    const env = { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base };
    const { log } = capture();
    const a = await pullModel(catalog.models[0], { log, level: 'normal', env, catalog });
    const b = await pullModel(catalog.models[1], { log, level: 'normal', env, catalog });
    expect(server.requests.map((r) => r.path)).toEqual(['/models/tiny-text.gguf', '/models/tiny-mmproj.gguf', '/models/tiny-text-f16.gguf']);
    expect(fs.statSync(b.model.mmprojPath).ino).toBe(fs.statSync(a.model.mmprojPath).ino);
  });

  it('a server that ignores Range makes the download start over, not append', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'stall', bytes: 1000 }, { kind: 'ignore-range' }]);
    const pending = pullTiny(home, tinyCatalog()).p;
    await partReaches(home, 'tiny', 'tiny-text.gguf', 1000);
    server.dropConnections();
    const r = await pending;
    expect(server.requestsFor('tiny-text.gguf')[1].range).toBe('bytes=1000-');
    expect(server.requestsFor('tiny-text.gguf').map((x) => x.status)).toEqual([200, 200]);
    expect(fs.readFileSync(r.model.textPath).equals(TEXT)).toBe(true);
  });

  it('a complete .part left from an interrupted run is confirmed by a 416, not fetched again', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    fs.mkdirSync(modelDir('tiny', { QWEN3ASR_HOME: home }), { recursive: true });
    fs.writeFileSync(path.join(home, 'models', 'tiny', 'tiny-text.gguf.part'), TEXT);
    const r = await pullTiny(home, tinyCatalog()).p;
    expect(server.requestsFor('tiny-text.gguf').map((x) => x.status)).toEqual([416]);
    expect(fs.readFileSync(r.model.textPath).equals(TEXT)).toBe(true);
  });

  it('a corrupted byte is caught by sha256 and the bad file is deleted', async () => {
    const home = freshHome();
    const bad = Buffer.from(MMPROJ);
    bad[bad.length - 5] ^= 0xff;
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', bad);
    const err = await pullTiny(home, tinyCatalog({ textSha: sha(TEXT), mmSha: sha(MMPROJ) })).p.catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`tiny-mmproj.gguf from ${base}tiny-mmproj.gguf is corrupt (sha256 ${sha(bad)}, expected ${sha(MMPROJ)}); it was deleted`);
    // Only the good, complete text download stays, as a resumable .part: nothing looks cached.
    expect(cacheFiles(home, 'tiny')).toEqual(['tiny-text.gguf.part']);
    expect(readCached('tiny', { QWEN3ASR_HOME: home })).toBeNull();
  });

  it('a wrong size from the server is rejected when the catalog knows the size', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    const err = await pullTiny(home, tinyCatalog({ textBytes: TEXT.length + 10 })).p.catch((e) => e);
    expect(err.message).toBe(`could not download tiny-text.gguf from ${base}tiny-text.gguf: the server's file is ${TEXT.length} bytes, not the ${TEXT.length + 10} expected`);
    expect(cacheFiles(home, 'tiny')).toEqual([]);
  });

  it('a pair that does not fit together is deleted after download', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', mmprojGguf({ outWidth: 32 }));
    const err = await pullTiny(home, tinyCatalog()).p.catch((e) => e);
    expect(err.message).toBe('tiny-mmproj.gguf produces 32-wide embeddings but tiny-text.gguf expects 64 (downloaded for tiny; the files were deleted)');
    expect(cacheFiles(home, 'tiny')).toEqual([]);
  });

  it('5xx answers are retried with backoff', async () => {
    const home = freshHome();
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    server.files.set('tiny-text.gguf', TEXT);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'status', code: 503 }, { kind: 'status', code: 502 }, { kind: 'normal' }]);
    await pullTiny(home, tinyCatalog()).p;
    expect(server.requestsFor('tiny-text.gguf').map((r) => r.status)).toEqual([503, 502, 200]);
  });

  it('a server that goes silent times out and the download resumes', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'stall', bytes: 20_000 }, { kind: 'normal' }]);
    const { log } = capture();
    const catalog = tinyCatalog();
    const env = { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base };
    const r = await pullModel(catalog.models[0], { log, level: 'normal', env, catalog, backoffMs: 10, timeoutMs: 300 });
    expect(server.requestsFor('tiny-text.gguf').map((x) => x.range)).toEqual([null, 'bytes=20000-']);
    expect(fs.readFileSync(r.model.textPath).equals(TEXT)).toBe(true);
  });

  it('goes through HTTP_PROXY, and not when NO_PROXY names the host', async () => {
    const proxy = await startConnectProxy();
    try {
      server.files.set('tiny-text.gguf', TEXT);
      server.files.set('tiny-mmproj.gguf', MMPROJ);
      const { log } = capture();
      const catalog = tinyCatalog();
      const env = { QWEN3ASR_HOME: freshHome(), QWEN3ASR_MODEL_BASE_URL: base, HTTP_PROXY: proxy.url };
      await pullModel(catalog.models[0], { log, level: 'normal', env, catalog });
      const hostPort = new URL(base).host;
      // One pool for the whole pull: both files may share a tunnel.
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
      expect(new Set(proxy.tunnels)).toEqual(new Set([hostPort]));
      const tunnels = proxy.tunnels.length;

      const direct = { ...env, QWEN3ASR_HOME: freshHome(), NO_PROXY: '127.0.0.1' };
      await pullModel(catalog.models[0], { log, level: 'normal', env: direct, catalog });
      expect(proxy.tunnels).toHaveLength(tunnels);
      expect(server.requests).toHaveLength(4);
    } finally {
      await proxy.stop();
    }
  });

  it('persistent 5xx gives up after a few tries', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'status', code: 503 }]);
    const err = await pullTiny(home, tinyCatalog()).p.catch((e) => e);
    expect(err.message).toBe(`could not download tiny-text.gguf from ${base}tiny-text.gguf: HTTP 503 Service Unavailable (gave up after 4 tries)`);
    expect(server.requestsFor('tiny-text.gguf')).toHaveLength(4);
  });

  it('Ctrl-C stops the download, keeps the .part and nothing looks complete; a later run resumes', async () => {
    const home = freshHome();
    server.files.set('tiny-text.gguf', TEXT);
    server.files.set('tiny-mmproj.gguf', MMPROJ);
    server.behaviours.set('tiny-text.gguf', [{ kind: 'stall', bytes: 50_000 }, { kind: 'normal' }]);
    const ac = new AbortController();
    const { p } = pullTiny(home, tinyCatalog(), { signal: ac.signal });
    const part = path.join(home, 'models', 'tiny', 'tiny-text.gguf.part');
    while (!fs.existsSync(part) || fs.statSync(part).size < 50_000) await new Promise((r) => setTimeout(r, 10));
    ac.abort(new InterruptedError('interrupted (Ctrl-C)'));
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(cacheFiles(home, 'tiny')).toEqual(['tiny-text.gguf.part']);
    expect(fs.statSync(part).size).toBe(50_000);
    expect(fs.existsSync(path.join(home, 'models', '.locks', 'tiny.lock'))).toBe(false);
    const r = await pullTiny(home, tinyCatalog()).p;
    expect(server.requestsFor('tiny-text.gguf')[1].range).toBe('bytes=50000-');
    expect(fs.readFileSync(r.model.textPath).equals(TEXT)).toBe(true);
  });
});

describe('GGUF extent', () => {
  it('knows the block sizes of the common types', () => {
    const t = (type: number, shape: number[]) => tensorBytes({ name: 'x', type, shape, offset: 0n });
    expect(t(0, [64, 2])).toBe(512n); // F32
    expect(t(1, [64, 2])).toBe(256n); // F16
    expect(t(30, [64, 2])).toBe(256n); // BF16
    expect(t(8, [64, 2])).toBe(136n); // Q8_0: 34 bytes per 32
    expect(t(12, [1024, 3])).toBe(1728n); // Q4_K: 144 bytes per 256
    expect(t(14, [256, 1])).toBe(210n); // Q6_K
    expect(t(23, [256, 1])).toBe(136n); // IQ4_XS
    expect(t(999, [256, 1])).toBeNull();
  });

  it('the data offset honours general.alignment, and the extent ends at the last tensor', () => {
    const file = write('aligned.gguf', ggufBytes({ 'general.architecture': 'qwen3', 'general.alignment': 64 }, [{ name: 'a', shape: [10] }, { name: 'b', shape: [8, 2] }], 64));
    const h = readGgufHeader(file);
    expect(h.dataOffset % 64n).toBe(0n);
    // a: 40 bytes padded to 64; b: 64 bytes at offset 64.
    expect(expectedMinimumSize(h)).toBe(h.dataOffset + 128n);
    expect(BigInt(fs.statSync(file).size)).toBe(h.dataOffset + 128n);
  });

  it('a tensor of an unknown type skips the size check instead of guessing', () => {
    const bytes = ggufBytes({ 'general.architecture': 'qwen3', 'qwen3.embedding_length': 64 }, [{ name: 'token_embd.weight', shape: [64, 4], type: 200 }]);
    const file = write('unknown-type.gguf', bytes.subarray(0, bytes.length - 10));
    expect(expectedMinimumSize(readGgufHeader(file))).toBeNull();
    expect(() => validateModelPair(file, write('m.gguf', MMPROJ))).not.toThrow();
  });
});

describe('validation before any run', () => {
  const good = () => ({ text: write('text.gguf', TEXT), mmproj: write('mmproj.gguf', MMPROJ) });

  it('accepts a matching pair', () => {
    const g = good();
    expect(validateModelPair(g.text, g.mmproj)).toMatchObject({ projector: 'qwen3asr', embeddingWidth: 64, windowSeconds: 8 });
  });
  it('accepts upstream qwen3a projectors', () => {
    const g = good();
    expect(validateModelPair(g.text, write('mm.gguf', mmprojGguf({ projector: 'qwen3a' }))).projector).toBe('qwen3a');
  });

  // What upstream's convert_hf_to_gguf.py writes for Qwen3-ASR (the ggml-org files): arch qwen3vl
  // without deepstack layers, Qwen3-ASR's vocabulary. (test/upstream-files.test.ts loads real ones.)
  const ASR_TOKENS = ['!', 'a', '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|audio_start|>', '<|audio_end|>', '<|audio_pad|>', '<asr_text>'];
  // Qwen3-VL's own vocabulary stops before the audio tokens.
  const VL_TOKENS = ['!', 'a', '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|vision_start|>', '<|vision_end|>', '<|image_pad|>'];
  const qwen3vl = (deepstack: number | null, tokens: readonly string[] | null = ASR_TOKENS) =>
    textGguf({ arch: 'qwen3vl', tokens: tokens ?? undefined, meta: deepstack === null ? {} : { 'qwen3vl.n_deepstack_layers': deepstack } });

  it('accepts an upstream qwen3vl text model (no deepstack layers, audio tokens) beside qwen3', () => {
    const pair = validateModelPair(write('t.gguf', qwen3vl(0)), write('m.gguf', mmprojGguf({ projector: 'qwen3a' })));
    expect(pair).toMatchObject({ textArchitecture: 'qwen3vl', projector: 'qwen3a', embeddingWidth: 64, windowSeconds: 8 });
    expect(validateModelPair(write('t.gguf', qwen3vl(0)), write('m.gguf', MMPROJ))).toMatchObject({ textArchitecture: 'qwen3vl', projector: 'qwen3asr' });
    expect(validateModelPair(write('t.gguf', textGguf({ tokens: ASR_TOKENS })), write('m.gguf', MMPROJ)).textArchitecture).toBe('qwen3');
  });

  const cases: Array<[string, () => [string, string], (t: string, m: string) => string]> = [
    ['width mismatch', () => [write('t.gguf', TEXT), write('m.gguf', mmprojGguf({ outWidth: 128 }))], (t, m) => `${m} produces 128-wide embeddings but ${t} expects 64`],
    ['a vision mmproj', () => [write('t.gguf', TEXT), write('m.gguf', mmprojGguf({ vision: true }))], (_t, m) => `${m} is a vision encoder, not a Qwen3-ASR audio encoder (qwen3asr or qwen3a)`],
    ['a wrong text architecture', () => [write('t.gguf', textGguf({ arch: 'llama' })), write('m.gguf', MMPROJ)], (t) => `${t} is a 'llama' model, not a Qwen3-ASR text model (architecture qwen3 or qwen3vl)`],
    ['a real Qwen3-VL (deepstack layers)', () => [write('t.gguf', qwen3vl(3, VL_TOKENS)), write('m.gguf', MMPROJ)], (t) => `${t} is a Qwen3-VL vision-language model (3 deepstack layers), not a Qwen3-ASR text model`],
    ['a qwen3vl file that does not say its deepstack layers', () => [write('t.gguf', qwen3vl(null)), write('m.gguf', MMPROJ)], (t) => `${t} is a qwen3vl model without qwen3vl.n_deepstack_layers, not a Qwen3-ASR text model`],
    ['a qwen3vl without deepstack but with Qwen3-VL\'s vocabulary', () => [write('t.gguf', qwen3vl(0, VL_TOKENS)), write('m.gguf', MMPROJ)], (t) => `${t} is a qwen3vl text model without Qwen3-ASR's audio tokens (no <|audio_start|>, <|audio_end|>, <|audio_pad|>), not a Qwen3-ASR text model`],
    ['a qwen3vl without a vocabulary', () => [write('t.gguf', qwen3vl(0, null)), write('m.gguf', MMPROJ)], (t) => `${t} is a qwen3vl text model without Qwen3-ASR's audio tokens (no <|audio_start|>, <|audio_end|>, <|audio_pad|>), not a Qwen3-ASR text model`],
    ['a plain Qwen3 language model (no audio tokens)', () => [write('t.gguf', textGguf({ tokens: VL_TOKENS })), write('m.gguf', MMPROJ)], (t) => `${t} is a qwen3 text model without Qwen3-ASR's audio tokens (no <|audio_start|>, <|audio_end|>, <|audio_pad|>), not a Qwen3-ASR text model`],
    ['a truncated text GGUF', () => [write('t.gguf', TEXT.subarray(0, TEXT.length - 100)), write('m.gguf', MMPROJ)], (t) => `${t} is truncated: ${TEXT.length - 100} bytes, but its tensors need ${TEXT.length}`],
    ['a truncated mmproj', () => [write('t.gguf', TEXT), write('m.gguf', MMPROJ.subarray(0, MMPROJ.length - 1))], (_t, m) => `${m} is truncated: ${MMPROJ.length - 1} bytes, but its tensors need ${MMPROJ.length}`],
    ['a header cut short', () => [write('t.gguf', TEXT.subarray(0, 40)), write('m.gguf', MMPROJ)], (t) => `${t} is not a usable GGUF text model: the file ends inside its header (truncated?)`],
    ['mmproj and text swapped', () => [write('m.gguf', MMPROJ), write('t.gguf', TEXT)], (t) => `${t} is an encoder (mmproj) file, not a text model`],
  ];
  for (const [what, make, message] of cases) {
    it(`${what} is caught with a message naming the file`, () => {
      const [t, m] = make();
      expect(() => validateModelPair(t, m)).toThrow(message(t, m));
    });
  }
});

describe('resolveModel', () => {
  it('a checkpoint folder is converted once into the cache, then reused', async () => {
    const home = freshHome();
    const ckpt = path.join(tmp, 'Qwen3-ASR-0.6B');
    fs.mkdirSync(ckpt);
    fs.writeFileSync(path.join(ckpt, 'config.json'), '{}');
    let calls = 0;
    const convert = async (_dir: string, o: { outDir: string }) => {
      calls += 1;
      fs.writeFileSync(path.join(o.outDir, 'text-f16.gguf'), TEXT);
      fs.writeFileSync(path.join(o.outDir, 'mmproj.gguf'), MMPROJ);
      return { text: path.join(o.outDir, 'text-f16.gguf'), mmproj: path.join(o.outDir, 'mmproj.gguf') };
    };
    const { log } = capture();
    const env = { QWEN3ASR_HOME: home };
    const a = await resolveModel(ckpt, null, log, { env, convert });
    const b = await resolveModel(ckpt, null, log, { env, convert });
    expect(calls).toBe(1);
    expect(a.text).toBe(b.text);
    expect(a.text.startsWith(path.join(home, 'models', 'qwen3-asr-0.6b-'))).toBe(true);
    expect(fs.readdirSync(path.join(home, 'models')).filter((n) => !n.startsWith('.'))).toHaveLength(1);
  });

  it('a real checkpoint folder is converted by our converter once, then reused', async () => {
    const ckpt = path.join(tmp, 'Qwen3-ASR-tiny-ckpt');
    await generateSynthetic(ckpt, { shape: 'tiny' });
    const { log } = capture();
    const env = { QWEN3ASR_HOME: freshHome() };
    const a = await resolveModel(ckpt, null, log, { env });
    const mtime = fs.statSync(a.text).mtimeMs;
    const b = await resolveModel(ckpt, null, log, { env });
    expect(b.text).toBe(a.text);
    expect(fs.statSync(b.text).mtimeMs).toBe(mtime);
    expect(a.projector).toBe('qwen3asr');
  });

  it('a folder that is not a Qwen3-ASR checkpoint gets the converter\'s clear message', async () => {
    const ckpt = path.join(tmp, 'ckpt-not-asr');
    fs.mkdirSync(ckpt);
    fs.writeFileSync(path.join(ckpt, 'config.json'), '{"model_type": "llama"}');
    const { log } = capture();
    await expect(resolveModel(ckpt, null, log, { env: { QWEN3ASR_HOME: freshHome() } })).rejects.toThrow(/qwen3_asr/);
  });

  it('an unknown name lists the aliases', async () => {
    const { log } = capture();
    await expect(resolveModel('2b', null, log, { env: { QWEN3ASR_HOME: freshHome() } })).rejects.toThrow("unknown model '2b'");
  });

  it('--mmproj with an alias is a usage error', async () => {
    const { log } = capture();
    await expect(resolveModel('0.6b', 'x.gguf', log, { env: { QWEN3ASR_HOME: freshHome() } })).rejects.toThrow(
      "--mmproj goes with a --model path, not the model name '0.6b'",
    );
  });
});

describe('the CLI (compiled)', () => {
  const env = (home: string, baseUrl = base) => ({ env: { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: baseUrl } });

  it('pulls 0.6b once (no progress bar off a terminal), then uses the cache without a request', async () => {
    const home = freshHome();
    server.files.set(ZERO_SIXB.text, TEXT);
    server.files.set(ZERO_SIXB.mmproj, MMPROJ);
    const r = await runCli(['models', 'pull', '0.6b'], env(home));
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe(`0.6b is ready in ${path.join(home, 'models', '0.6b')}`);
    expect(server.requests).toHaveLength(2);

    const again = await runCli(['models', 'pull', '0.6b'], env(home));
    expect(again.code).toBe(0);
    expect(server.requests).toHaveLength(2);

    const p = await runCli(['models', 'path', '0.6b'], env(home));
    expect(p.code).toBe(0);
    const [t, m] = p.stdout.trim().split('\n');
    expect(fs.readFileSync(t).equals(TEXT)).toBe(true);
    expect(fs.readFileSync(m).equals(MMPROJ)).toBe(true);

    const { log } = capture();
    const resolved = await resolveModel('0.6b', null, log, { env: { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base } });
    expect(resolved).toMatchObject({ name: '0.6b', text: t, mmproj: m });
    expect(server.requests).toHaveLength(2);

    const list = await runCli(['models', 'list'], env(home));
    expect(list.stdout).toMatch(/^0\.6b \(default\)\s+\S+ kB\s+yes\s/m);
    expect(list.stdout).toMatch(/^1\.7b\s+~2\.5 GB\s+no\s/m);
    expect(list.stdout).toMatch(/^0\.6b-q4_k_m\s+~680 MB\s+no\s+Qwen3-ASR 0\.6B, text Q4_K_M made here from 0\.6b/m);
    expect(list.stdout).toContain(`cache: ${path.join(home, 'models')}`);
  });

  it('a 404 gives one clear line', async () => {
    const home = freshHome();
    const r = await runCli(['models', 'pull', '0.6b'], env(home));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `qwen3asr: could not download ${ZERO_SIXB.text} from ${base}${ZERO_SIXB.text}: HTTP 404 Not Found — provide the files yourself: --model TEXT.gguf --mmproj MMPROJ.gguf, or \`qwen3asr models import TEXT.gguf MMPROJ.gguf --as 0.6b\``,
    );
    expect(cacheFiles(home, '0.6b')).toEqual([]);
  });

  it('a refused connection gives one clear line', async () => {
    const home = freshHome();
    const refused = await refusedBaseUrl();
    const r = await runCli(['models', 'pull', '1.7b'], env(home, refused));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `qwen3asr: could not download Qwen3-ASR-1.7B-Q8_0.gguf from ${refused}Qwen3-ASR-1.7B-Q8_0.gguf: connection refused — provide the files yourself: --model TEXT.gguf --mmproj MMPROJ.gguf, or \`qwen3asr models import TEXT.gguf MMPROJ.gguf --as 1.7b\``,
    );
    expect(cacheFiles(home, '1.7b')).toEqual([]);
  });

  it('two processes pulling the same model at once download it once', async () => {
    const home = freshHome();
    server.files.set(ZERO_SIXB.text, TEXT);
    server.files.set(ZERO_SIXB.mmproj, MMPROJ);
    server.behaviours.set(ZERO_SIXB.text, [{ kind: 'slow', delayMs: 600 }]);
    const [a, b] = await Promise.all([runCli(['models', 'pull', '0.6b'], env(home)), runCli(['models', 'pull', '0.6b'], env(home))]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(server.requestsFor(ZERO_SIXB.text)).toHaveLength(1);
    expect(server.requestsFor(ZERO_SIXB.mmproj)).toHaveLength(1);
    expect(`${a.stderr}${b.stderr}`).toMatch(/waiting for another qwen3asr \(pid \d+\) that is downloading 0\.6b/);
    expect(cacheFiles(home, '0.6b')).toEqual([ZERO_SIXB.mmproj, ZERO_SIXB.text, 'model.json'].sort());
  });

  it('import, list, path, rm', async () => {
    const home = freshHome();
    const t = write('My-Text.gguf', TEXT);
    const m = write('my-mmproj.gguf', MMPROJ);
    const imp = await runCli(['models', 'import', t, m, '--as', 'mine'], env(home));
    expect(imp.code).toBe(0);
    expect(imp.stderr.trim()).toBe('imported as mine: use it with --model mine');
    const dup = await runCli(['models', 'import', t, m, '--as', 'mine'], env(home));
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim()).toBe('qwen3asr: a model named mine is already in the cache — remove it first with `qwen3asr models rm mine`, or pick another name with --as');

    const list = await runCli(['models', 'list'], env(home));
    expect(list.stdout).toMatch(new RegExp(`^mine\\s+\\S+ kB\\s+yes\\s+imported from ${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const p = await runCli(['models', 'path', 'mine'], env(home));
    expect(p.stdout).toBe(`${path.join(home, 'models', 'mine', path.basename(t))}\n${path.join(home, 'models', 'mine', path.basename(m))}`);
    // Same filesystem: hard links, not copies.
    expect(fs.statSync(p.stdout.split('\n')[0]).ino).toBe(fs.statSync(t).ino);

    const json = JSON.parse((await runCli(['models', 'list', '--json'], env(home))).stdout);
    expect(json.models.find((x: { name: string }) => x.name === 'mine')).toEqual({
      name: 'mine', description: `imported from ${t}`, cached: true, partial: false, source: 'import',
      text: path.join(home, 'models', 'mine', path.basename(t)), mmproj: path.join(home, 'models', 'mine', path.basename(m)), bytes: TEXT.length + MMPROJ.length,
    });
    expect(json.models[0]).toMatchObject({ name: '0.6b', cached: false, text: null });

    const rm = await runCli(['models', 'rm', 'mine'], env(home));
    expect(rm.code).toBe(0);
    expect(fs.existsSync(t)).toBe(true);
    const gone = await runCli(['models', 'path', 'mine'], env(home));
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe('qwen3asr: mine is not in the cache — see `qwen3asr models list`');
    expect(fs.readdirSync(path.join(home, 'models')).filter((n) => n !== '.locks')).toEqual([]);
  });

  it('import refuses a bad pair and caches nothing', async () => {
    const home = freshHome();
    const t = write('t.gguf', TEXT);
    const m = write('m.gguf', mmprojGguf({ outWidth: 128 }));
    const r = await runCli(['models', 'import', t, m, '--as', 'bad'], env(home));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `qwen3asr: ${m} produces 128-wide embeddings but ${t} expects 64 — use the text model and mmproj of the same size (0.6B with 0.6B, 1.7B with 1.7B)`,
    );
    expect(fs.existsSync(path.join(home, 'models', 'bad'))).toBe(false);
  });

  it('path of a model not cached exits 1 and says how to get it', async () => {
    const r = await runCli(['models', 'path', '1.7b'], { env: { QWEN3ASR_HOME: freshHome() } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('qwen3asr: 1.7b is not in the cache — download it with `qwen3asr models pull 1.7b`');
  });

  it('models --help lists the subcommands', async () => {
    const r = await runCli(['models', '--help']);
    expect(r.code).toBe(0);
    for (const c of ['list', 'pull', 'import', 'path', 'rm']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(BIN).toMatch(/qwen3asr\.js$/);
  });
});

describe('Ctrl-C in the real CLI', () => {
  it('SIGINT stops a pull with exit 130, keeps the .part and no lock, and a later pull resumes', async () => {
    const home = freshHome();
    server.files.set(ZERO_SIXB.text, TEXT);
    server.files.set(ZERO_SIXB.mmproj, MMPROJ);
    server.behaviours.set(ZERO_SIXB.text, [{ kind: 'stall', bytes: 40_000 }, { kind: 'normal' }]);
    const child = execa(process.execPath, [BIN, 'models', 'pull', '0.6b'], { reject: false, env: { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base } });
    const part = path.join(home, 'models', '0.6b', `${ZERO_SIXB.text}.part`);
    while (!fs.existsSync(part) || fs.statSync(part).size < 40_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr).trim()).toBe('qwen3asr: interrupted (Ctrl-C)');
    expect(cacheFiles(home, '0.6b')).toEqual([`${ZERO_SIXB.text}.part`]);
    expect(fs.existsSync(path.join(home, 'models', '.locks', '0.6b.lock'))).toBe(false);

    const list = await runCli(['models', 'list'], { env: { QWEN3ASR_HOME: home } });
    expect(list.stdout).toMatch(/^0\.6b \(default\)\s+~1\.0 GB\s+partial\s/m);

    const again = await runCli(['models', 'pull', '0.6b', '--quiet'], { env: { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base } });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(server.requestsFor(ZERO_SIXB.text).map((x) => x.range)).toEqual([null, 'bytes=40000-']);
  });
});

describe('hf: references and picking a pair (pure)', () => {
  const f = (p: string): HubFile => ({ path: p, bytes: 1, sha256: null });
  it('parses hf:OWNER/REPO[:QUANT] and names its cache folder', () => {
    expect(parseHfRef('hf:ggml-org/Qwen3-ASR-0.6B-GGUF')).toEqual({ repo: 'ggml-org/Qwen3-ASR-0.6B-GGUF', quant: null });
    const ref = parseHfRef('hf:a.b/c_d:q4_k_m');
    expect([hfName(ref), hfFolder(ref)]).toEqual(['hf:a.b/c_d:Q4_K_M', 'hf--a.b--c_d--Q4_K_M']);
    for (const bad of ['hf:', 'hf:only', 'hf:a/b/c', 'hf:a/b:c:d', 'hf:a--b/c', 'hf:a/../b', 'hf:a/b:Q 8']) {
      expect(() => parseHfRef(bad), bad).toThrow(`'${bad}' is not a Hugging Face model reference`);
    }
  });
  it('reads the quantization from llama.cpp-style file names', () => {
    expect(['M-Q8_0.gguf', 'm_q4_k_m.gguf', 'x/M-IQ4_XS.gguf', 'M.f16.gguf', 'mmproj-M-BF16.gguf', 'M.gguf', 'Qwen3-ASR-0.6B.gguf'].map(quantOf)).toEqual([
      'Q8_0', 'Q4_K_M', 'IQ4_XS', 'F16', 'BF16', null, null,
    ]);
  });
  it('default: Q8_0, else the stated order; the mmproj of the same quantization, else F16', () => {
    const files = ['README.md', 'M-F16.gguf', 'M-Q4_K_M.gguf', 'M-Q8_0.gguf', 'mmproj-M-F16.gguf', 'mmproj-M-Q8_0.gguf'].map(f);
    expect(pickPair('o/r', files, null)).toMatchObject({ text: { path: 'M-Q8_0.gguf' }, mmproj: { path: 'mmproj-M-Q8_0.gguf' }, quant: 'Q8_0' });
    expect(pickPair('o/r', files, 'Q4_K_M')).toMatchObject({ text: { path: 'M-Q4_K_M.gguf' }, mmproj: { path: 'mmproj-M-F16.gguf' } });
    const noQ8 = ['M-Q4_K_M.gguf', 'M-Q6_K.gguf', 'M-F32.gguf', 'sub/mmproj-M.gguf'].map(f);
    expect(pickPair('o/r', noQ8, null)).toMatchObject({ text: { path: 'M-Q6_K.gguf' }, mmproj: { path: 'sub/mmproj-M.gguf' } });
    expect(pickPair('o/r', ['model.gguf', 'mmproj.gguf'].map(f), null)).toMatchObject({ text: { path: 'model.gguf' }, quant: null });
  });
  it('says what a repo holds when it has no pair, or not the asked quantization', () => {
    expect(() => pickPair('o/r', ['README.md', 'model.onnx', 'single.gguf'].map(f), null)).toThrow(
      'o/r has no Qwen3-ASR GGUF pair (a text GGUF and an mmproj GGUF): it holds README.md, model.onnx, single.gguf',
    );
    expect(() => pickPair('o/r', ['M-00001-of-00002.gguf', 'M-00002-of-00002.gguf', 'mmproj.gguf'].map(f), null)).toThrow(
      'o/r has no Qwen3-ASR GGUF pair (a text GGUF and an mmproj GGUF) (split GGUF files are not supported): it holds',
    );
    expect(() => pickPair('o/r', [], null)).toThrow('o/r has no Qwen3-ASR GGUF pair (a text GGUF and an mmproj GGUF): it is empty');
    expect(() => pickPair('o/r', ['M-Q8_0.gguf', 'M-F16.gguf', 'mmproj-M-F16.gguf'].map(f), 'Q5_K_M')).toThrow('o/r has no Q5_K_M text GGUF: it has Q8_0, F16');
  });
  it('names a requantized file as ggml-org names its files', () => {
    expect(quantizedFileName('Qwen3-ASR-0.6B-Q8_0.gguf', 'q4_k_m')).toBe('Qwen3-ASR-0.6B-Q4_K_M.gguf');
    expect(quantizedFileName('model.gguf', 'q4_k_m')).toBe('model-Q4_K_M.gguf');
  });
});

describe('Hugging Face Hub (a loopback Hub and CDN)', () => {
  const hub = new HubServer();
  let endpoint = '';
  beforeAll(async () => {
    endpoint = await hub.start();
  });
  afterAll(() => hub.stop());
  beforeEach(() => hub.reset());

  const GGML_06 = 'ggml-org/Qwen3-ASR-0.6B-GGUF';
  const hubEnv = (home: string, extra: Record<string, string | undefined> = {}) => ({
    QWEN3ASR_HOME: home, HF_ENDPOINT: endpoint, HF_TOKEN: undefined, QWEN3ASR_MODEL_BASE_URL: undefined, ...extra,
  });
  const pullOpts = (env: NodeJS.ProcessEnv) => ({ ...capture(), level: 'normal' as const, env, retries: 3, backoffMs: 10 });
  const resolveUrlOf = (repo: string, file: string) => `${endpoint}/${repo}/resolve/main/${file}`;
  const manifestOf = (home: string, folder: string) => JSON.parse(fs.readFileSync(path.join(home, 'models', folder, 'model.json'), 'utf8'));

  it('`qwen3asr a.wav` on a fresh cache fetches ggml-org\'s 0.6b files from HF_ENDPOINT, checks their sha256 and transcribes', async () => {
    // the files as ggml-org has them: written by llama.cpp's own converter (qwen3vl text, qwen3a mmproj, Q8_0)
    const set = await upstreamModelSet({ llamaSource: inject('llamaSource'), script: 'language English<asr_text>Hello world.<|im_end|>' });
    const model = await set.upstream('q8_0');
    const text = fs.readFileSync(model.text);
    const mmproj = fs.readFileSync(model.mmproj);
    hub.addRepo(GGML_06, { 'README.md': Buffer.from('# Qwen3-ASR-0.6B-GGUF\n'), [ZERO_SIXB.text]: text, [ZERO_SIXB.mmproj]: mmproj });
    const home = freshHome();
    const wav = write('a.wav', floatWavBytes(script([{ pause: 0.5, audio: speak('This is a short test of the whole download.') }], 0.5).samples));
    const r = await runCli([wav, '-f', 'txt', '-o', '-', '--threads', '2'], { env: { ...hubEnv(home), QWEN3ASR_BIN_DIR: inject('binDir') } });
    expect(r.stderr).toContain(`0.6b is ready in ${path.join(home, 'models', '0.6b')}`);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('Hello world.');
    // The Hub was asked for ggml-org's names; the bytes came from the CDN it redirected to.
    expect(hub.requests.map((x) => [x.path, x.status])).toEqual([
      [`/${GGML_06}/resolve/main/${ZERO_SIXB.text}`, 302],
      [`/${GGML_06}/resolve/main/${ZERO_SIXB.mmproj}`, 302],
    ]);
    expect(hub.cdn.requests.map((x) => [x.path, x.status, x.bytesSent])).toEqual([
      [`/models/${GGML_06}/${ZERO_SIXB.text}`, 200, text.length],
      [`/models/${GGML_06}/${ZERO_SIXB.mmproj}`, 200, mmproj.length],
    ]);
    // Verified against the published X-Linked-Etag, which the manifest records.
    expect(manifestOf(home, '0.6b')).toMatchObject({
      name: '0.6b',
      source: { kind: 'catalog', text: resolveUrlOf(GGML_06, ZERO_SIXB.text), mmproj: resolveUrlOf(GGML_06, ZERO_SIXB.mmproj) },
      text: { file: ZERO_SIXB.text, bytes: text.length, sha256: sha(text) },
      mmproj: { file: ZERO_SIXB.mmproj, bytes: mmproj.length, sha256: sha(mmproj) },
    });
  });

  it('a file whose bytes do not match the published sha256 is rejected, deleted, and nothing is cached', async () => {
    hub.addRepo(GGML_06, { [ZERO_SIXB.text]: TEXT, [ZERO_SIXB.mmproj]: MMPROJ });
    const bad = Buffer.from(TEXT);
    bad[bad.length - 3] ^= 0xff;
    hub.cdn.files.set(hub.cdnKey(GGML_06, ZERO_SIXB.text), bad);
    const home = freshHome();
    const r = await runCli(['models', 'pull', '0.6b'], { env: hubEnv(home) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `qwen3asr: ${ZERO_SIXB.text} from ${resolveUrlOf(GGML_06, ZERO_SIXB.text)} is corrupt (sha256 ${sha(bad)}, expected ${sha(TEXT)}); it was deleted — run the command again to download it afresh; if this repeats, the server or mirror has a different file`,
    );
    // The bad file is gone; only the other, still unverified download waits as a resumable .part.
    expect(cacheFiles(home, '0.6b')).toEqual([`${ZERO_SIXB.mmproj}.part`, `${ZERO_SIXB.mmproj}.part.ifrange`]);
    expect(readCached('0.6b', { QWEN3ASR_HOME: home })).toBeNull();
    const list = await runCli(['models', 'list', '--json'], { env: hubEnv(home) });
    expect(JSON.parse(list.stdout).models.filter((m: { cached: boolean }) => m.cached)).toEqual([]);

    // hf: is checked against the tree listing's lfs.oid the same way.
    hub.addRepo('o/r', { 'm-Q8_0.gguf': TEXT, 'mmproj-m-Q8_0.gguf': MMPROJ });
    hub.cdn.files.set(hub.cdnKey('o/r', 'mmproj-m-Q8_0.gguf'), MMPROJ.subarray(0, MMPROJ.length - 1));
    const err = await pullHf(parseHfRef('hf:o/r'), pullOpts(hubEnv(home))).catch((e) => e);
    expect(err.message).toBe(`could not download mmproj-m-Q8_0.gguf from ${resolveUrlOf('o/r', 'mmproj-m-Q8_0.gguf')}: the server's file is ${MMPROJ.length - 1} bytes, not the ${MMPROJ.length} expected`);
    expect(readCached('hf:o/r', { QWEN3ASR_HOME: home })).toBeNull();
  });

  it('a download cut at the CDN resumes there with Range and If-Range, through a fresh redirect from the Hub', async () => {
    hub.addRepo(GGML_06, { [ZERO_SIXB.text]: TEXT, [ZERO_SIXB.mmproj]: MMPROJ });
    const key = hub.cdnKey(GGML_06, ZERO_SIXB.text);
    const half = Math.floor(TEXT.length / 2);
    hub.cdn.behaviours.set(key, [{ kind: 'stall', bytes: half }, { kind: 'normal' }]);
    const home = freshHome();
    const pending = pullModel(loadCatalog().models[0], pullOpts(hubEnv(home)));
    await partReaches(home, '0.6b', ZERO_SIXB.text, half);
    hub.cdn.dropConnections();
    const r = await pending;
    expect(hub.resolveRequests(GGML_06, ZERO_SIXB.text).map((x) => [x.status, x.range])).toEqual([[302, null], [302, `bytes=${half}-`]]);
    expect(hub.cdn.requestsFor(key).map((x) => [x.status, x.range, x.ifRange])).toEqual([
      [200, null, null],
      [206, `bytes=${half}-`, hub.cdn.etags.get(key)],
    ]);
    expect(hub.cdn.requestsFor(key)[1].bytesSent).toBe(TEXT.length - half);
    expect(fs.readFileSync(r.model.textPath).equals(TEXT)).toBe(true);
    expect(r.model.manifest.text.sha256).toBe(sha(TEXT));
  });

  it('each hop takes the proxy NO_PROXY decides for its host: the Hub direct, the CDN through the proxy', async () => {
    const proxy = await startConnectProxy();
    try {
      hub.addRepo(GGML_06, { [ZERO_SIXB.text]: TEXT, [ZERO_SIXB.mmproj]: MMPROJ });
      const hubHost = new URL(endpoint).host;
      const cdnHost = new URL(hub.cdnBase).host;
      await pullModel(loadCatalog().models[0], pullOpts(hubEnv(freshHome(), { HTTP_PROXY: proxy.url, NO_PROXY: hubHost })));
      expect(new Set(proxy.tunnels)).toEqual(new Set([cdnHost]));
      expect(hub.requests).toHaveLength(2);
      expect(hub.cdn.requests).toHaveLength(2);
    } finally {
      await proxy.stop();
    }
  });

  it('a complete .part is confirmed by the Hub\'s X-Linked-Size: no CDN request', async () => {
    hub.addRepo(GGML_06, { [ZERO_SIXB.text]: TEXT, [ZERO_SIXB.mmproj]: MMPROJ });
    const home = freshHome();
    fs.mkdirSync(path.join(home, 'models', '0.6b'), { recursive: true });
    fs.writeFileSync(path.join(home, 'models', '0.6b', `${ZERO_SIXB.text}.part`), TEXT);
    const r = await pullModel(loadCatalog().models[0], pullOpts(hubEnv(home)));
    expect(hub.resolveRequests(GGML_06, ZERO_SIXB.text).map((x) => [x.status, x.range])).toEqual([[302, `bytes=${TEXT.length}-`]]);
    expect(hub.cdn.requestsFor(hub.cdnKey(GGML_06, ZERO_SIXB.text))).toEqual([]);
    expect(r.model.manifest.text.sha256).toBe(sha(TEXT));
  });

  it('HF_TOKEN goes to the Hub, never to the CDN; a gated repo without it says to set it', async () => {
    hub.addRepo(GGML_06, { [ZERO_SIXB.text]: TEXT, [ZERO_SIXB.mmproj]: MMPROJ }, { gated: true });
    hub.addRepo('o/gated', { 'm-Q8_0.gguf': TEXT, 'mmproj-m-Q8_0.gguf': MMPROJ }, { gated: true });
    const none = await runCli(['models', 'pull', '0.6b'], { env: hubEnv(freshHome()) });
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(
      `qwen3asr: could not download ${ZERO_SIXB.text} from ${resolveUrlOf(GGML_06, ZERO_SIXB.text)}: HTTP 401 Unauthorized — the repository is gated or private: set HF_TOKEN to a Hugging Face access token that can read it`,
    );
    const hfNone = await runCli(['models', 'pull', 'hf:o/gated'], { env: hubEnv(freshHome()) });
    expect(hfNone.code).toBe(1);
    expect(hfNone.stderr.trim()).toBe(
      `qwen3asr: o/gated on ${endpoint} cannot be read (HTTP 401): it was not found, or it is gated or private — the repository is gated or private: set HF_TOKEN to a Hugging Face access token that can read it`,
    );
    const wrong = await runCli(['models', 'pull', 'hf:o/gated'], { env: hubEnv(freshHome(), { HF_TOKEN: 'hf_wrong' }) });
    expect(wrong.stderr.trim()).toBe(
      `qwen3asr: o/gated on ${endpoint} cannot be read (HTTP 403): it was not found, or it is gated or private — HF_TOKEN has no access to it: accept the model's conditions on its Hugging Face page, or use a token that can read it`,
    );

    hub.requests.length = 0;
    hub.cdn.requests.length = 0;
    const home = freshHome();
    for (const name of ['0.6b', 'hf:o/gated']) {
      const r = await runCli(['models', 'pull', name], { env: hubEnv(home, { HF_TOKEN: HUB_TOKEN }) });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(hub.requests.map((x) => x.path)).toEqual([
      `/${GGML_06}/resolve/main/${ZERO_SIXB.text}`,
      `/${GGML_06}/resolve/main/${ZERO_SIXB.mmproj}`,
      '/api/models/o/gated/tree/main',
      '/o/gated/resolve/main/m-Q8_0.gguf',
      '/o/gated/resolve/main/mmproj-m-Q8_0.gguf',
    ]);
    expect(new Set(hub.requests.map((x) => x.authorization))).toEqual(new Set([`Bearer ${HUB_TOKEN}`]));
    expect(hub.cdn.requests).toHaveLength(4);
    expect(hub.cdn.requests.map((x) => x.authorization)).toEqual([null, null, null, null]);
  });

  it('--model hf:OWNER/REPO picks Q8_0; :QUANT picks that text with its best mmproj; both verified by the tree\'s lfs.oid', async () => {
    const q4 = textGguf({ width: 64, rows: 256 });
    const f16 = textGguf({ width: 64, rows: 300 });
    const mmF16 = mmprojGguf({ outWidth: 64, projector: 'qwen3a' });
    hub.addRepo('o/multi', {
      'README.md': Buffer.from('hi'), 'M-F16.gguf': f16, 'M-Q4_K_M.gguf': q4, 'M-Q8_0.gguf': TEXT, 'mmproj-M-F16.gguf': mmF16, 'mmproj-M-Q8_0.gguf': MMPROJ,
    });
    hub.pageSize = 2; // the listing comes in pages, as the real Hub's does
    const home = freshHome();
    const { log } = capture();
    const env = hubEnv(home);
    const a = await resolveModel('hf:o/multi', null, log, { env });
    expect(a).toMatchObject({ name: 'hf:o/multi', projector: 'qwen3asr' });
    expect(fs.readFileSync(a.text).equals(TEXT)).toBe(true);
    expect(fs.readFileSync(a.mmproj).equals(MMPROJ)).toBe(true);
    expect(hub.requests.filter((x) => x.path.startsWith('/api/')).length).toBe(3);

    const b = await resolveModel('hf:o/multi:q4_k_m', null, log, { env });
    expect(b).toMatchObject({ name: 'hf:o/multi:Q4_K_M', projector: 'qwen3a' });
    expect([path.basename(b.text), path.basename(b.mmproj)]).toEqual(['M-Q4_K_M.gguf', 'mmproj-M-F16.gguf']);
    expect(manifestOf(home, 'hf--o--multi--Q4_K_M')).toMatchObject({
      name: 'hf:o/multi:Q4_K_M', source: { kind: 'hf', repo: 'o/multi' }, text: { sha256: sha(q4) }, mmproj: { sha256: sha(mmF16) },
    });

    // The same files under another name are linked, not fetched again.
    const cdnBefore = hub.cdn.requests.length;
    const c = await resolveModel('hf:o/multi:Q8_0', null, log, { env });
    expect(hub.cdn.requests.length).toBe(cdnBefore);
    expect(fs.statSync(c.text).ino).toBe(fs.statSync(a.text).ino);
    // Cached: no request at all.
    const before = hub.requests.length;
    await resolveModel('hf:o/multi', null, log, { env });
    expect(hub.requests.length).toBe(before);

    const none = await runCli(['models', 'pull', 'hf:o/multi:Q5_K_M'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe('qwen3asr: o/multi has no Q5_K_M text GGUF: it has Q8_0, F16, Q4_K_M — pick one of them, for example hf:o/multi:Q8_0');
  });

  it('models pull, list, path and rm know hf: names', async () => {
    hub.addRepo('o/r', { 'm-Q8_0.gguf': TEXT, 'mmproj-m-Q8_0.gguf': MMPROJ });
    const home = freshHome();
    const env = hubEnv(home);
    const pull = await runCli(['models', 'pull', 'hf:o/r'], { env });
    expect(pull.code).toBe(0);
    expect(pull.stderr.trim()).toBe(`hf:o/r is ready in ${path.join(home, 'models', 'hf--o--r')}`);
    const again = await runCli(['models', 'pull', 'hf:o/r'], { env });
    expect(again.stderr.trim()).toBe(`hf:o/r is in the cache already: ${path.join(home, 'models', 'hf--o--r')}`);
    expect(hub.cdn.requests).toHaveLength(2);

    const list = await runCli(['models', 'list'], { env });
    expect(list.stdout).toMatch(/^hf:o\/r\s+\S+ kB\s+yes\s+Hugging Face o\/r: m-Q8_0\.gguf \+ mmproj-m-Q8_0\.gguf$/m);
    const json = JSON.parse((await runCli(['models', 'list', '--json'], { env })).stdout);
    expect(json.models.find((m: { name: string }) => m.name === 'hf:o/r')).toMatchObject({ cached: true, source: 'hf', bytes: TEXT.length + MMPROJ.length });
    const p = await runCli(['models', 'path', 'hf:o/r'], { env });
    expect(p.stdout).toBe(`${path.join(home, 'models', 'hf--o--r', 'm-Q8_0.gguf')}\n${path.join(home, 'models', 'hf--o--r', 'mmproj-m-Q8_0.gguf')}`);

    const rm = await runCli(['models', 'rm', 'hf:o/r'], { env });
    expect([rm.code, rm.stderr.trim()]).toEqual([0, 'removed hf:o/r']);
    const gone = await runCli(['models', 'path', 'hf:o/r'], { env });
    expect(gone.stderr.trim()).toBe('qwen3asr: hf:o/r is not in the cache — download it with `qwen3asr models pull hf:o/r`');
    expect(fs.readdirSync(path.join(home, 'models')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a repo without a pair, a missing repo and a malformed reference each get one line', async () => {
    hub.addRepo('o/onnx', { 'README.md': Buffer.from('x'), 'model.onnx': Buffer.from('x'), 'single.gguf': TEXT });
    const env = hubEnv(freshHome());
    const noPair = await runCli(['models', 'pull', 'hf:o/onnx'], { env });
    expect([noPair.code, noPair.stderr.trim()]).toEqual([
      1,
      'qwen3asr: o/onnx has no Qwen3-ASR GGUF pair (a text GGUF and an mmproj GGUF): it holds README.md, model.onnx, single.gguf — use a repository that has both, such as hf:ggml-org/Qwen3-ASR-0.6B-GGUF, or a checkpoint folder with --model',
    ]);
    const missing = await runCli(['models', 'pull', 'hf:o/missing'], { env });
    expect([missing.code, missing.stderr.trim()]).toEqual([1, `qwen3asr: the repository o/missing was not found on ${endpoint} — check the OWNER/REPO spelling on the Hugging Face page of the model`]);
    const wav = write('b.wav', floatWavBytes(silence(1)));
    const bad = await runCli([wav, '--model', 'hf:o'], { env });
    expect([bad.code, bad.stderr.trim()]).toEqual([2, "qwen3asr: 'hf:o' is not a Hugging Face model reference — write hf:OWNER/REPO or hf:OWNER/REPO:QUANT, for example hf:ggml-org/Qwen3-ASR-0.6B-GGUF:Q8_0"]);
    expect(hub.cdn.requests).toEqual([]);
  });

  it('0.6b-q4_k_m is made once from 0.6b by the built llama-quantize, with the mmproj linked, and runs', async () => {
    const model = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>', outType: 'q8_0' });
    hub.addRepo(GGML_06, { [ZERO_SIXB.text]: fs.readFileSync(model.text), [ZERO_SIXB.mmproj]: fs.readFileSync(model.mmproj) });
    const home = freshHome();
    const env = { ...hubEnv(home), QWEN3ASR_BIN_DIR: inject('binDir') };
    const r = await runCli(['models', 'pull', '0.6b-q4_k_m'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      `0.6b is ready in ${path.join(home, 'models', '0.6b')}`,
      'making 0.6b-q4_k_m: the 0.6b text model requantized to Q4_K_M (once; the result is cached)',
      `0.6b-q4_k_m is ready in ${path.join(home, 'models', '0.6b-q4_k_m')}`,
    ]);
    const q = readCached('0.6b-q4_k_m', { QWEN3ASR_HOME: home })!;
    const base = readCached('0.6b', { QWEN3ASR_HOME: home })!;
    expect(path.basename(q.textPath)).toBe('Qwen3-ASR-0.6B-Q4_K_M.gguf');
    expect(q.manifest.source).toEqual({ kind: 'quantized', from: '0.6b', type: 'q4_k_m' });
    expect(metaNumber(readGgufHeader(q.textPath), 'general.file_type')).toBe(15); // LLAMA_FTYPE_MOSTLY_Q4_K_M
    expect(fs.statSync(q.mmprojPath).ino).toBe(fs.statSync(base.mmprojPath).ino);

    const again = await runCli(['models', 'pull', '0.6b-q4_k_m'], { env });
    expect(again.stderr.trim()).toBe(`0.6b-q4_k_m is in the cache already: ${q.dir}`);
    expect(hub.cdn.requests).toHaveLength(2);

    const wav = write('q.wav', floatWavBytes(script([{ pause: 0.5, audio: speak('A short test of the smaller model.') }], 0.5).samples));
    const run = await runCli([wav, '--model', '0.6b-q4_k_m', '-f', 'json', '-o', '-', '--threads', '2'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ model: '0.6b-q4_k_m' });
  });
});
