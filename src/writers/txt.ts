import type { Cue } from '../transcript/cue.js';
import { joinTexts } from '../text/scripts.js';

/** A gap this long between cues starts a new paragraph. */
export const PARAGRAPH_GAP_SECONDS = 2;

/** Plain text: the cues' words, one paragraph per run of speech without a long pause. */
export function renderTxt(cues: readonly Cue[]): string {
  const paragraphs: string[][] = [];
  let previousEnd = -Infinity;
  for (const cue of cues) {
    if (paragraphs.length === 0 || cue.start - previousEnd >= PARAGRAPH_GAP_SECONDS) paragraphs.push([]);
    paragraphs[paragraphs.length - 1].push(cue.text.split('\n').map((l) => l.trim()).reduce(joinTexts, ''));
    previousEnd = cue.end;
  }
  // pieces of unspaced scripts (Chinese, Japanese, Thai…) join without a space, others with one
  return paragraphs.map((p) => p.reduce(joinTexts, '')).join('\n\n') + (paragraphs.length ? '\n' : '');
}
