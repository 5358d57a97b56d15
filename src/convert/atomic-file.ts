import fs from 'node:fs';
import path from 'node:path';
import { trackTempPath } from '../util/cleanup.js';

/**
 * Runs `fn` on a temp path next to `target` and renames it into place only when `fn` succeeds,
 * so an interrupted or failed write never leaves a half-written file under the final name.
 */
export async function writeAtomically<T>(target: string, fn: (tempPath: string) => Promise<T>): Promise<T> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`);
  const untrack = trackTempPath(temp);
  try {
    const result = await fn(temp);
    fs.renameSync(temp, target);
    return result;
  } finally {
    fs.rmSync(temp, { force: true });
    untrack();
  }
}
