/**
 * WindowResult[] → Cue[]: subtitle cues from per-window transcripts.
 *
 * Per window with text:
 *  1. tokenise (./split-text.ts) and time the tokens: by the aligner's words when the window has
 *     them (./word-timing.ts: each token from its first word's start to its last word's end, and
 *     runs of tokens cut at pauses), else by splitting the tokens between the window's speech
 *     regions in proportion to speech time (./timing.ts);
 *  2. inside each run (a pause-free stretch of words, or a speech region), split at sentence/clause
 *     ends into phrases; cut phrases that do not fit two lines, the cue limits or MAX_DURATION into
 *     balanced chunks at token boundaries (never inside a word); join consecutive phrases into one
 *     cue while they fit, without running on past a sentence end once the cue is half a line wide
 *     (short replies like "Yes. Thanks." may share a cue; full sentences get their own);
 *  3. time the cues: from their first word's start to their last word's end, or, without words,
 *     in proportion to spoken characters over the region;
 *  4. cues shorter than MIN_DURATION are merged into a neighbour in the same run when the result
 *     still fits, else extended up to MIN_DURATION: by characters, forward then backward, never past
 *     the neighbouring cues or the window; by words, forward only (a cue starts with its first
 *     word), up to the next cue (which may be in the next window: the window ends in silence);
 *     cues longer than MAX_DURATION are cut short at the end.
 * Cues are therefore ordered, non-overlapping and, apart from that minimal extension, inside the
 * speech (the words, or the speech regions); by characters also inside their window.
 */
import type { Region } from '../speech/region.js';
import type { WindowResult } from '../transcript/window-result.js';
import type { Cue, CueMark } from '../transcript/cue.js';
import { columnsFor, fitLines, lineWidth, CJK_COLUMNS, LATIN_COLUMNS } from './line-break.js';
import { endsSentence, joinTokens, splitPhrases, tokenize, type Token } from './split-text.js';
import { allocateToRegions, proportionalSpans, spokenChars } from './timing.js';
import { splitAtPauses, timeTokens, tokenOffsets, type TimedToken } from './word-timing.js';

/** Shortest cue: under ~1 s a cue flashes by before it can be read. */
export const MIN_DURATION = 1;
/** Longest cue: beyond ~7 s viewers re-read a cue and lose the picture (and it drifts from speech). */
export const MAX_DURATION = 7;

export interface CueOptions {
  /** Line width for alphabetic scripts, columns (default 42). */
  readonly latinColumns?: number;
  /** Line width for CJK text, columns (default 32 = 16 full-width characters). */
  readonly cjkColumns?: number;
  /** Most characters in one cue, spaces and line break not counted (--max-chars). */
  readonly maxChars?: number;
  /** Most words (display tokens) in one cue (--max-words). */
  readonly maxWords?: number;
}

interface Draft {
  tokens: Token[];
  region: number;
  start: number;
  end: number;
}

/** Cues for all windows, in order. */
export function buildCues(results: readonly WindowResult[], options: CueOptions = {}): Cue[] {
  const cues: Cue[] = [];
  const sorted = [...results].sort((a, b) => a.window.start - b.window.start);
  for (const r of sorted) cues.push(...windowCues(r, options));
  // Cues timed by words linger after their last word, but never into the next cue (the next speech).
  return cues.map((c, i) => {
    const next = cues[i + 1];
    return c.marks && next && next.start > c.start && c.end > next.start ? { ...c, end: next.start } : c;
  });
}

