import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { InterruptedError } from '../errors.js';

/**
 * Ctrl-C handling for the whole process.
 *
 * The first SIGINT/SIGTERM aborts `interruptSignal`: every long operation (child processes via
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

export function installSignalHandlers(): { dispose: () => Promise<void> } {
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      controller.abort(new InterruptedError(sig === 'SIGINT' ? 'interrupted (Ctrl-C)' : `stopped by ${sig}`));
      return;
    }
    hardCleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', hardCleanup);
  return {
    dispose: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Runs `fn` with a fresh temp folder that is removed afterwards, whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `qwen3asr-${prefix}-`));
  const untrack = trackTempPath(dir);
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    untrack();
  }
}
