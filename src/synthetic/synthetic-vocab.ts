import { fromByteLevel, toByteLevel } from '../convert/byte-level.js';
import { trainBpe } from './bpe-trainer.js';
import { ALIGNER_ADDED_TOKENS, OFFICIAL_ADDED_TOKENS, SUPPORTED_LANGUAGES } from './synthetic-files.js';

/**
 * The stand-in vocabulary: 256 byte tokens, merges learned from a short English text written for
 * this purpose (so common words, and every `language X` line the model prints, are few tokens),
 * then the official added tokens in their official order.
 */
const CORPUS_PARAGRAPHS = [
  'Hello world. This is a short test of the speech recognizer. The quick brown fox jumps over the lazy dog.',
  'We record a few words, and the model writes what it hears: one line of text for every sentence that was spoken.',
  'Thank you for listening. Good morning, good evening, and good night. Please speak slowly and clearly into the microphone.',
  'The weather is nice today. It will rain tomorrow in the north and the sun will come out in the south.',
  'Numbers are read one digit at a time: 1 2 3 4 5 6 7 8 9 0, and time stamps look like 00:01:02.',
  'Guten Tag. Wie geht es dir? Bonjour tout le monde. Hola, buenos dias. Ciao a tutti.',
  'This is a test. This is only a test. If this had been a real recording, you would have heard a voice.',
];

function buildCorpus(): string {
  const lines = [...CORPUS_PARAGRAPHS, ...CORPUS_PARAGRAPHS];
  // Each language line appears several times so "language X" is learned as whole words.
  for (let r = 0; r < 3; r++) for (const lang of SUPPORTED_LANGUAGES) lines.push(`language ${lang}`);
  return lines.join('\n');
}

export const TINY_MERGES = 400;

export interface TinyVocab {
  /** Every token string by id: bytes, merges, then added tokens. */
  readonly tokens: readonly string[];
  readonly merges: readonly string[];
  /** Id of the first added token (<|endoftext|>). */
  readonly firstAddedId: number;
  /** Number of ids the tokenizer knows (= tokens.length). */
  readonly size: number;
}

let cached: TinyVocab | undefined;

export function tinyVocab(): TinyVocab {
  if (cached) return cached;
  const bpe = trainBpe(buildCorpus(), TINY_MERGES);
  const firstAddedId = bpe.tokens.length;
  const tokens = [...bpe.tokens, ...OFFICIAL_ADDED_TOKENS.map(([t]) => t)];
  cached = { tokens, merges: bpe.merges, firstAddedId, size: tokens.length };
  return cached;
}

let cachedAligner: TinyVocab | undefined;

/** The stand-in vocabulary with the aligner's `<timestamp>` after the ASR's added tokens. */
export function alignerVocab(): TinyVocab {
  if (cachedAligner) return cachedAligner;
  const v = tinyVocab();
  const tokens = [...v.tokens.slice(0, v.firstAddedId), ...ALIGNER_ADDED_TOKENS.map(([t]) => t)];
  cachedAligner = { ...v, tokens, size: tokens.length };
  return cachedAligner;
}

export function tokenId(vocab: TinyVocab, token: string): number {
  const id = vocab.tokens.indexOf(token);
  if (id < 0) throw new Error(`token not in the synthetic vocabulary: ${token}`);
  return id;
}

/**
 * Splits `text` into tokens that are all distinct from each other and from `exclude`, taking the
 * longest unused vocabulary entry at each point (added tokens are matched whole). The result need
 * not be the canonical BPE encoding; it only has to detokenize back to `text`.
 */
export function distinctTokenization(vocab: TinyVocab, text: string, exclude: readonly number[] = []): number[] {
  const used = new Set(exclude);
  const added = OFFICIAL_ADDED_TOKENS.map(([t]) => t);
  const ordinary = new Map<string, number>();
  vocab.tokens.forEach((t, i) => {
    if (i < vocab.firstAddedId) ordinary.set(t, i);
  });
  const maxLen = Math.max(...[...ordinary.keys()].map((t) => [...t].length));
  const ids: number[] = [];
  let rest = text;
  while (rest.length) {
    const special = added.find((t) => rest.startsWith(t));
    if (special) {
      const id = tokenId(vocab, special);
      if (used.has(id)) throw new Error(`script repeats ${special}; chain tokens must be distinct`);
      ids.push(id);
      used.add(id);
      rest = rest.slice(special.length);
      continue;
    }
    const nextSpecial = Math.min(...added.map((t) => rest.indexOf(t)).filter((i) => i > 0), rest.length);
    const bl = [...toByteLevel(rest.slice(0, nextSpecial))];
    rest = rest.slice(nextSpecial);
    // Longest unused piece first, backtracking when a later piece runs out of unused tokens.
    const solve = (pos: number): number[] | undefined => {
      if (pos === bl.length) return [];
      for (let len = Math.min(maxLen, bl.length - pos); len >= 1; len--) {
        const id = ordinary.get(bl.slice(pos, pos + len).join(''));
        if (id === undefined || used.has(id)) continue;
        used.add(id);
        const tail = solve(pos + len);
        if (tail) return [id, ...tail];
        used.delete(id);
      }
      return undefined;
    };
    const piece = solve(0);
    if (!piece) throw new Error(`cannot tokenize "${fromByteLevel(bl.join(''))}" with distinct tokens`);
    ids.push(...piece);
  }
  return ids;
}