function windowCues(result: WindowResult, options: CueOptions): Cue[] {
  const { window } = result;
  const tokens = tokenize(result.text);
  if (tokens.length === 0 || !/[\p{L}\p{N}]/u.test(result.text)) return [];
  const columns = columnsFor(result.text) === CJK_COLUMNS ? (options.cjkColumns ?? CJK_COLUMNS) : (options.latinColumns ?? LATIN_COLUMNS);
  const fits = (ts: readonly Token[]): boolean => withinLimits(ts, options) && fitLines(ts, columns) !== null;
  const timed = result.words && result.words.length > 0 ? timeTokens(result.text, tokens, result.words) : [];
  const wordCues = timed.length > 0 ? wordDrafts(timed, fits, columns) : [];
  // Cues that would start together (words the aligner put at one instant) cannot be shown apart: such
  // an alignment tells nothing, and the timing by characters is the better guess.
  const byWords = wordCues.length > 0 && wordCues.every((d, i) => i === 0 || d.start > wordCues[i - 1].start);
  const drafts = byWords ? wordCues : proportionalDrafts(tokens, window, fits, columns);

  mergeShort(drafts, fits);
  if (byWords) {
    // A cue lingers after its last word up to the readability minimum; buildCues stops it at the next cue.
    for (const d of drafts) d.end = Math.min(Math.max(d.end, d.start + MIN_DURATION), d.start + MAX_DURATION);
    return drafts.map((d) => {
      const text = cueText(d.tokens, columns);
      return { start: d.start, end: d.end, text, marks: wordMarks(text, d.tokens as TimedToken[]) };
    });
  }
  for (let i = 0; i < drafts.length; i++) {
    const d = drafts[i];
    if (d.end - d.start < MIN_DURATION) {
      const limit = i + 1 < drafts.length ? drafts[i + 1].start : window.end;
      d.end = Math.max(d.end, Math.min(d.start + MIN_DURATION, limit));
    }
    if (d.end - d.start < MIN_DURATION) {
      const limit = i > 0 ? drafts[i - 1].end : window.start;
      d.start = Math.min(d.start, Math.max(d.end - MIN_DURATION, limit));
    }
    if (d.end - d.start > MAX_DURATION) d.end = d.start + MAX_DURATION;
  }
  return drafts
    .filter((d) => d.end > d.start)
    .map((d) => ({ start: d.start, end: d.end, text: cueText(d.tokens, columns) }));
}

/** A cue's text: two balanced lines when it needs them, a token too wide for any line on its own. */
function cueText(tokens: readonly Token[], columns: number): string {
  return (fitLines(tokens, columns) ?? [joinTokens(tokens)]).join('\n');
}

/** Where each timed token stands in the cue's text, and when it is spoken. */
function wordMarks(text: string, tokens: readonly TimedToken[]): CueMark[] {
  return tokenOffsets(text, tokens).map(([offset], i) => ({ offset, time: tokens[i].start }));
}

/** Cues of a window timed by its words: one run of cues per pause-free stretch of speech. */
function wordDrafts(timed: readonly TimedToken[], fits: (ts: readonly Token[]) => boolean, columns: number): Draft[] {
  const drafts: Draft[] = [];
  splitAtPauses(timed).forEach((run, j) => {
    const seconds = (ts: readonly TimedToken[]): number => ts[ts.length - 1].end - ts[0].start;
    for (const g of groupTokens(run, fits, seconds, columns)) {
      drafts.push({ tokens: g, region: j, start: g[0].start, end: g[g.length - 1].end });
    }
  });
  return drafts;
}

/** Cues of a window without word times: the text spread over its speech regions by characters. */
function proportionalDrafts(tokens: readonly Token[], window: WindowResult['window'], fits: (ts: readonly Token[]) => boolean, columns: number): Draft[] {
  const regions = usableRegions(window.speech, window.start, window.end);
  const drafts: Draft[] = [];
  allocateToRegions(tokens, regions).forEach((regionTokens, j) => {
    if (regionTokens.length === 0) return;
    const region = regions[j];
    const secPerChar = (region.end - region.start) / spokenChars(regionTokens);
    const seconds = (ts: readonly Token[]): number => spokenChars(ts) * secPerChar;
    const groups = groupTokens(regionTokens, fits, seconds, columns);
    const spans = proportionalSpans(groups.map(spokenChars), region.start, region.end);
    groups.forEach((g, i) => drafts.push({ tokens: g, region: j, start: spans[i][0], end: spans[i][1] }));
  });
  return drafts;
}

/**
 * A run of tokens → the token groups of its cues: phrases, cut to fit, then joined while the
 * joined cue fits, lasts at most MAX_DURATION and does not run on past a sentence end once it is
 * half a line wide.
 */
function groupTokens<T extends Token>(tokens: readonly T[], fits: (ts: readonly T[]) => boolean, seconds: (ts: readonly T[]) => number, columns: number): T[][] {
  const pieces: T[][] = [];
  for (const phrase of splitPhrases(tokens)) pieces.push(...chunk(phrase, (ts) => fits(ts) && seconds(ts) <= MAX_DURATION));
  const groups: T[][] = [];
  for (const p of pieces) {
    const cur = groups.length > 0 ? groups[groups.length - 1] : null;
    if (cur) {
      const joined = [...cur, ...p];
      const stop = endsSentence(cur[cur.length - 1]) && lineWidth(cur) >= columns / 2;
      if (!stop && fits(joined) && seconds(joined) <= MAX_DURATION) {
        groups[groups.length - 1] = joined;
        continue;
      }
    }
    groups.push(p);
  }
  return groups;
}

