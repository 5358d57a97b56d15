/**
 * Line breaking for subtitles.
 *
 * Widths are display columns from `string-width` (East Asian Width + grapheme clusters, so
 * full-width CJK counts 2, combining marks 0, emoji 2).
 *
 * Limits (common broadcast/streaming style guides, e.g. Netflix timed-text guidelines):
 *  - LATIN_COLUMNS = 42 columns per line for alphabetic scripts;
 *  - CJK_COLUMNS = 32 columns, i.e. 16 full-width characters, for Chinese/Japanese/Korean;
 *  - MAX_LINES = 2 lines per cue.
 * Two-line cues are balanced (the break minimising the longer line), preferring a break after
 * clause punctuation when that costs little, because readers take line ends as pauses.
 */
import stringWidth from 'string-width';
import { endsClause, isMostlyCjk, joinTokens, type Token } from './split-text.js';

export const LATIN_COLUMNS = 42;
export const CJK_COLUMNS = 32;
export const MAX_LINES = 2;

export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** Column limit for a text: by its dominant script. */
export function columnsFor(text: string): number {
  return isMostlyCjk(text) ? CJK_COLUMNS : LATIN_COLUMNS;
}

/** Width of tokens joined on one line. */
export function lineWidth(tokens: readonly Token[]): number {
  return displayWidth(joinTokens(tokens));
}

/**
 * Lays tokens out on at most two lines within `columns`.
 * Returns the lines, or null when they cannot fit (too wide for two lines).
 * A single token wider than `columns` gets a line of its own (words are never split).
 */
export function fitLines(tokens: readonly Token[], columns: number): string[] | null {
  if (tokens.length === 0) return [];
  if (lineWidth(tokens) <= columns) return [joinTokens(tokens)];
  if (tokens.length === 1) return [joinTokens(tokens)];
  let best: string[] | null = null;
  let bestCost = Infinity;
  for (let i = 1; i < tokens.length; i++) {
    const a = tokens.slice(0, i);
    const b = dropLeadingSpace(tokens.slice(i));
    const wa = lineWidth(a);
    const wb = lineWidth(b);
    const oversize = Math.max(0, wa - columns) + Math.max(0, wb - columns);
    if (oversize > 0 && !(a.length === 1 && wa > columns) && !(b.length === 1 && wb > columns)) continue;
    // Balanced lines; a clause end at the break is worth a few columns of imbalance.
    const cost = Math.max(wa, wb) - (endsClause(tokens[i - 1]) ? 4 : 0) + oversize * 100;
    if (cost < bestCost) {
      bestCost = cost;
      best = [joinTokens(a), joinTokens(b)];
    }
  }
  return best;
}

function dropLeadingSpace(tokens: Token[]): Token[] {
  if (tokens.length === 0 || !tokens[0].spaceBefore) return tokens;
  return [{ text: tokens[0].text, spaceBefore: false }, ...tokens.slice(1)];
}
