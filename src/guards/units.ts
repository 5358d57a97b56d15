/**
 * Text units for the quality guards: what counts as "one token" when looking for repetition
 * loops, leaked context and implausible amounts of text.
 *
 *  - In scripts written without spaces (Chinese, Japanese kana, Thai, Lao, Khmer, Burmese) every
 *    character is a unit: there is no cheap word boundary, and a loop of a 2-character word is
 *    simply a period-2 repetition of characters.
 *  - Everywhere else a unit is a word: a run of letters, marks, digits and apostrophes.
 *
 * Units are compared case-folded, without punctuation, so "No, no, no." is three times `no`.
 */

import { UNSPACED_CLASS, hasSyllabicCjk, hasUnspaced } from '../text/scripts.js';

export interface Unit {
  /** Case-folded text of the unit. */
  readonly text: string;
  /** True for a character of a script written without spaces. */
  readonly cjk: boolean;
  /** Where the unit is in the NFC form of the text: [start, end) in UTF-16 code units. */
  readonly start: number;
  readonly end: number;
}

/** One unspaced character (with its combining marks), or a word of other letters, digits and apostrophes. */
const UNIT = new RegExp(`[${UNSPACED_CLASS}]\\p{M}*|(?:(?![${UNSPACED_CLASS}])[\\p{L}\\p{M}\\p{N}'’])+`, 'gu');

/** The units of a text, in order (positions refer to `text.normalize('NFC')`). */
export function textUnits(text: string): Unit[] {
  const out: Unit[] = [];
  for (const m of text.normalize('NFC').matchAll(UNIT)) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    const cjk = hasUnspaced(raw);
    if (cjk) {
      out.push({ text: raw, cjk: true, start, end });
      continue;
    }
    // A word glued to unspaced characters (e.g. "AI模型") is split by the regex already; strip
    // apostrophes at the edges ('quoted').
    const t = raw.replace(/^['’]+|['’]+$/gu, '').toLocaleLowerCase();
    if (t) out.push({ text: t, cjk: false, start, end });
  }
  return out;
}

/** Letters and digits, split into Han/kana characters and all others (for speaking-rate checks). */
export function spokenCharacters(text: string): { readonly cjk: number; readonly other: number } {
  let cjk = 0;
  let other = 0;
  for (const ch of text) {
    if (hasSyllabicCjk(ch)) cjk++;
    else if (/[\p{L}\p{N}]/u.test(ch)) other++;
  }
  return { cjk, other };
}
