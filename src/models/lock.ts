import fs from 'node:fs';
import path from 'node:path';
import { InterruptedError } from '../errors.js';
import { trackTempPath } from '../util/cleanup.js';

/**
 * A lock file holding its owner's pid, so that two qwen3asr processes never download or import
 * the same model at once. A waiter polls; a lock whose pid is no longer alive (a crashed or
 * killed run) is taken over.
 *
 * TODO: src/util/lock.ts (same semantics, another branch) replaces this once merged.
 */
export interface LockOptions {
  readonly signal?: AbortSignal;
  /** Called once, when the lock is found held by a live process. */
  readonly onWait?: (ownerPid: number) => void;
  readonly pollMs?: number;
}

/** Lock content that never got its pid written: its writer died between create and write. */
const EMPTY_LOCK_GRACE_MS = 5_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Probe = { readonly state: 'free' } | { readonly state: 'held'; readonly pid: number } | { readonly state: 'stale'; readonly content: string };

function probe(lockPath: string): Probe {
  let content: string;
  let mtimeMs: number;
  try {
    content = fs.readFileSync(lockPath, 'utf8');
    mtimeMs = fs.statSync(lockPath).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'free' };
    throw err;
  }
  const pid = Number.parseInt(content.trim(), 10);
  if (Number.isInteger(pid) && pid > 0) return isAlive(pid) ? { state: 'held', pid } : { state: 'stale', content };
  return Date.now() - mtimeMs > EMPTY_LOCK_GRACE_MS ? { state: 'stale', content } : { state: 'held', pid: 0 };
}

function tryCreate(lockPath: string): boolean {
  try {
    fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason instanceof InterruptedError ? signal.reason : new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** "another qwen3asr (pid N)", for waiting messages; pid 0 = not written yet. */
export function ownerText(pid: number): string {
  return pid > 0 ? `another qwen3asr (pid ${pid})` : 'another qwen3asr';
}

/** Holds the lock at `lockPath` while `fn` runs; waits for a live owner, takes over a dead one's. */
export async function withLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    if (tryCreate(lockPath)) break;
    const p = probe(lockPath);
    if (p.state === 'stale') {
      // Remove only the lock we judged stale: another waiter may have taken it over meanwhile.
      try {
        if (fs.readFileSync(lockPath, 'utf8') === p.content) fs.unlinkSync(lockPath);
      } catch {
        // gone already: retry
      }
      continue;
    }
    if (p.state === 'held' && !told) {
      told = true;
      options.onWait?.(p.pid);
    }
    await sleep(options.pollMs ?? 250, options.signal);
  }
  const untrack = trackTempPath(lockPath);
  try {
    return await fn();
  } finally {
    untrack();
    try {
      if (fs.readFileSync(lockPath, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockPath);
    } catch {
      // already removed
    }
  }
}
