/**
 * GPT-2's byte-level alphabet, which Qwen's BPE uses: every byte maps to one printable code
 * point (printable Latin-1 bytes to themselves, the rest to U+0100 onwards), so token strings
 * in vocab.json are text even when they hold partial UTF-8 sequences.
 */
function buildTable(): { bytes: number[]; chars: string[] } {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const cps = [...bytes];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      cps.push(256 + extra++);
    }
  }
  return { bytes, chars: cps.map((c) => String.fromCodePoint(c)) };
}

const TABLE = buildTable();
const BYTE_TO_CHAR: string[] = new Array(256);
TABLE.bytes.forEach((b, i) => (BYTE_TO_CHAR[b] = TABLE.chars[i]));

/** The 256 byte symbols in the order GPT-2-style vocabularies give them ids 0–255. */
export const BYTE_SYMBOLS: readonly string[] = TABLE.chars;

export function toByteLevel(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += BYTE_TO_CHAR[b];
  return out;
}

const CHAR_TO_BYTE = new Map(TABLE.chars.map((c, i) => [c, TABLE.bytes[i]]));

export function fromByteLevel(symbols: string): string {
  const bytes: number[] = [];
  for (const ch of symbols) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) throw new Error(`not a byte-level symbol: ${ch}`);
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A simplified version of Qwen2's pre-tokenizer split: words with their leading space, digits, punctuation runs, spaces. */
export function preTokenize(text: string): string[] {
  return text.match(/'(?:s|t|re|ve|m|ll|d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu) ?? [];
}
