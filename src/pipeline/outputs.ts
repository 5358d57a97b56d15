import fs from 'node:fs';
import path from 'node:path';
import type { Format } from '../writers/index.js';
import { STDIN } from '../audio/decode.js';
import { UsageError, UserError } from '../errors.js';

/** /dev/stdin, /dev/fd/63 (a shell's `<(…)`), /proc/self/fd/N: read like stdin, named for it. */
function isStreamPath(input: string): boolean {
  return /^\/(dev|proc)\//.test(input);
}

/**
 * Where each format of one input goes: `<dir>/<input name without extension>.<format>`. stdin and
 * the /dev or /proc paths of pipes have no folder of their own: their outputs go to the current
 * one, named `stdin` (or `pipe-N` for /dev/fd/N).
 */
export function outputPathsFor(input: string, formats: readonly Format[], outputDir: string | null): Map<Format, string> {
  const stream = input === STDIN || isStreamPath(input);
  const base = path.parse(input).name;
  const stem = input === STDIN || base === 'stdin' || input.endsWith('/fd/0') ? 'stdin' : stream ? `pipe-${base}` : base;
  const dir = outputDir ?? (stream ? '.' : path.dirname(input));
  return new Map(formats.map((f) => [f, path.join(dir, `${stem}.${f}`)]));
}

/** Two inputs that would write the same output file are a usage error, caught before any work. */
export function checkDistinctOutputs(inputs: readonly string[], formats: readonly Format[], outputDir: string | null): void {
  const owner = new Map<string, string>();
  for (const input of inputs) {
    for (const p of outputPathsFor(input, formats, outputDir).values()) {
      const key = path.resolve(p);
      const other = owner.get(key);
      if (other !== undefined && other !== input) {
        throw new UsageError(`${other} and ${input} would both write ${p}`, 'rename one, or transcribe them into different folders with -o');
      }
      owner.set(key, input);
    }
  }
}

/** The longest file name most file systems take (ext4, xfs, btrfs, APFS, NTFS: 255 bytes or UTF-16 units). */
export const NAME_MAX_BYTES = 255;

/** An output name the file system would refuse is one line before any work, not an error after it. */
export function checkOutputNames(paths: Iterable<string>): void {
  for (const p of paths) {
    const name = path.basename(p);
    const bytes = Buffer.byteLength(name, 'utf8');
    if (bytes > NAME_MAX_BYTES) {
      throw new UserError(`the output name ${name} is too long (${bytes} bytes; file systems take ${NAME_MAX_BYTES})`, {
        hint: 'rename the input, or name the output with -o FILE',
      });
    }
  }
}

/** No output may be one of the inputs (`qwen3asr talk.srt` where talk.srt is audio, or a hard link): --force or not. */
export function checkNoInputOverwritten(inputs: readonly string[], targets: readonly string[]): void {
  const ids = new Map<string, string>();
  for (const input of inputs) {
    const st = input === STDIN ? undefined : statOrNull(input);
    if (st?.isFile()) ids.set(`${st.dev}:${st.ino}`, input);
  }
  for (const t of targets) {
    const st = statOrNull(t);
    const input = st ? ids.get(`${st.dev}:${st.ino}`) : undefined;
    if (input !== undefined) {
      throw new UsageError(`the output ${t} would overwrite the input ${input}`, 'choose another output folder or name with -o');
    }
  }
}

/** A path's stat, or null where there is nothing to stat (missing, a link loop, no permission): decoding says why. */
function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}
