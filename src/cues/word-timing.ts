/**
 * Display tokens timed by the aligner's words: a token is spoken from the start of its first word
 * to the end of its last (a word belongs to the token its first character is in). A token with no
 * word of its own (a lone symbol, a number the aligner skipped) takes the moment the one before it
 * ends, or the one after it starts. A silence of PAUSE_SECONDS or more between two tokens is a
 * pause: no cue runs across it.
 */
import type { Word } from '../transcript/word.js';
import type { Token } from './split-text.js';

/** Shortest silence between words that ends a cue: a listener hears it as a break. */
export const PAUSE_SECONDS = 0.5;

export interface TimedToken extends Token {
  readonly start: number;
  readonly end: number;
}

export function timeTokens(text: string, tokens: readonly Token[], words: readonly Word[]): TimedToken[] {
  const spans = tokenOffsets(text, tokens);
  const times: ({ start: number; end: number } | null)[] = spans.map(() => null);
  let t = 0;
  for (const w of words) {
    while (t + 1 < spans.length && w.from >= spans[t + 1][0]) t++;
    const cur = times[t];
    times[t] = cur ? { start: Math.min(cur.start, w.start), end: Math.max(cur.end, w.end) } : { start: w.start, end: w.end };
  }
  const out: TimedToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let time = times[i];
    if (!time) {
      const prev = out.length > 0 ? out[out.length - 1].end : null;
      const next = times.slice(i + 1).find((x) => x !== null)?.start ?? null;
      const at = prev ?? next;
      if (at === null) return []; // no word was timed at all
      time = { start: at, end: at };
    }
    out.push({ ...tokens[i], start: time.start, end: Math.max(time.start, time.end) });
  }
  return out;
}

/** Runs of tokens between pauses. */
export function splitAtPauses(timed: readonly TimedToken[], pause = PAUSE_SECONDS): TimedToken[][] {
  const runs: TimedToken[][] = [];
  for (const t of timed) {
    const run = runs.length > 0 ? runs[runs.length - 1] : null;
    if (run && t.start - run[run.length - 1].end < pause) run.push(t);
    else runs.push([t]);
  }
  return runs;
}

/** [from, to) of each token in the text: tokens are the text's pieces in order, spaces and line breaks dropped. */
export function tokenOffsets(text: string, tokens: readonly Token[]): [number, number][] {
  const out: [number, number][] = [];
  let cursor = 0;
  for (const t of tokens) {
    const at = text.indexOf(t.text, cursor);
    const from = at >= 0 ? at : cursor;
    out.push([from, from + t.text.length]);
    cursor = from + t.text.length;
  }
  return out;
}
