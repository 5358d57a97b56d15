/**
 * Per-window quality detectors (pure: text and facts about the window in, flags out).
 *
 * Each detector answers one question about one decode of one window; `checkCandidate` runs them
 * all. Thresholds are set where real speech never goes, so a clean transcript is not flagged:
 * a flag costs extra model calls and, when nothing repairs it, a mark in the output.
 */
import zlib from 'node:zlib';
import { spokenCharacters, textUnits, type Unit } from './units.js';
import type { StopReason } from '../transcript/decode.js';
import type { Flag, FlagKind } from '../transcript/guard-record.js';

/** How bad a flag is, for choosing the best of several failed candidates. */
export const SEVERITY: Record<FlagKind, number> = {
  repetition: 3,
  compression: 3,
  'too-much-text': 2,
  'context-leak': 2,
  'token-limit': 2,
  'too-little-text': 1,
  'no-text': 1,
  language: 1,
};

// ---------------------------------------------------------------------------------------------
// Repetition loops

/** Longest repeated n-gram looked for, in words (spaced scripts) and in characters (CJK, Thai). */
export const MAX_NGRAM_WORDS = 8;
export const MAX_NGRAM_CHARS = 16;

/**
 * Most back-to-back repeats real speech produces, by n-gram length:
 *  - one word: 4 ("no no no no", "very very very very"); a 5th in a row is a loop;
 *  - a phrase of 2+ words: 3 ("I don't know, I don't know, I don't know"); a 4th is a loop;
 *  - one CJK character: 8 (laughter 哈哈哈哈… and reduplication 好好好 stay under it);
 *  - 2–3 CJK characters (one word): 4 (对对对对, 好的好的好的好的);
 *  - 4+ CJK characters (a phrase): 3, as for phrases of words.
 */
export function maxRepeats(n: number, cjk: boolean): number {
  if (cjk) return n === 1 ? 8 : n <= 3 ? 4 : 3;
  return n === 1 ? 4 : 3;
}

export interface Loop {
  /** The repeated units joined (words with spaces, characters without). */
  readonly phrase: string;
  /** Units in one repeat. */
  readonly n: number;
  /** Back-to-back repeats. */
  readonly repeats: number;
  /** Index of the first unit of the run. */
  readonly at: number;
}

/** The largest back-to-back repetition beyond maxRepeats, or null (the text does not loop). */
export function findLoop(text: string): Loop | null {
  return findLoopInUnits(textUnits(text));
}

export function findLoopInUnits(units: readonly Unit[]): Loop | null {
  const u = units.map((x) => x.text);
  let best: Loop | null = null;
  const maxN = Math.min(MAX_NGRAM_CHARS, Math.floor(u.length / 2));
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + 2 * n <= u.length; i++) {
      let repeats = 1;
      while (i + (repeats + 1) * n <= u.length && sameRun(u, i, i + repeats * n, n)) repeats++;
      if (repeats < 2) continue;
      const gram = units.slice(i, i + n);
      const cjk = gram.every((x) => x.cjk);
      if (!cjk && n > MAX_NGRAM_WORDS) continue;
      if (repeats <= maxRepeats(n, cjk)) continue;
      // Bigger coverage wins; on a tie the shorter period (the loop's real unit) is kept.
      if (!best || repeats * n > best.repeats * best.n) {
        best = { phrase: gram.map((x) => x.text).join(cjk ? '' : ' '), n, repeats, at: i };
      }
      i += (repeats - 1) * n; // the rest of this run holds nothing new at this n
    }
  }
  return best;
}

