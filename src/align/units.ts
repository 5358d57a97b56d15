/**
 * Transcript → the words the forced aligner times, as the official toolkit cuts them
 * (qwen_asr `encode_timestamp`): whitespace-separated pieces, each cleaned to letters, digits and
 * apostrophes, with every Han character split off as a word of its own ("abc中def" → abc, 中, def;
 * "well-known" → wellknown). Where the toolkit reaches for a word segmenter of its own:
 *  - Japanese (nagisa there): ICU's dictionary word segmentation (Intl.Segmenter 'ja'), whose
 *    words are of the same kind (東京 stays one word; kana runs split at word ends);
 *  - Korean (soynlp's LTokenizer there, which splits a particle off a word): the
 *    whitespace-separated word as it stands, particle included; the aligner then times the
 *    whole eojeol, which is what a subtitle shows anyway.
 * Each word keeps where it stands in the text (UTF-16 offsets), so cues can find their words.
 */

export interface AlignUnit {
  readonly text: string;
  /** Offset of its first kept character in the source text. */
  readonly from: number;
  /** Offset just after its last kept character. */
  readonly to: number;
}

const KEPT = /[\p{L}\p{N}\p{M}']/u;
const HAN = /\p{Script=Han}/u;
const japaneseWords = new Intl.Segmenter('ja', { granularity: 'word' });

export function alignUnits(text: string, language: string | null): AlignUnit[] {
  const units: AlignUnit[] = [];
  for (const piece of text.matchAll(/\S+/gu)) {
    const at = piece.index;
    if (language === 'Japanese') {
      for (const s of japaneseWords.segment(piece[0])) if (s.isWordLike) cleanInto(units, s.segment, at + s.index, false);
    } else {
      cleanInto(units, piece[0], at, true);
    }
  }
  return units;
}

/** Appends the cleaned words of one piece: runs of kept characters, Han characters alone. */
function cleanInto(units: AlignUnit[], piece: string, at: number, splitHan: boolean): void {
  let text = '';
  let from = -1;
  let to = -1;
  const flush = (): void => {
    if (text) units.push({ text, from, to });
    text = '';
  };
  let offset = at;
  for (const ch of piece) {
    const here = offset;
    offset += ch.length;
    if (splitHan && HAN.test(ch)) {
      flush();
      units.push({ text: ch, from: here, to: offset });
      continue;
    }
    if (!KEPT.test(ch)) continue;
    if (!text) from = here;
    text += ch;
    to = offset;
  }
  flush();
}
