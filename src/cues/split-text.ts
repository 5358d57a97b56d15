/**
 * Splits transcript text into display tokens and phrases.
 *
 * A token is the smallest unit a line or cue may break around:
 *  - in spaced scripts (Latin, Cyrillic, Greek, Hangul, …) a whole word, so words are never split;
 *  - in scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) a word as
 *    ICU's dictionary-based word segmentation (Intl.Segmenter) finds it, so lines break between
 *    words there too (公园 stays together) while any word boundary remains a legal break;
 *  - closing punctuation (.,!?;:。，、！？；：」）…) sticks to the token before it, and opening
 *    brackets/quotes to the token after it, so no line starts with "。" or ends with "「".
 *
 * A phrase ends after a token ending in a sentence end (. ! ? 。！？) or a clause end
 * (, ; : ，、；：), possibly followed by closing quotes/brackets.
 */

import { hasUnspaced, isWide } from '../text/scripts.js';

export interface Token {
  /** The visible text of the token, no surrounding spaces. */
  readonly text: string;
  /** Whether a space separated it from the previous token in the source text. */
  readonly spaceBefore: boolean;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** ICU word boundaries: dictionary-based for Chinese, Japanese, Thai, Lao, Khmer and Burmese. */
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

const CLOSING = /^[\p{Pe}\p{Pf}\p{Po}]+$/u;
const OPENING = /^[\p{Ps}\p{Pi}]+$/u;
const STRAIGHT_QUOTE = /^["']$/u;
/** Full-width opening brackets (「『（【《): they start a new token even without a space. */
const UNSPACED_OPEN = /^[\u3000-\u303F\uFF00-\uFF0F\uFF3B\uFF5B\uFF5F]$/u;
/** Ends a sentence: Latin and full-width/ideographic forms, and the ellipsis. */
const SENTENCE_END = /[.!?。！？．…]["'”’」』）)\]]*$/u;
/** Ends a clause (or a sentence). */
const CLAUSE_END = /[.!?。！？．…,;:，、；：]["'”’」』）)\]]*$/u;
/** Characters that take speaking time: letters and digits (punctuation and spaces do not). */
const SPOKEN = /[\p{L}\p{N}]/gu;

/** Breaks text into tokens (see the module comment). */
export function tokenize(text: string): Token[] {
  const tokens: { text: string; spaceBefore: boolean; open: boolean; unspaced: boolean }[] = [];
  let space = false;
  const add = (piece: string, isWord: boolean): void => {
    if (/^\s+$/u.test(piece)) {
      space = true;
      return;
    }
    const prev = tokens.length > 0 ? tokens[tokens.length - 1] : null;
    // Straight quotes are ambiguous: opening after a space (or at the start), closing otherwise.
    const isOpen = !isWord && (OPENING.test(piece) || (STRAIGHT_QUOTE.test(piece) && (space || prev === null || prev.open)));
    const isClose = !isWord && !isOpen && CLOSING.test(piece);
    // words of unspaced scripts: each word (as ICU segments it) is a break opportunity
    const unspaced = isWord && hasUnspaced(piece);
    if (prev && prev.open && !space) {
      prev.text += piece;
      prev.open = isOpen;
      prev.unspaced = unspaced;
    } else if (isClose && prev) {
      // Closing punctuation stays with what it closes, even after a stray space ("word ,").
      prev.text += piece;
    } else if (prev && !space && !unspaced && !prev.unspaced && !(isOpen && UNSPACED_OPEN.test(piece))) {
      // Continues a word of a spaced script: across inner punctuation too (U.S., well-known, $5).
      prev.text += piece;
    } else {
      tokens.push({ text: piece, spaceBefore: space && tokens.length > 0, open: isOpen, unspaced });
    }
    space = false;
  };
  for (const { segment, isWordLike } of wordSegmenter.segment(text)) {
    if (isWordLike) add(segment, true);
    else for (const { segment: g } of segmenter.segment(segment)) add(g, false);
  }
  return tokens.map((t) => ({ text: t.text, spaceBefore: t.spaceBefore }));
}

/** Joins tokens back into display text, with single spaces where the source had whitespace. */
export function joinTokens(tokens: readonly Token[]): string {
  let s = '';
  tokens.forEach((t, i) => {
    s += i > 0 && t.spaceBefore ? ` ${t.text}` : t.text;
  });
  return s;
}

export function endsSentence(token: Token): boolean {
  return SENTENCE_END.test(token.text);
}

export function endsClause(token: Token): boolean {
  return CLAUSE_END.test(token.text);
}

/** Number of spoken characters (letters, digits) in a token; at least 1 so every token takes time. */
export function spokenLength(token: Token): number {
  return Math.max(1, token.text.match(SPOKEN)?.length ?? 0);
}

/** Whether text is mostly set full-width (Chinese, Japanese, Korean): decides the line width. */
export function isMostlyCjk(text: string): boolean {
  let cjk = 0;
  let other = 0;
  for (const { segment: g } of segmenter.segment(text)) {
    if (/^\s+$/u.test(g) || CLOSING.test(g) || OPENING.test(g)) continue;
    if (isWide(g)) cjk++;
    else other++;
  }
  return cjk > other;
}

/** Splits tokens into phrases ending at sentence or clause punctuation. */
export function splitPhrases<T extends Token>(tokens: readonly T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  for (const t of tokens) {
    cur.push(t);
    if (endsClause(t)) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
