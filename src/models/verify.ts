import crypto from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash, { signal });
  return hash.digest('hex');
}

/** What a file must be, as far as it is known: exact size and sha256 (lowercase hex), each or both null. */
export interface ExpectedFile {
  readonly bytes: number | null;
  readonly sha256: string | null;
}

/** Everything known about a file, from every source: the first one that knows each field. */
export function mergeExpected(...sources: (ExpectedFile | null | undefined)[]): ExpectedFile {
  const known = sources.filter((s): s is ExpectedFile => !!s);
  return { bytes: known.find((s) => s.bytes !== null)?.bytes ?? null, sha256: known.find((s) => s.sha256 !== null)?.sha256 ?? null };
}

export type FileCheck = { readonly ok: true } | { readonly ok: false; readonly problem: string };

/** Size (when known) then digest (when known): the cheap check first. */
export async function checkFile(file: string, expected: ExpectedFile, signal?: AbortSignal): Promise<FileCheck> {
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