/** --max-chars and --max-words; a single token always passes (words are never split). */
function withinLimits(ts: readonly Token[], options: CueOptions): boolean {
  if (ts.length <= 1) return true;
  if (options.maxWords !== undefined && ts.length > options.maxWords) return false;
  if (options.maxChars !== undefined && [...joinTokens(ts).replace(/\s/gu, '')].length > options.maxChars) return false;
  return true;
}

/** Merges cues shorter than MIN_DURATION with a same-region neighbour while the result fits. */
function mergeShort(drafts: Draft[], fits: (ts: readonly Token[]) => boolean): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < drafts.length; i++) {
      const d = drafts[i];
      if (d.end - d.start >= MIN_DURATION) continue;
      const options = [i - 1, i + 1]
        .filter((n) => n >= 0 && n < drafts.length && drafts[n].region === d.region)
        .map((n) => ({ n, merged: n < i ? [...drafts[n].tokens, ...d.tokens] : [...d.tokens, ...drafts[n].tokens] }))
        .filter(({ n, merged }) => fits(merged) && Math.max(drafts[n].end, d.end) - Math.min(drafts[n].start, d.start) <= MAX_DURATION)
        .sort((a, b) => drafts[a.n].end - drafts[a.n].start - (drafts[b.n].end - drafts[b.n].start));
      if (options.length === 0) continue;
      const { n, merged } = options[0];
      const a = Math.min(n, i);
      drafts.splice(a, 2, { tokens: merged, region: d.region, start: drafts[a].start, end: drafts[a + 1].end });
      changed = true;
      break;
    }
  }
}

/**
 * Cuts a token run into the fewest balanced chunks that each pass `ok` (fit two lines and the
 * duration limit); a single token that cannot pass stands alone.
 */
function chunk<T extends Token>(tokens: readonly T[], ok: (ts: readonly T[]) => boolean): T[][] {
  if (ok(tokens) || tokens.length <= 1) return [tokens.slice()];
  const total = spokenChars(tokens);
  for (let n = 2; n <= tokens.length; n++) {
    const parts: T[][] = [];
    let from = 0;
    let acc = 0;
    for (let p = 1; p <= n && from < tokens.length; p++) {
      const target = (total * p) / n;
      let to = from + 1;
      let run = acc + spokenChars([tokens[from]]);
      while (to < tokens.length && p < n && Math.abs(run + spokenChars([tokens[to]]) - target) <= Math.abs(run - target)) {
        run += spokenChars([tokens[to]]);
        to++;
      }
      if (p === n) to = tokens.length;
      parts.push(dropSpace(tokens.slice(from, to)));
      acc = run;
      from = to;
    }
    if (parts.every((q) => q.length === 1 || ok(q))) return parts;
  }
  return tokens.map((t) => [dropSpace([t])[0]]);
}

function dropSpace<T extends Token>(ts: T[]): T[] {
  if (ts.length > 0 && ts[0].spaceBefore) ts[0] = { ...ts[0], spaceBefore: false };
  return ts;
}

/** The window's regions clipped to the window, or the whole window if it lists none. */
function usableRegions(speech: readonly Region[], start: number, end: number): Region[] {
  const out = speech.map((r) => ({ start: Math.max(start, r.start), end: Math.min(end, r.end) })).filter((r) => r.end > r.start);
  return out.length > 0 ? out : [{ start, end }];
}

/** The language spoken longest, by the speech duration of the windows the model named it for; null when none named. */
export function fileLanguage(results: readonly WindowResult[]): string | null {
  const seconds = new Map<string, number>();
  for (const r of results) {
    if (!r.language || r.text.trim() === '') continue;
    const d = r.window.speech.reduce((s, x) => s + (x.end - x.start), 0) || r.window.end - r.window.start;
    seconds.set(r.language, (seconds.get(r.language) ?? 0) + d);
  }
  let best: string | null = null;
  let bestS = -1;
  for (const [lang, s] of seconds) {
    if (s > bestS) {
      best = lang;
      bestS = s;
    }
  }
  return best;
}
