import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { EXIT, InterruptedError, UserError } from '../errors.js';
import { fsReason } from './fs-errors.js';

/**
 * Ctrl-C handling for the whole process.
 *
 * The first SIGINT/SIGTERM/SIGHUP aborts `interruptSignal`: every long operation (child processes via
 * execa's cancelSignal, downloads, builds) listens to it and unwinds through its own `finally`
 * blocks, so temp files go and outputs are never half-written. A second signal does not wait:
 * it removes the registered temp paths and kills registered children synchronously, then exits.
 */
const controller = new AbortController();
export const interruptSignal: AbortSignal = controller.signal;

const tempPaths = new Set<string>();
/** Children to kill on a hard exit; a negative pid names a process group (see killGroup). */
const childPids = new Set<number>();

export function throwIfInterrupted(): void {
  if (controller.signal.aborted) throw interruption();
}

/** The error for a stop on purpose, saying what stopped it (Ctrl-C, SIGTERM). */
export function interruption(): InterruptedError {
  const reason: unknown = controller.signal.reason;
  return reason instanceof InterruptedError ? reason : new InterruptedError();
}

/** Remembers a temp path for the hard-exit path; returns the function that forgets it. */
export function trackTempPath(p: string): () => void {
  tempPaths.add(p);
  return () => tempPaths.delete(p);
}

export function trackChild(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  childPids.add(pid);
  return () => childPids.delete(pid);
}

/**
 * trackChild for a child started with `detached` (its own process group): the hard-exit path
 * then kills the whole group, which a negative pid names (on Windows, the process itself).
 */
export function trackChildGroup(pid: number | undefined): () => void {
  return trackChild(pid === undefined || process.platform === 'win32' ? pid : -pid);
}

/**
 * Signals the process group that `pid` leads (a child started with `detached`): the child and
 * whatever it started (make's compilers, a wrapper script's children). Nothing when it is gone.
 */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    if (process.platform === 'win32') {
      execa('taskkill', ['/pid', String(pid), '/T', '/F'], { reject: false, windowsHide: true });
    } else {
      process.kill(-pid, sig);
    }
  } catch {
    // already gone
  }
}

function hardCleanup(): void {
  for (const pid of childPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const p of tempPaths) fs.rmSync(p, { recursive: true, force: true });
}

/** The signals that stop a run, how the stop is named, and its exit code (128 + the signal's number). */
const STOPS = {
  SIGINT: { message: 'interrupted (Ctrl-C)', code: EXIT.interrupted },
  SIGTERM: { message: 'stopped by SIGTERM', code: EXIT.terminated },
  // closing the terminal or an SSH drop: the same orderly stop as Ctrl-C
  SIGHUP: { message: 'stopped by SIGHUP (the terminal closed)', code: EXIT.hangup },
} as const;

export function installSignalHandlers(): { dispose: () => Promise<void> } {
  let count = 0;
  const onSignal = (sig: keyof typeof STOPS) => {
    count += 1;
    const stop = STOPS[sig];
    if (count === 1) {
      controller.abort(new InterruptedError(stop.message, stop.code));
      return;
    }
    hardCleanup();
    process.exit(stop.code);
  };
  const signals = Object.keys(STOPS) as (keyof typeof STOPS)[];
  // Windows has no SIGHUP to listen to
  const listened = signals.filter((sig) => sig !== 'SIGHUP' || process.platform !== 'win32');
  for (const sig of listened) process.on(sig, onSignal);
  process.on('exit', hardCleanup);
  return {
    dispose: async () => {
      for (const sig of listened) process.off(sig, onSignal);
    },
  };
}

/**
 * A fresh folder `qwen3asr-<prefix>-XXXXXX` in the OS temp folder (TMPDIR), removed by `remove`
 * or, failing that, on any exit. A TMPDIR that is missing or not writable is one clear line.
 */
export function makeTempDir(prefix: string): { readonly dir: string; remove(): void } {
  const base = os.tmpdir();
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(base, `qwen3asr-${prefix}-`));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UserError(`the temp folder ${base} does not exist`, { hint: 'create it, or point TMPDIR at a folder that exists', cause: err });
    }
    const reason = fsReason(code);
    if (reason) throw new UserError(`cannot create a temp folder in ${base}: ${reason}`, { hint: 'point TMPDIR at a writable folder', cause: err });
    throw err;
  }
  const untrack = trackTempPath(dir);
  return {
    dir,
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
      untrack();
    },
  };
}
