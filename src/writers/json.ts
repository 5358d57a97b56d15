import type { Transcript } from './transcript.js';
import type { GuardReport } from '../transcript/guard-record.js';
import type { Cue } from '../transcript/cue.js';
import type { WindowResult } from '../transcript/window-result.js';
import { joinTexts } from '../text/scripts.js';

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Machine-readable output: the input, its duration, language, model, windows (with their aligned
 * words, when an aligner timed them) and cues; and, for
 * scripts written for whisper or OpenAI's `verbose_json`, `task`, `text` and `segments` (one per
 * cue: id, start, end, text, with the language and guard outcome of the window it came from).
 */
export function renderJson(t: Transcript): string {
  const doc = {
    task: 'transcribe',
    input: t.input,
    duration: round3(t.durationSeconds),
    language: t.language,
    model: t.model,
    windows: t.windows.map((w) => ({
      index: w.window.index,
      start: round3(w.window.start),
      end: round3(w.window.end),
      language: w.language,
      text: w.text,
      ms: Math.round(w.ms),
      stop: w.stop,
      tokens: w.tokens,
      ...(w.guard ? { guard: guardJson(w.guard) } : {}),
      ...(w.words ? { words: w.words.map((x) => ({ text: x.text, start: round3(x.start), end: round3(x.end) })) } : {}),
    })),
    cues: t.cues.map((c) => ({ start: round3(c.start), end: round3(c.end), text: c.text })),
    text: t.cues.map((c) => oneLine(c.text)).reduce(joinTexts, ''),
    segments: t.cues.map((c, id) => {
      const w = windowOf(t, c);
      return {
        id,
        start: round3(c.start),
        end: round3(c.end),
        text: oneLine(c.text),
        window: w?.window.index ?? null,
        language: w?.language ?? t.language,
        guard: w?.guard?.outcome ?? 'clean',
      };
    }),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A cue's lines as the text reads (a space between Latin lines, none between Chinese ones). */
function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).reduce(joinTexts, '');
}

/** The window a cue was cut from: cues never cross windows, so the one holding its middle. */
function windowOf(t: Transcript, c: Cue): WindowResult | undefined {
  const mid = (c.start + c.end) / 2;
  return t.windows.find((w) => w.window.start <= mid && mid <= w.window.end);
}

/**
 * The quality guards' record of a window: the flags of its first decode, every decode made
 * (the first, then each retry with the step, the flags that called for it, and what it gave),
 * the outcome and which decode's text was kept.
 */
function guardJson(g: GuardReport) {
  return {
    flags: g.flags.map((f) => ({ kind: f.kind, detail: f.detail })),
    attempts: g.attempts.map((a) => ({
      step: a.step,
      reason: a.reason,
      ...(a.settings.repetitionControl ? { repetitionControl: true } : {}),
      ...(a.settings.split ? { split: true } : {}),
      ...(a.step !== 'initial' && a.settings.context === null ? { context: null } : {}),
      ...(a.settings.language ? { forcedLanguage: a.settings.language } : {}),
      flags: a.flags.map((f) => ({ kind: f.kind, detail: f.detail })),
      language: a.language,
      text: a.text,
      stop: a.stop,
      tokens: a.tokens,
      ...(a.error !== undefined ? { error: a.error } : {}),
    })),
    outcome: g.outcome,
    kept: g.kept,
    // the window's text is the kept decode with its loops cut; attempts[kept].text is as decoded
    ...(g.collapsed ? { collapsedUnits: g.collapsed } : {}),
  };
}
