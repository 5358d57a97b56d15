import type { Cue } from '../transcript/cue.js';
import { formatTimestamp } from './timestamp.js';

/** SubRip: cues numbered from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each. */
export function renderSrt(cues: readonly Cue[]): string {
  return cues
    .map((cue, i) => `${i + 1}\n${formatTimestamp(cue.start, ',')} --> ${formatTimestamp(cue.end, ',')}\n${srtText(cue.text)}\n`)
    .join('\n');
}

/** A blank line would end the cue early, and an arrow line would be read as a timing. */
function srtText(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim().replaceAll('-->', '->'))
    .filter((l) => l.length > 0)
    .join('\n');
}
