import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(repoRoot, 'bin', 'qwen3asr.js');

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('qwen3asr build / doctor (CLI)', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot });
  });

  it('build --print-path prints only the bin folder (found in the cache, no rebuild)', () => {
    const r = run(['build', '--backend', 'cpu', '--print-path']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${inject('binDir')}\n`);
    expect(r.stderr).toBe('');
  });

  it('build --print-path honours QWEN3ASR_BIN_DIR', () => {
    const dir = inject('binDir');
    const r = run(['build', '--print-path'], { QWEN3ASR_BIN_DIR: dir });
    expect(r.stdout).toBe(`${dir}\n`);
  });

  it('rejects an unknown backend with a usage error', () => {
    const r = run(['build', '--backend', 'opencl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/opencl/);
  });

  it('doctor reports the tools and the built binaries, and fails on a missing ffmpeg', () => {
    const ok = run(['doctor', '--backend', 'cpu'], { QWEN3ASR_BIN_DIR: inject('binDir') });
    expect(ok.stdout).toMatch(/^ok +node /m);
    expect(ok.stdout).toMatch(/binaries +.*prebuilt/m);
    expect(ok.stdout).toMatch(/backend cpu/);
    const bad = run(['doctor', '--ffmpeg', '/nonexistent/ffmpeg'], { QWEN3ASR_BIN_DIR: inject('binDir') });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL ffmpeg/m);
  });
});
