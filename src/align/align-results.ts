/**
 * The alignment stage of one input: every window with words in its text gets them timed, one
 * window after another (the aligner has one slot). A window the aligner fails on keeps the
 * timing by characters, with one warning: its transcript is right, and worth more than its timing.
 */
import { readSeconds, type Audio } from '../audio/audio.js';
import type { WindowResult } from '../transcript/window-result.js';
import type { Log } from '../util/log.js';
import { throwIfInterrupted } from '../util/cleanup.js';
import { InterruptedError } from '../errors.js';
import type { Aligner } from './aligner.js';

export async function alignResults(results: readonly WindowResult[], audio: Audio, aligner: Aligner, input: string, log: Log): Promise<WindowResult[]> {
  const out: WindowResult[] = [];
  for (const r of results) {
    throwIfInterrupted();
    if (!/[\p{L}\p{N}]/u.test(r.text)) {
      out.push(r);
      continue;
    }
    try {
      // the same samples the window was transcribed from
      const words = await aligner.align(r, readSeconds(audio, r.window.start, r.window.end));
      out.push(words ? { ...r, words } : r);
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      log.warn(`${input}: window ${r.window.start.toFixed(1)}–${r.window.end.toFixed(1)} s: aligning failed (${(err as Error).message}); its cues are timed by characters`);
      out.push(r);
    }
  }
  return out;
}
