import crypto from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash, { signal });
  return hash.digest('hex');
}

export type FileCheck = { readonly ok: true } | { readonly ok: false; readonly problem: string };

/** Size (when known) then digest (when known): the cheap check first. */
export async function checkFile(file: string, expected: { bytes: number | null; sha256: string | null }, signal?: AbortSignal): Promise<FileCheck> {
  const size = fs.statSync(file).size;
  if (expected.bytes !== null && size !== expected.bytes) {
    return { ok: false, problem: `${size} bytes, expected ${expected.bytes}` };
  }
  if (expected.sha256 !== null) {
    const actual = await sha256File(file, signal);
    if (actual !== expected.sha256) return { ok: false, problem: `sha256 ${actual}, expected ${expected.sha256}` };
  }
  return { ok: true };
}
