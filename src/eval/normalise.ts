/**
 * The English normalisation applied to reference and hypothesis before WER, kept small on
 * purpose (every rule changes the figure, so every rule is listed):
 *
 *  1. Unicode NFKC, lower case; curly apostrophes become `'`.
 *  2. Hyphens, dashes and slashes separate words (`well-known` → `well known`).
 *  3. Every other character that is not a letter, digit, mark or apostrophe is dropped
 *     (punctuation, symbols); an apostrophe inside a word stays (`don't`), at its edges it goes.
 *  4. Numbers are compared as written: `21` and `twenty one` are different words. (LibriSpeech
 *     references spell numbers out; a model writing digits pays for it here.)
 *  5. Chinese, Japanese and Korean characters count one "word" each, since those scripts put no
 *     spaces between words: for them the figure is a character error rate.
 */
const CJK_CHAR = /([\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff])/gu;

export function normaliseWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/[-\u2010-\u2015/]/g, ' ')
    .replace(/[^\p{L}\p{N}\p{M}'\s]/gu, ' ')
    .replace(CJK_CHAR, ' $1 ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}
