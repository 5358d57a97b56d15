import type { Window } from '../windows/window.js';
import type { FailedWindow, WindowResult } from './window-result.js';
import { WindowFailedError, type WindowTranscriber } from './decoder.js';

export interface WindowsOutcome {
  /** In window order, whatever order they finished in. */
  readonly results: WindowResult[];
  readonly failures: FailedWindow[];
}

/**
 * Runs the windows `jobs` at a time. A window that fails is recorded and the rest go on; any
 * other error (Ctrl-C, a bug) stops the run once the windows in flight have settled.
 */
export async function runWindows(
  windows: readonly Window[],
  transcribe: WindowTranscriber,
  jobs: number,
  onDone: (window: Window) => void = () => {},
): Promise<WindowsOutcome> {
  const results: Array<WindowResult | undefined> = new Array(windows.length);
  const failures: FailedWindow[] = [];
  let next = 0;
  let fatal: unknown = null;
  const worker = async () => {
    while (fatal === null && next < windows.length) {
      const i = next++;
      try {
        results[i] = await transcribe(windows[i]);
      } catch (err) {
        if (err instanceof WindowFailedError) failures.push({ window: err.window, error: err.message, ms: err.ms });
        else fatal ??= err;
      }
      onDone(windows[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, windows.length)) }, worker));
  if (fatal !== null) throw fatal;
  failures.sort((a, b) => a.window.index - b.window.index);
  return { results: results.filter((r): r is WindowResult => r !== undefined), failures };
}
