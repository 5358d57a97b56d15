/**
 * What a rerun needs to know about outputs that exist: did qwen3asr write them, for this very
 * input, and are they still as written? Each input's outputs get one record in the cache
 * (`<cache>/outputs/<sha256 of the first output's absolute path>.json`, so the output folders
 * hold nothing but the outputs), naming the input (path, size, mtime; for stdin and pipes the
 * sha256 of the bytes read) and the sha256 of every output written. An output then counts as
 * finished only when it is a regular file whose bytes are the recorded ones, for the same input.
 * A record that cannot be read or written (no cache folder) makes outputs look foreign: kept and
 * said so, never overwritten.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { InputSource } from '../audio/decode.js';
import { cacheHome } from '../util/paths.js';

/** An input as a rerun recognises it. */
export type InputIdentity =
  | { readonly kind: 'file'; readonly path: string; readonly size: number; readonly mtimeMs: number }
  | { readonly kind: 'stream'; readonly sha256: string };

interface RecordFile {
  readonly version: 1;
  readonly input: InputIdentity;
  /** Output file name → sha256 of its bytes as written. */
  readonly outputs: Record<string, string>;
}

/**
 * How one existing (or missing) output stands:
 *  - missing: not there, write it;
 *  - current: written by qwen3asr for this input, unchanged since: keep it;
 *  - stale: written by qwen3asr for this path, which has changed since: redo it;
 *  - other-input: written by qwen3asr for another input: replacing it would lose that transcript;
 *  - foreign: there, but not as qwen3asr wrote it (another tool's, or edited by hand);
 *  - not-a-file: a folder (or other non-file) holds the name.
 */
export type OutputState = 'missing' | 'current' | 'stale' | 'other-input' | 'foreign' | 'not-a-file';

export function identityOf(source: InputSource): InputIdentity {
  if (source.kind === 'stream') return { kind: 'stream', sha256: source.sha256 };
  const stat = fs.statSync(source.path);
  return { kind: 'file', path: fs.realpathSync(source.path), size: stat.size, mtimeMs: stat.mtimeMs };
}

/** The identity of an input file as it is now (null for stdin and pipes: known only once read). */
export function fileIdentity(input: string): InputIdentity | null {
  try {
    const stat = fs.statSync(input);
    return stat.isFile() ? identityOf({ kind: 'file', path: input }) : null;
  } catch {
    return null;
  }
}

/** The record of the outputs whose first path is `first` (one record per input). */
export function recordPath(first: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = crypto.createHash('sha256').update(path.resolve(first)).digest('hex').slice(0, 32);
  return path.join(cacheHome(env), 'outputs', `${key}.json`);
}
function readRecord(first: string): RecordFile | null {
  try {
    const r = JSON.parse(fs.readFileSync(recordPath(first), 'utf8')) as RecordFile;
    return r && r.version === 1 && r.input && r.outputs ? r : null;
  } catch {
    return null;
  }
}

export function sha256(content: string | Uint8Array): string {
  return crypto.createHash('sha256').update(content).digest('hex');
}

function sameInput(a: InputIdentity, b: InputIdentity): boolean {
  if (a.kind === 'stream' && b.kind === 'stream') return a.sha256 === b.sha256;
  if (a.kind === 'file' && b.kind === 'file') return a.path === b.path && a.size === b.size && a.mtimeMs === b.mtimeMs;
  return false;
}

/** Each target's state, for the input with this identity (null: not known yet, as for stdin). */
export function outputStates(targets: ReadonlyMap<string, string>, identity: InputIdentity | null): Map<string, OutputState> {
  const paths = [...targets.values()];
  const record = paths.length > 0 ? readRecord(paths[0]) : null;
  const states = new Map<string, OutputState>();
  for (const p of paths) {
    const stat = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!stat) {
      states.set(p, 'missing');
      continue;
    }
    if (!stat.isFile()) {
      states.set(p, 'not-a-file');
      continue;
    }
    const written = record?.outputs[path.basename(p)];
    if (!record || written === undefined || written !== sha256(fs.readFileSync(p))) {
      states.set(p, 'foreign');
      continue;
    }
    if (identity !== null && sameInput(record.input, identity)) states.set(p, 'current');
    else if (identity !== null && identity.kind === 'file' && record.input.kind === 'file' && record.input.path === identity.path) states.set(p, 'stale');
    else states.set(p, identity === null ? 'current' : 'other-input');
  }
  return states;
}

/** Who wrote the outputs the record names, for messages ('d1/01.wav', 'stdin'). */
export function recordedInput(first: string): string | null {
  const r = readRecord(first);
  if (!r) return null;
  return r.input.kind === 'file' ? r.input.path : 'stdin or a pipe (other bytes)';
}

/**
 * Records what was written for this input: the outputs written now, and those kept as current.
 * Written atomically (temp + rename), so a crash leaves the old record or the new one.
 */
export function writeRecord(targets: ReadonlyMap<string, string>, identity: InputIdentity, written: ReadonlyMap<string, string>): boolean {
  const paths = [...targets.values()];
  if (paths.length === 0) return true;
  const previous = readRecord(paths[0]);
  const outputs: Record<string, string> = {};
  // what an earlier run wrote for the same input and is still there unchanged stays recorded
  if (previous && sameInput(previous.input, identity)) {
    for (const [name, hash] of Object.entries(previous.outputs)) {
      const p = path.join(path.dirname(paths[0]), name);
      if (fs.existsSync(p) && sha256(fs.readFileSync(p)) === hash) outputs[name] = hash;
    }
  }
  for (const [p, hash] of written) outputs[path.basename(p)] = hash;
  const record: RecordFile = { version: 1, input: identity, outputs };
  try {
    const file = recordPath(paths[0]);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    fs.renameSync(tmp, file);
    return true;
  } catch {
    // no usable cache folder: the outputs are written all the same; a rerun will keep them as foreign
    return false;
  }
}

/** What to do with one input's outputs, from their states. */
export interface OutputPlan {
  /** Targets to write, each with whether it may replace what is there. */
  readonly write: ReadonlyMap<string, boolean>;
  /** Outputs not written by qwen3asr for this input, kept as they are (each said in a warning). */
  readonly foreign: readonly string[];
  /** What stops this input, in one line (a folder in the way; another input's transcript). */
  readonly conflict: { readonly message: string; readonly hint: string } | null;
}

/**
 * Pure: missing outputs are written; current ones kept; stale ones (the input changed) redone;
 * another input's are not replaced without --force; foreign ones are kept, and said so, unless
 * --force. A folder in an output's place stops the input, --force or not.
 */
export function planOutputs(states: ReadonlyMap<string, OutputState>, force: boolean, recordedFor: () => string | null): OutputPlan {
  const write = new Map<string, boolean>();
  const foreign: string[] = [];
  for (const [p, state] of states) {
    if (state === 'not-a-file') {
      return { write: new Map(), foreign: [], conflict: { message: `${p} is in the way: it is not a file`, hint: 'move it away, or choose another output folder with -o' } };
    }
    if (state === 'other-input' && !force) {
      return {
        write: new Map(),
        foreign: [],
        conflict: { message: `${p} holds the transcript of ${recordedFor() ?? 'another input'}`, hint: 'choose another output folder with -o, or --force to replace it' },
      };
    }
    if (state === 'missing') write.set(p, false);
    else if (force || state === 'stale' || state === 'other-input') write.set(p, true);
    else if (state === 'foreign') foreign.push(p);
  }
  return { write, foreign, conflict: null };
}
