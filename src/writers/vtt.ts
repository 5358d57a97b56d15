import type { Cue } from '../transcript/cue.js';
import { formatTimestamp } from './timestamp.js';

/** WebVTT: a `WEBVTT` header, `HH:MM:SS.mmm` timings, text with &, <, > escaped. */
export function renderVtt(cues: readonly Cue[]): string {
  const blocks = cues.map(
    (cue) => `${formatTimestamp(cue.start, '.')} --> ${formatTimestamp(cue.end, '.')}\n${vttText(cue.text)}\n`,
  );
  return ['WEBVTT\n', ...blocks].join('\n');
}

/**
 * The spec forbids `-->` in cue text and gives `&`, `<` special meaning; escaping `>` as well
 * keeps `-->` from forming, and blank lines (which would end the cue) are dropped.
 */
function vttText(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;'))
    .join('\n');
}
