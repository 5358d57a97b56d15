/**
 * Writing systems, as the guards, the cues and the writers need to tell them apart. One place, so
 * that "is this written without spaces?" has one answer everywhere (it once had five, and the txt
 * writer counted Hangul as unspaced: Korean cues were glued together).
 *
 *  - unspaced: scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao,
 *    Khmer, Burmese). Korean (Hangul) puts spaces between words, so it is *not* unspaced.
 *  - syllabic CJK: Han and kana, spoken at about one character per syllable (speaking rates).
 *  - full-width punctuation: CJK symbols and punctuation (U+3000–303F) and the full-width forms
 *    (U+FF00–FFEF); no space goes around them when they meet unspaced text.
 *  - wide: text set in full-width cells (Han, kana, Hangul, full-width punctuation); decides
 *    the subtitle line width.
 */

/** The unspaced scripts, as a regex character-class body (for building other patterns). */
export const UNSPACED_CLASS =
  '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}\\u30FC';

const UNSPACED = new RegExp(`[${UNSPACED_CLASS}]`, 'u');
const SYLLABIC_CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30FC]/u;
const FULL_WIDTH_PUNCTUATION = /[\u3000-\u303F\uFF00-\uFFEF]/u;
const HANGUL = /\p{Script=Hangul}/u;

/** Whether the text holds a letter of a script written without spaces. */
export function hasUnspaced(text: string): boolean {
  return UNSPACED.test(text);
}

/** Whether the text holds a Han or kana character (one syllable each). */
export function hasSyllabicCjk(text: string): boolean {
  return SYLLABIC_CJK.test(text);
}

/** Whether the text holds full-width (CJK) punctuation or a full-width form. */
export function hasFullWidthPunctuation(text: string): boolean {
  return FULL_WIDTH_PUNCTUATION.test(text);
}

/** Whether a grapheme is set full-width in subtitles: Han, kana, Hangul, full-width punctuation. */
export function isWide(grapheme: string): boolean {
  return SYLLABIC_CJK.test(grapheme) || HANGUL.test(grapheme) || FULL_WIDTH_PUNCTUATION.test(grapheme);
}

/** A character that needs no space next to unspaced text: an unspaced letter or full-width punctuation. */
function joinsTight(ch: string): boolean {
  return UNSPACED.test(ch) || FULL_WIDTH_PUNCTUATION.test(ch);
}

/**
 * Joins two pieces of one transcript: without a space where both sides are unspaced text (or its
 * punctuation), else with one ("今天" + "天气" → "今天天气", "안녕하세요" + "반갑습니다" → "안녕하세요 반갑습니다").
 */
export function joinTexts(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  const last = [...a].pop()!;
  const first = [...b][0];
  return joinsTight(last) && joinsTight(first) ? `${a}${b}` : `${a} ${b}`;
}
