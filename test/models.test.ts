import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { FileServer, refusedBaseUrl, startConnectProxy } from './helpers/file-server.js';
import { mmprojGguf, textGguf } from './helpers/gguf.js';
import { BIN, runCli } from './helpers/cli.js';
import { parseCatalog, fileUrl, type Catalog } from '../src/models/catalog.js';
import { pullModel } from '../src/models/pull.js';
import { readCached, modelDir } from '../src/models/cache.js';
import { generateSynthetic } from '../src/convert/synthetic.js';
import { resolveModel } from '../src/models/resolve.js';
import { createLog } from '../src/util/log.js';
import { InterruptedError, UserError } from '../src/errors.js';
import { bypassesProxy, proxyFor } from '../src/models/proxy.js';
import { parseContentRange } from '../src/models/http-range.js';
import { validateModelPair } from '../src/models/validate.js';
import { expectedMinimumSize, tensorBytes } from '../src/gguf/tensor-size.js';
import { readGgufHeader } from '../src/gguf/read-header.js';
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
    baseUrl: 'https://example.invalid/never/',
    models: [
      {
        alias: 'tiny',
        description: 'test',
        text: { name: 'tiny-text.gguf', bytes: opts.textBytes ?? null, sha256: opts.textSha ?? null },
        mmproj: { name: 'tiny-mmproj.gguf', bytes: null, sha256: opts.mmSha ?? null },
      },
      {
        alias: 'tiny-f16',
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

const ZERO_SIXB = { text: 'Qwen3-ASR-0.6B-text-Q4_K_M.gguf', mmproj: 'Qwen3-ASR-0.6B-mmproj.gguf' };

describe('catalog URLs', () => {
  const catalog = parseCatalog({
    defaultAlias: 'a',
    baseUrl: 'https://host.example/models/qwen3-asr/',
    models: [
      {
        alias: 'a',
        text: { name: 'a-text.gguf', bytes: null, sha256: null },
        mmproj: { name: 'a mmproj.gguf', base: 'https://huggingface.co/org/repo/resolve/main', bytes: null, sha256: null },
      },
    ],
  });
  const [m] = catalog.models;
  it('joins the default base and the file name', () => {
    expect(fileUrl(m.text, catalog, {})).toBe('https://host.example/models/qwen3-asr/a-text.gguf');
  });
  it('HF_ENDPOINT replaces https://huggingface.co', () => {
    expect(fileUrl(m.mmproj, catalog, { HF_ENDPOINT: 'https://hf-mirror.example/' })).toBe('https://hf-mirror.example/org/repo/resolve/main/a%20mmproj.gguf');
    expect(fileUrl(m.text, catalog, { HF_ENDPOINT: 'https://hf-mirror.example' })).toBe('https://host.example/models/qwen3-asr/a-text.gguf');
  });
  it('QWEN3ASR_MODEL_BASE_URL replaces every base', () => {
    const env = { QWEN3ASR_MODEL_BASE_URL: 'http://mirror.local/q', HF_ENDPOINT: 'https://x' };
    expect(fileUrl(m.text, catalog, env)).toBe('http://mirror.local/q/a-text.gguf');
    expect(fileUrl(m.mmproj, catalog, env)).toBe('http://mirror.local/q/a%20mmproj.gguf');
  });
  it('the shipped catalog has the published 0.6b and 1.7b first', async () => {
    const { loadCatalog } = await import('../src/models/catalog.js');
    const c = loadCatalog();
    expect(c.defaultAlias).toBe('0.6b');
    expect(c.models.slice(0, 2).map((x) => [x.alias, fileUrl(x.text, c, {}), fileUrl(x.mmproj, c, {})])).toEqual([
      ['0.6b', 'https://examaudio.tslfiles.org/models/qwen3-asr/Qwen3-ASR-0.6B-text-Q4_K_M.gguf', 'https://examaudio.tslfiles.org/models/qwen3-asr/Qwen3-ASR-0.6B-mmproj.gguf'],
      ['1.7b', 'https://examaudio.tslfiles.org/models/qwen3-asr/Qwen3-ASR-1.7B-text-Q8_0.gguf', 'https://examaudio.tslfiles.org/models/qwen3-asr/Qwen3-ASR-1.7B-mmproj.gguf'],
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
      expect(proxy.tunnels).toEqual([hostPort, hostPort]);

      const direct = { ...env, QWEN3ASR_HOME: freshHome(), NO_PROXY: '127.0.0.1' };
      await pullModel(catalog.models[0], { log, level: 'normal', env: direct, catalog });
      expect(proxy.tunnels).toHaveLength(2);
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

  const cases: Array<[string, () => [string, string], (t: string, m: string) => string]> = [
    ['width mismatch', () => [write('t.gguf', TEXT), write('m.gguf', mmprojGguf({ outWidth: 128 }))], (t, m) => `${m} produces 128-wide embeddings but ${t} expects 64`],
    ['a vision mmproj', () => [write('t.gguf', TEXT), write('m.gguf', mmprojGguf({ vision: true }))], (_t, m) => `${m} is a vision encoder, not a Qwen3-ASR audio encoder (qwen3asr or qwen3a)`],
    ['a wrong text architecture', () => [write('t.gguf', textGguf({ arch: 'llama' })), write('m.gguf', MMPROJ)], (t) => `${t} is a 'llama' model, not a Qwen3-ASR text model (architecture qwen3)`],
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
    expect(list.stdout).toMatch(/^1\.7b\s+~2\.6 GB\s+no\s/m);
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
      `qwen3asr: could not download Qwen3-ASR-1.7B-text-Q8_0.gguf from ${refused}Qwen3-ASR-1.7B-text-Q8_0.gguf: connection refused — provide the files yourself: --model TEXT.gguf --mmproj MMPROJ.gguf, or \`qwen3asr models import TEXT.gguf MMPROJ.gguf --as 1.7b\``,
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
      name: 'mine', description: null, cached: true, partial: false, source: 'import',
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

  it('an unpublished variant says how to provide it', async () => {
    const r = await runCli(['models', 'pull', '0.6b-f16'], { env: { QWEN3ASR_HOME: freshHome() } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'qwen3asr: 0.6b-f16: Qwen3-ASR-0.6B-text-F16.gguf has no published download — set QWEN3ASR_MODEL_BASE_URL to a mirror that has it, or provide the files yourself: --model TEXT.gguf --mmproj MMPROJ.gguf, or `qwen3asr models import TEXT.gguf MMPROJ.gguf --as 0.6b-f16`',
    );
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
    expect(list.stdout).toMatch(/^0\.6b \(default\)\s+~823 MB\s+partial\s/m);

    const again = await runCli(['models', 'pull', '0.6b', '--quiet'], { env: { QWEN3ASR_HOME: home, QWEN3ASR_MODEL_BASE_URL: base } });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(server.requestsFor(ZERO_SIXB.text).map((x) => x.range)).toEqual([null, 'bytes=40000-']);
  });
});
