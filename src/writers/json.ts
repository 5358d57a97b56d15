import type { Transcript } from './transcript.js';

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Machine-readable output: the input, its duration, language, model, windows and cues. */
export function renderJson(t: Transcript): string {
  const doc = {
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
    })),
    failures: t.failures.map((f) => ({ index: f.window.index, start: round3(f.window.start), end: round3(f.window.end), error: f.error })),
    cues: t.cues.map((c) => ({ start: round3(c.start), end: round3(c.end), text: c.text })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
