/**
 * Shared pieces of the reliability matrix (test/reliability-*.test.ts): each CLI run gets a
 * private TMPDIR, and every case checks the exit code, the one message, what is on disk
 * afterwards, that the TMPDIR is empty and that no child process is left running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { expect } from 'vitest';
import { BIN } from './cli.js';

export interface CliRun {
  code: number | undefined;
  stdout: string;
  stderr: string;
  /** The run's private TMPDIR (checked empty by expectClean). */
  tmpdir: string;
}

export function makeRunner(root: string) {
  let n = 0;
  return async function run(
    args: string[],
    options: Options & { env?: Record<string, string | undefined>; prefix?: string[]; tmpdir?: string } = {},
  ): Promise<CliRun> {
    // A private TMPDIR per run unless the case names its own (a full, missing or locked one).
    const tmpdir = options.tmpdir ?? path.join(root, `tmpdir-${++n}`);
    if (options.tmpdir === undefined) {
      fs.mkdirSync(tmpdir, { recursive: true });
      fs.chmodSync(tmpdir, 0o777);
    }
    const { prefix, env, tmpdir: _own, ...rest } = options;
    const cmd = prefix ?? [];
    const argv = [...cmd.slice(1), process.execPath, BIN, ...args];
    const r = await execa(cmd[0] ?? process.execPath, cmd.length ? argv : [BIN, ...args], {
      reject: false,
      ...rest,
      env: { ...env, TMPDIR: tmpdir },
    });
    return { code: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), tmpdir };
  };
}

/** The run printed exactly one line on stderr, and it matches. */
export function expectOneLine(r: CliRun, message: RegExp | string): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
}

/** The files in `dir` (none when it does not exist), temp files included. */
export function filesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** No temp file left in the run's TMPDIR, and no process of ours still running. */
export async function expectClean(r: CliRun, ...markers: string[]): Promise<void> {
  expect(filesIn(r.tmpdir)).toEqual([]);
  for (const m of [r.tmpdir, ...markers]) {
    const still = await execa('pgrep', ['-f', m], { reject: false });
    expect(String(still.stdout).trim(), `processes matching ${m}`).toBe('');
  }
}

/**
 * A QWEN3ASR_BIN_DIR whose llama-mtmd-cli is `script` (a shell script; $REAL is the real
 * binary), with the real llama-server and llama-quantize linked beside it.
 */
export function wrapperBinDir(root: string, name: string, realBinDir: string, script: string): string {
  const dir = path.join(root, `bin-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const b of ['llama-server', 'llama-quantize']) {
    fs.rmSync(path.join(dir, b), { force: true });
    fs.symlinkSync(path.join(realBinDir, b), path.join(dir, b));
  }
  const file = path.join(dir, 'llama-mtmd-cli');
  fs.writeFileSync(file, `#!/bin/sh\nREAL='${path.join(realBinDir, 'llama-mtmd-cli')}'\n${script}\n`);
  fs.chmodSync(file, 0o755);
  return dir;
}

/** Root, and a `setpriv` that can drop to nobody: for the cases that need an unprivileged user. */
export function canDropPrivileges(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    return fs.existsSync('/usr/bin/setpriv') || fs.existsSync('/bin/setpriv');
  } catch {
    return false;
  }
}

export const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** Mounts a tmpfs (root only); returns false when this sandbox does not allow it. */
export async function mountTmpfs(dir: string, options: string): Promise<boolean> {
  fs.mkdirSync(dir, { recursive: true });
  const r = await execa('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { reject: false });
  return r.exitCode === 0;
}

export async function unmount(dir: string): Promise<void> {
  await execa('umount', [dir], { reject: false });
}

/** Writes `bytes` to `dir/name` (making parent folders) and returns the path. */
export function writeFileIn(dir: string, name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes);
  return p;
}

/** The CLI arguments that pick a synthetic model pair and two threads. */
export function modelArgsFor(model: { readonly text: string; readonly mmproj: string }): string[] {
  return ['--model', model.text, '--mmproj', model.mmproj, '--threads', '2'];
}
