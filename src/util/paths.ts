import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';

/**
 * The cache folder that holds builds, downloaded sources and models:
 * $QWEN3ASR_HOME, else $XDG_CACHE_HOME/qwen3asr, else ~/.cache/qwen3asr
 * (%LOCALAPPDATA%\qwen3asr on Windows).
 */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QWEN3ASR_HOME) return path.resolve(env.QWEN3ASR_HOME);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'qwen3asr');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'qwen3asr');
  const home = env.HOME || homeFromUserDatabase();
  if (!home) {
    throw new UserError('cannot find a cache folder: HOME is not set and this user has no home directory', {
      hint: 'set QWEN3ASR_HOME (or HOME, or XDG_CACHE_HOME) to a writable folder',
    });
  }
  return path.join(home, '.cache', 'qwen3asr');
}

/** The home folder from the user database (os.homedir() throws for a uid it does not list). */
function homeFromUserDatabase(): string | null {
  try {
    return os.homedir() || null;
  } catch {
    return null;
  }
}

/** The package's own root folder (where package.json and vendor/ are), from dist/ or src/. */
export function packageRoot(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
}
