import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.js';
import { packageRoot } from '../util/paths.js';

/** Our changes to llama.cpp: a patch, and the Qwen3-ASR audio encoder source. */
export interface Vendor {
  /** Absolute path, or null when the file is missing. */
  patchPath: string | null;
  patch: Buffer;
  encoderPath: string | null;
  encoder: Buffer;
}

export const ENCODER_DEST = 'tools/mtmd/models';

export function readVendor(root = path.join(packageRoot(), 'vendor')): Vendor {
  const read = (name: string): [string | null, Buffer] => {
    const p = path.join(root, name);
    return fs.existsSync(p) ? [p, fs.readFileSync(p)] : [null, Buffer.alloc(0)];
  };
  const [patchPath, patch] = read('llama.cpp.patch');
  const [encoderPath, encoder] = read('qwen3asr-enc.cpp');
  return { patchPath, patch, encoderPath, encoder };
}

export function patchIsEmpty(patch: Buffer): boolean {
  return patch.toString('utf8').trim() === '';
}

/** Where a patch failed, from git apply's stderr and the patch itself. */
export interface PatchFailure {
  file: string | null;
  line: number | null;
  /** 1-based index of the failing hunk within that file's section of the patch. */
  hunk: number | null;
  reason: string;
}

export function parseApplyError(stderr: string, patch: string): PatchFailure {
  const failed = /error: patch failed: (.+):(\d+)/.exec(stderr);
  if (failed) {
    const file = failed[1];
    const line = Number(failed[2]);
    return { file, line, hunk: findHunk(patch, file, line), reason: 'its context does not match' };
  }
  const missing = /error: (.+?): (No such file or directory|does not exist in index)/.exec(stderr);
  if (missing) return { file: missing[1], line: null, hunk: null, reason: 'the file does not exist in llama.cpp v0.5.0' };
  const exists = /error: (.+?): already exists in (working directory|index)/.exec(stderr);
  if (exists) return { file: exists[1], line: null, hunk: null, reason: 'it creates a file that already exists' };
  const corrupt = /error: corrupt patch at line (\d+)/.exec(stderr);
  if (corrupt) return { file: null, line: Number(corrupt[1]), hunk: null, reason: `the patch is corrupt at its line ${corrupt[1]}` };
  const other = stderr.split('\n').find((l) => l.startsWith('error:'));
  return { file: null, line: null, hunk: null, reason: (other ?? stderr.trim()).replace(/^error:\s*/, '') || 'git apply failed' };
}

/** The index of the hunk of `file` whose old range starts at `line` (git reports that start). */
export function findHunk(patch: string, file: string, line: number): number | null {
  let inFile = false;
  let n = 0;
  let best: number | null = null;
  for (const l of patch.split('\n')) {
    if (l.startsWith('diff --git ')) {
      inFile = l.endsWith(` b/${file}`) || l.includes(` a/${file} `);
      n = 0;
      continue;
    }
    if (!inFile) continue;
    const m = /^@@ -(\d+)(?:,(\d+))? /.exec(l);
    if (m) {
      n += 1;
      const start = Number(m[1]);
      const len = m[2] === undefined ? 1 : Number(m[2]);
      if (start === line) return n;
      if (best === null && line >= start && line <= start + Math.max(len, 1)) best = n;
    }
  }
  return best;
}

function gitEnv(dir: string): NodeJS.ProcessEnv {
  // The build folder is not a git repository; never let git find one above it (the user's
  // project, or the cache inside one), where `git apply` would silently skip our paths.
  return { GIT_CEILING_DIRECTORIES: path.dirname(path.resolve(dir)), GIT_CONFIG_NOSYSTEM: '1' };
}

async function runApply(dir: string, patchPath: string, check: boolean, signal?: AbortSignal) {
  const args = ['apply', '--whitespace=nowarn', ...(check ? ['--check'] : []), patchPath];
  return execa('git', args, { cwd: dir, env: gitEnv(dir), reject: false, cancelSignal: signal, stdin: 'ignore' });
}

/** Checks that the patch applies to the source at `dir`, without changing anything. */
export async function checkPatch(dir: string, patchPath: string, signal?: AbortSignal): Promise<void> {
  const r = await runApply(dir, patchPath, true, signal);
  if (signal?.aborted) throw signal.reason;
  if (r.exitCode !== 0) throw patchError(patchPath, String(r.stderr ?? ''), r);
}

export function patchError(patchPath: string, stderr: string, cause?: unknown): UserError {
  const f = parseApplyError(stderr, fs.existsSync(patchPath) ? fs.readFileSync(patchPath, 'utf8') : '');
  const where = f.file ? `${f.file}${f.hunk ? `, hunk ${f.hunk}` : ''}${f.line ? ` (at line ${f.line})` : ''}` : null;
  const msg = where
    ? `the llama.cpp patch ${patchPath} does not apply to llama.cpp v0.5.0: ${where}: ${f.reason}`
    : `the llama.cpp patch ${patchPath} does not apply to llama.cpp v0.5.0: ${f.reason}`;
  return new UserError(msg, {
    hint: 'the patch must be made against v0.5.0 (git diff in a v0.5.0 checkout); reinstall qwen3asr if you did not change vendor/',
    cause,
  });
}

/** Applies our changes to a copy of the source: patch (when not empty), then the encoder file. */
export async function applyVendor(dir: string, vendor: Vendor, signal?: AbortSignal): Promise<{ patched: boolean; encoder: boolean }> {
  let patched = false;
  if (vendor.patchPath && !patchIsEmpty(vendor.patch)) {
    await checkPatch(dir, vendor.patchPath, signal);
    const r = await runApply(dir, vendor.patchPath, false, signal);
    if (signal?.aborted) throw signal.reason;
    if (r.exitCode !== 0) throw patchError(vendor.patchPath, String(r.stderr ?? ''), r);
    patched = true;
  }
  let encoder = false;
  if (vendor.encoderPath) {
    const dest = path.join(dir, ENCODER_DEST);
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(vendor.encoderPath, path.join(dest, path.basename(vendor.encoderPath)));
    encoder = true;
  }
  return { patched, encoder };
}
