import os from 'node:os';
import path from 'node:path';

/**
 * The cache folder that holds builds, downloaded sources and models:
 * $QWEN3ASR_HOME, else $XDG_CACHE_HOME/qwen3asr, else ~/.cache/qwen3asr
 * (%LOCALAPPDATA%\qwen3asr on Windows).
 */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QWEN3ASR_HOME) return path.resolve(env.QWEN3ASR_HOME);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'qwen3asr');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'qwen3asr');
  const home = env.HOME || os.homedir() || os.tmpdir();
  return path.join(home, '.cache', 'qwen3asr');
}

/** The package's own root folder (where package.json and vendor/ are), from dist/ or src/. */
export function packageRoot(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
}