function sameRun(u: readonly string[], a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (u[a + k] !== u[b + k]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Compression ratio

/**
 * UTF-8 size over zlib size, as whisper computes it (`compression_ratio`), with whisper's
 * threshold: above 2.4 the text is mostly repeats of itself. Whisper applies it to 30 s of text;
 * on our shorter windows ordinary text compresses less (1.0–1.6), so the same threshold is at
 * least as safe, and a loop that fills the token budget reaches 5–15.
 */
export const COMPRESSION_RATIO_MAX = 2.4;
/** Below this many bytes zlib's own overhead dominates and the ratio means nothing. */
export const COMPRESSION_MIN_BYTES = 60;

export function compressionRatio(text: string): number {
  const raw = Buffer.from(text, 'utf8');
  if (raw.length === 0) return 0;
  return raw.length / zlib.deflateSync(raw).length;
}

// ---------------------------------------------------------------------------------------------
// Amount of text for the speech

/**
 * Rates in letters (and digits) per second of detected speech. Conversational English runs at
 * ~12–13 letters/s (150 words/min), fast speech ~20, the fastest speakers ~25–28; Mandarin at
 * ~4–5 characters/s, fast ~7, Japanese kana up to ~10. A Han/kana character counts as
 * CJK_WEIGHT letters, so one scale serves every script (and mixed text).
 */
export const CJK_WEIGHT = 2.6;
/** More than this is more text than anyone can say: hallucination or a loop (CJK: 13.5 chars/s). */
export const MAX_LETTERS_PER_SECOND = 35;
/** Room for one word said in a blip the detector timed short (~4 CJK characters). */
export const RATE_SLACK_LETTERS = 10;
/**
 * Less than this over a long stretch of speech means text went missing: a slow speaker with
 * pauses still makes ~6 letters/s, so this is 6× below (CJK: 0.4 characters/s). Kept that low
 * because the energy-based speech detector also counts music and noise as speech.
 */
export const MIN_LETTERS_PER_SECOND = 1;
/** The low-rate check needs this much speech: short windows may hold a single word. */
export const MIN_SPEECH_FOR_LOW_RATE = 4;
/**
 * An empty answer (`language None`) over this much detected speech is suspect. The detector is
 * energy-based and also fires on music, coughs and noise, so it takes several seconds of it.
 */
export const MIN_SPEECH_FOR_NO_TEXT = 3;

/** Letters-equivalent of a text (see CJK_WEIGHT). */
export function weightedLetters(text: string): number {
  const { cjk, other } = spokenCharacters(text);
  return other + CJK_WEIGHT * cjk;
}

// ---------------------------------------------------------------------------------------------
// Context leakage

/**
 * A run of the context this long, in the output verbatim, is the prompt leaking into the
 * transcript: 4 words, or 12 CJK characters (a word counts 3). Shorter runs are what the context
 * is for (names and terms the speaker says).
 */
export const LEAK_MIN_WEIGHT = 12;
const unitWeight = (u: Unit) => (u.cjk ? 1 : 3);

/** The longest run of consecutive context units found verbatim in the text, by weight. */
export function longestContextRun(text: string, context: string): { readonly run: string; readonly weight: number } {
  const a = textUnits(text);
  const b = textUnits(context);
  let best = { end: 0, len: 0, weight: 0 };
  // Longest common substring of units, O(|a|·|b|) with two rows.
  let prevLen = new Array<number>(b.length + 1).fill(0);
  let prevW = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const curLen = new Array<number>(b.length + 1).fill(0);
    const curW = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      if (a[i - 1].text !== b[j - 1].text) continue;
      curLen[j] = prevLen[j - 1] + 1;
      curW[j] = prevW[j - 1] + unitWeight(a[i - 1]);
      if (curW[j] > best.weight) best = { end: i, len: curLen[j], weight: curW[j] };
    }
    prevLen = curLen;
    prevW = curW;
  }
  const run = a.slice(best.end - best.len, best.end);
  return { run: run.map((u) => u.text).join(run.every((u) => u.cjk) ? '' : ' '), weight: best.weight };
}

// ---------------------------------------------------------------------------------------------
// All checks

export interface CandidateFacts {
  /** The transcript of the decode. */
  readonly text: string;
  /** The language the model named (or was forced to), null for `language None`. */
  readonly language: string | null;
  readonly stop: StopReason;
  /** Seconds of detected speech in the window. */
  readonly speechSeconds: number;
}

export interface CheckPolicy {
  /** The --context text, if any. */
  readonly context: string | null;
  /** Languages allowed by a --language list; null: any. */
  readonly allowed: readonly string[] | null;
  /** False with --no-guard: only the language policy is checked. */
  readonly quality: boolean;
}

/** Every flag a decode earns. */
export function checkCandidate(c: CandidateFacts, policy: CheckPolicy): Flag[] {
  const flags: Flag[] = [];
  if (policy.allowed && c.language !== null && !policy.allowed.includes(c.language)) {
    flags.push({ kind: 'language', detail: `${c.language} is not in ${policy.allowed.join(', ')}` });
  }
  if (!policy.quality) return flags;

  const loop = findLoop(c.text);
  if (loop) flags.push({ kind: 'repetition', detail: `"${loop.phrase}" ×${loop.repeats}` });
  const bytes = Buffer.byteLength(c.text, 'utf8');
  if (bytes >= COMPRESSION_MIN_BYTES) {
    const ratio = compressionRatio(c.text);
    if (ratio > COMPRESSION_RATIO_MAX) flags.push({ kind: 'compression', detail: `compression ratio ${ratio.toFixed(2)}` });
  }
  if (c.stop === 'limit') flags.push({ kind: 'token-limit', detail: 'the token budget ran out before the answer ended' });

  const letters = weightedLetters(c.text);
  const speech = c.speechSeconds;
  if (letters === 0) {
    if (speech >= MIN_SPEECH_FOR_NO_TEXT) {
      const said = c.language === null ? 'language None' : 'empty text';
      flags.push({ kind: 'no-text', detail: `${said} over ${speech.toFixed(1)} s of detected speech` });
    }
  } else if (letters > MAX_LETTERS_PER_SECOND * speech + RATE_SLACK_LETTERS) {
    flags.push({ kind: 'too-much-text', detail: `${Math.round(letters)} letters for ${speech.toFixed(1)} s of speech` });
  } else if (speech >= MIN_SPEECH_FOR_LOW_RATE && letters < MIN_LETTERS_PER_SECOND * speech) {
    flags.push({ kind: 'too-little-text', detail: `${Math.round(letters)} letters for ${speech.toFixed(1)} s of speech` });
  }

  if (policy.context) {
    const leak = longestContextRun(c.text, policy.context);
    if (leak.weight >= LEAK_MIN_WEIGHT) flags.push({ kind: 'context-leak', detail: `"${leak.run}" is copied from --context` });
  }
  return flags;
}

/** Sum of severities: 0 for a clean decode. */
export function severity(flags: readonly Flag[]): number {
  return flags.reduce((s, f) => s + SEVERITY[f.kind], 0);
}
