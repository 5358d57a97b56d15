import type { Window } from '../windows/window.js';
import type { WindowResult } from '../transcript/window-result.js';
import type { WindowTranscriber } from './request/decoder.js';

export interface WindowsOutcome {
  /** In window order, whatever order they finished in. */
  readonly results: WindowResult[];
}

/**
 * Runs the windows `jobs` at a time. The first error (a window that failed twice, Ctrl-C, a bug)
 * stops the run once the windows in flight have settled: a file is transcribed whole or not at all.
 */
export async function runWindows(
  windows: readonly Window[],
  transcribe: WindowTranscriber,
  jobs: number,
  onDone: (window: Window) => void = () => {},
): Promise<WindowsOutcome> {
  const results: Array<WindowResult | undefined> = new Array(windows.length);
  let next = 0;
  let fatal: unknown = null;
  const worker = async () => {
    while (fatal === null && next < windows.length) {
      const i = next++;
      try {
        results[i] = await transcribe(windows[i]);
      } catch (err) {
        fatal ??= err;
      }
      onDone(windows[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, windows.length)) }, worker));
  if (fatal !== null) throw fatal;
  return { results: results.filter((r): r is WindowResult => r !== undefined) };
}
