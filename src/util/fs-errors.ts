import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { cacheHome } from './paths.js';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/** The phrase for a file-system error a user can fix, or null for anything else. */
export function fsReason(code: string | undefined): string | null {
  return (code && REASONS[code]) ?? null;
}

/**
 * `mkdir -p` on a read-only or forbidden parent can fail with ENOENT (Node's recursive mkdir
 * does): the nearest folder that exists says what really is wrong.
 */
export function underlyingFsError(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
  if (err.code !== 'ENOENT' || err.syscall !== 'mkdir' || !err.path) return err;
  let dir = path.dirname(path.resolve(err.path));
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  return err;
}

/**
 * A file-system failure that escaped as a plain Error (the cache folder is not writable, a disk
 * filled up) as one clear line; null when `err` is not one.
 */
export function fsUserError(err: unknown, env: NodeJS.ProcessEnv = process.env): UserError | null {
  if (!(err instanceof Error) || typeof (err as NodeJS.ErrnoException).code !== 'string') return null;
  const e = underlyingFsError(err as NodeJS.ErrnoException);
  const reason = fsReason(e.code);
  if (!reason || !e.path) return null;
  const cache = cacheHome(env);
  const p = path.resolve(e.path);
  if (p === cache || p.startsWith(cache + path.sep) || cache.startsWith(p + path.sep)) {
    return new UserError(`cannot write to the cache folder ${cache}: ${reason}`, {
      hint: 'make it writable, or point QWEN3ASR_HOME at a folder that is',
      cause: err,
    });
  }
  return new UserError(`cannot write ${e.path}: ${reason}`, { cause: err });
}
