import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { trainBpe } from '../src/synthetic/bpe-trainer.js';
import { fromByteLevel, toByteLevel } from '../src/convert/byte-level.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-convert-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'qwen3asr', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('qwen3asr convert (CLI)', () => {
  it('generates a synthetic checkpoint and converts it', async () => {
    const dir = path.join(tmp, 'Qwen3-ASR-tiny');
    expect((await run('convert', '--synthetic', 'tiny', '-o', dir)).code).toBe(0);
    const r = await run('convert', dir, '-o', path.join(tmp, 'out'), '--mmproj-format', 'qwen3a');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').map((p) => path.basename(p))).toEqual(['Qwen3-ASR-tiny-text-f16.gguf', 'Qwen3-ASR-tiny-mmproj-f16.gguf']);
  });

  it('rejects a bad --outtype with a usage error', async () => {
    const r = await run('convert', tmp, '--outtype', 'f8');
    expect(r.code).toBe(2);
    expect(r.err).toBe('qwen3asr: --outtype must be one of f32, f16, bf16, q8_0 (got "f8")\n');
  });

  it('reports bad input as one line with exit code 1', async () => {
    const r = await run('convert', path.join(tmp, 'missing'), '-o', path.join(tmp, 'o2'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`qwen3asr: model folder not found: ${path.join(tmp, 'missing')}\n`);
  });

  it('--quantize without llama-quantize (none given, no build in the cache) says where to get it', async () => {
    const saved = { q: process.env.QWEN3ASR_LLAMA_QUANTIZE, bin: process.env.QWEN3ASR_BIN_DIR, home: process.env.QWEN3ASR_HOME };
    delete process.env.QWEN3ASR_LLAMA_QUANTIZE;
    delete process.env.QWEN3ASR_BIN_DIR;
    process.env.QWEN3ASR_HOME = fs.mkdtempSync(path.join(tmp, 'empty-cache-'));
    try {
      const r = await run('convert', path.join(tmp, 'Qwen3-ASR-tiny'), '-o', path.join(tmp, 'o3'), '--quantize', 'q4_k_m');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^qwen3asr: --quantize needs llama-quantize, which was not found — /);
      expect(fs.existsSync(path.join(tmp, 'o3')) ? fs.readdirSync(path.join(tmp, 'o3')) : []).toEqual([]);
    } finally {
      for (const [k, v] of [['QWEN3ASR_LLAMA_QUANTIZE', saved.q], ['QWEN3ASR_BIN_DIR', saved.bin], ['QWEN3ASR_HOME', saved.home]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('keeps the synthetic options out of the help', async () => {
    const r = await run('convert', '--help');
    expect(r.out).toContain('--mmproj-format');
    expect(r.out).not.toContain('--synthetic');
  });
});

describe('byte-level BPE pieces', () => {
  it('round-trips bytes through the byte-level alphabet', () => {
    const s = 'Grüße, 世界!\n\t';
    expect(fromByteLevel(toByteLevel(s))).toBe(s);
    expect(toByteLevel(' \n')).toBe('ĠĊ');
  });

  it('learns common words as single tokens', () => {
    const bpe = trainBpe('the cat and the hat and the bat sat on the mat the end', 30);
    expect(bpe.tokens.slice(0, 256).length).toBe(256);
    expect(bpe.tokens).toContain('Ġthe');
    expect(bpe.merges.length).toBeLessThanOrEqual(30);
  });
});
