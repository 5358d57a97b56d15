import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { trackTempPath } from '../util/cleanup.js';
import { underlyingFsError } from '../util/fs-errors.js';

let tempCount = 0;

/**
 * Writes `content` to `dest` atomically: a temp file in the same folder, fsync'd, then moved into
 * place, so a reader (or a crash) never sees half a file. Without `overwrite`, an existing file is
 * left alone: the hard link fails with EEXIST instead of racing a separate exists-check.
 */
export function writeFileAtomic(dest: string, content: string, overwrite: boolean): void {
  const dir = path.dirname(dest);
  // A name of its own, never longer than a short one: the output's name plus a suffix would not
  // fit beside an output whose name is already near the file system's 255-byte limit.
  const tmp = path.join(dir, `.qwen3asr-${process.pid}-${++tempCount}.tmp`);
  const untrack = trackTempPath(tmp);
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (overwrite) {
      fs.renameSync(tmp, dest);
    } else {
      fs.linkSync(tmp, dest);
      fs.unlinkSync(tmp);
    }
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw describeWriteError(err as NodeJS.ErrnoException, dest);
  } finally {
    untrack();
  }
}

function describeWriteError(err: NodeJS.ErrnoException, dest: string): Error {
  switch (err.code) {
    case 'EEXIST':
      return new UserError(`${dest} already exists`, { hint: 'use --force to overwrite it' });
    case 'ENOSPC':
      return new UserError(`no space left on the device while writing ${dest}`, { hint: 'free some space and run again' });
    case 'EACCES':
    case 'EPERM':
      return new UserError(`cannot write to ${path.dirname(dest)}: permission denied`, { hint: 'choose another folder with -o' });
    case 'ENAMETOOLONG':
      return new UserError(`cannot write ${dest}: the name is too long for the file system`, { hint: 'rename the input, or name the output with -o FILE' });
    case 'EROFS':
      return new UserError(`cannot write to ${path.dirname(dest)}: read-only file system`, { hint: 'choose another folder with -o' });
    case 'ENOENT':
      return new UserError(`output folder ${path.dirname(dest)} does not exist`, { hint: 'create it or choose another with -o' });
    default:
      return new UserError(`cannot write ${dest}: ${err.message}`, { cause: err });
  }
}

/** Creates the output folder (and parents), with the same clear messages as writing. */
export function ensureOutputDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    // mkdir -p under a read-only or forbidden folder says ENOENT: report the real cause.
    throw describeWriteError(underlyingFsError(err as NodeJS.ErrnoException), path.join(dir, 'x'));
  }
}
