import type { Cue } from '../cues/cue.js';

/** A gap this long between cues starts a new paragraph. */
export const PARAGRAPH_GAP_SECONDS = 2;

/** Plain text: the cues' words, one paragraph per run of speech without a long pause. */
export function renderTxt(cues: readonly Cue[]): string {
  const paragraphs: string[][] = [];
  let previousEnd = -Infinity;
  for (const cue of cues) {
    if (paragraphs.length === 0 || cue.start - previousEnd >= PARAGRAPH_GAP_SECONDS) paragraphs.push([]);
    paragraphs[paragraphs.length - 1].push(cue.text.split('\n').map((l) => l.trim()).join(' '));
    previousEnd = cue.end;
  }
  return paragraphs.map((p) => joinWords(p)).join('\n\n') + (paragraphs.length ? '\n' : '');
}

/** CJK text carries no spaces between pieces; spaced scripts get one. */
function joinWords(pieces: string[]): string {
  let out = '';
  for (const piece of pieces) {
    if (out && !(endsCjk(out) && startsCjk(piece))) out += ' ';
    out += piece;
  }
  return out;
}

const CJK = /[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/u;
function endsCjk(s: string): boolean {
  return CJK.test(s.slice(-1));
}
function startsCjk(s: string): boolean {
  return CJK.test(s.slice(0, 1));
}
