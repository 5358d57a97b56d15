import type { Cue } from '../transcript/cue.js';
import { formatTimestamp } from './timestamp.js';

export interface VttOptions {
  /**
   * Karaoke-style cues: a WebVTT timestamp tag before each word after the first
   * (`<00:00:01.500>word`), so players colour the words as they are spoken (::cue(:past) /
   * ::cue(:future)); for cues timed by aligned words, others are written plain.
   */
  readonly highlightWords?: boolean;
}

/** WebVTT: a `WEBVTT` header, `HH:MM:SS.mmm` timings, text with &, <, > escaped. */
export function renderVtt(cues: readonly Cue[], options: VttOptions = {}): string {
  const blocks = cues.map(
    (cue) => `${formatTimestamp(cue.start, '.')} --> ${formatTimestamp(cue.end, '.')}\n${options.highlightWords ? karaokeText(cue) : vttText(cue.text)}\n`,
  );
  return ['WEBVTT\n', ...blocks].join('\n');
}

/**
 * The spec forbids `-->` in cue text and gives `&`, `<` special meaning; escaping `>` as well
 * keeps `-->` from forming, and blank lines (which would end the cue) are dropped.
 */
function vttText(text: string): string {
  return vttLines(escape(text));
}

/** Lines trimmed, blank ones dropped: a blank line would end the cue. */
function vttLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('\n');
}

/**
 * The cue text with a timestamp tag at each word mark strictly inside the cue's time (the spec
 * wants them increasing and after the cue start; the end is exclusive), escaped piece by piece.
 */
function karaokeText(cue: Cue): string {
  const ms = (t: number): number => Math.round(t * 1000);
  const marks = (cue.marks ?? []).filter((m) => m.offset > 0 && ms(m.time) < ms(cue.end));
  let out = '';
  let from = 0;
  let last = ms(cue.start);
  for (const m of marks) {
    if (ms(m.time) <= last) continue;
    out += `${escape(cue.text.slice(from, m.offset))}<${formatTimestamp(m.time, '.')}>`;
    from = m.offset;
    last = ms(m.time);
  }
  out += escape(cue.text.slice(from));
  return vttLines(out);
}

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
