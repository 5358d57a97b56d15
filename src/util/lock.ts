import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InterruptedError } from '../errors.js';
import { trackTempPath } from './cleanup.js';

/**
 * A pid lock file, generic enough for builds and model downloads.
 *
 * The lock is a file created with O_EXCL that holds JSON: the owner's pid, hostname, start time
 * and a random token. A second process waits (polling) until the file is gone. A lock whose owner
 * is on this host and no longer alive is stale and taken over. Locks written by another host
 * (a cache on a network share) cannot be checked for liveness: they are waited for, and taken
 * over only when older than `foreignStaleMs`.
 */
export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  token: string;
  purpose?: string;
}

export interface AcquireOptions {
  /** Shown to waiters ("building llama.cpp"). */
  purpose?: string;
  signal?: AbortSignal;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: (holder: LockInfo | null) => void;
  /** Called when a stale lock was removed. */
  onStale?: (holder: LockInfo) => void;
  pollMs?: number;
  /** Give up after this long (default: wait forever). */
  timeoutMs?: number;
  foreignStaleMs?: number;
}

export interface Lock {
  readonly path: string;
  readonly info: LockInfo;
  release(): void;
}

export function readLock(lockPath: string): LockInfo | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockInfo;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is certainly gone. */
export function isStale(info: LockInfo | null, foreignStaleMs = 24 * 3600_000): boolean {
  if (info === null) return false; // unreadable: maybe being written right now
  if (info.hostname === os.hostname()) return !isProcessAlive(info.pid);
  const age = Date.now() - Date.parse(info.startedAt);
  return Number.isFinite(age) && age > foreignStaleMs;
}

/**
 * Creates the lock with its content in one step: written to a private file first, then hard-linked
 * into place (link fails with EEXIST when the lock exists), so a waiter never reads a lock that
 * exists but is still empty.
 */
function tryCreate(lockPath: string, info: LockInfo): boolean {
  const tmp = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}.new`;
  fs.writeFileSync(tmp, JSON.stringify(info), { flag: 'wx' });
  try {
    fs.linkSync(tmp, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Removes a stale lock, safely against another waiter doing the same: the lock is renamed to a
 * private name first and removed only if it is still the stale one we looked at; if we grabbed a
 * fresh lock by accident (another waiter took over in between), it is put back.
 */
function takeOver(lockPath: string, seen: LockInfo): boolean {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return false; // someone else moved it
  }
  const moved = readLock(aside);
  if (moved && moved.token === seen.token) {
    fs.rmSync(aside, { force: true });
    return true;
  }
  try {
    fs.linkSync(aside, lockPath);
  } catch {
    // a third process created a lock meanwhile; theirs stands
  }
  fs.rmSync(aside, { force: true });
  return false;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new InterruptedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function acquireLock(lockPath: string, opts: AcquireOptions = {}): Promise<Lock> {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const info: LockInfo = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    ...(opts.purpose ? { purpose: opts.purpose } : {}),
  };
  const started = Date.now();
  let announced = false;
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new InterruptedError();
    if (tryCreate(lockPath, info)) break;
    const holder = readLock(lockPath);
    if (holder && isStale(holder, opts.foreignStaleMs)) {
      if (takeOver(lockPath, holder)) opts.onStale?.(holder);
      continue;
    }
    if (!announced) {
      announced = true;
      opts.onWait?.(holder);
    }
    if (opts.timeoutMs !== undefined && Date.now() - started > opts.timeoutMs) {
      throw new Error(`timed out waiting for the lock ${lockPath}`);
    }
    await sleep(opts.pollMs ?? 500, opts.signal);
  }
  const untrack = trackTempPath(lockPath);
  let released = false;
  return {
    path: lockPath,
    info,
    release() {
      if (released) return;
      released = true;
      untrack();
      const current = readLock(lockPath);
      if (current && current.token === info.token) fs.rmSync(lockPath, { force: true });
    },
  };
}

/** Runs `fn` while holding the lock; the lock goes whatever happens. */
export async function withLock<T>(lockPath: string, opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(lockPath, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** "pid N" of a lock holder, for waiting messages; "pid unknown" for a lock that cannot be read (damaged). */
export function holderPid(holder: LockInfo | null): string {
  return holder ? `pid ${holder.pid}` : 'pid unknown';
}

/** A short description of a lock holder for messages. */
export function describeHolder(holder: LockInfo | null): string {
  if (!holder) return 'another process';
  const host = holder.hostname === os.hostname() ? '' : ` on ${holder.hostname}`;
  return `process ${holder.pid}${host} (since ${holder.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')})`;
}
