import { describe, expect, it } from 'vitest';
import { alignUnits } from '../src/align/units.js';
import { fixTimestamps } from '../src/align/fix-timestamps.js';
import { alignerPrompt, alignWindow, placeWords } from '../src/align/align-window.js';
import { argmax } from '../src/align/aligner-call.js';
import { alignerContext } from '../src/align/aligner.js';
import { MIN_DURATION, buildCues } from '../src/cues/build-cues.js';
import { PAUSE_SECONDS } from '../src/cues/word-timing.js';
import { renderVtt } from '../src/writers/vtt.js';
import { renderJson } from '../src/writers/json.js';
import type { WindowResult } from '../src/transcript/window-result.js';
import type { Word } from '../src/transcript/word.js';

const texts = (text: string, language: string | null = 'English') => alignUnits(text, language).map((u) => u.text);

describe('the aligner’s words (the official encode_timestamp rules)', () => {
  it('splits on whitespace and keeps letters, digits and apostrophes', () => {
    expect(texts('Hello, world! It’s 3.14 — don\'t stop well-known U.S.')).toEqual(['Hello', 'world', 'Its', '314', "don't", 'stop', 'wellknown', 'US']);
  });
  it('gives every Han character a word of its own, also inside a mixed piece', () => {
    expect(texts('今天天气很好。', 'Chinese')).toEqual(['今', '天', '天', '气', '很', '好']);
    expect(texts('abc中def', 'English')).toEqual(['abc', '中', 'def']);
  });
  it('Japanese: dictionary words (ICU) in place of nagisa', () => {
    const w = texts('東京に行きました。', 'Japanese');
    expect(w.join('')).toBe('東京に行きました');
    expect(w).toContain('東京');
  });
  it('Korean: the whitespace word, particle included', () => {
    expect(texts('안녕하세요 저는 학생입니다.', 'Korean')).toEqual(['안녕하세요', '저는', '학생입니다']);
  });
  it('keeps where each word stands in the text', () => {
    const text = '  "Well," she said.';
    for (const u of alignUnits(text, 'English')) {
      expect(text.slice(u.from, u.to).replace(/[^\p{L}\p{N}']/gu, '')).toBe(u.text);
    }
    expect(alignUnits('', 'English')).toEqual([]);
    expect(alignUnits('... !!', 'English')).toEqual([]);
  });
  it('builds the official prompt: each word followed by two <timestamp>s', () => {
    expect(alignerPrompt(alignUnits('Hi there.', 'English'))).toBe('<__media__>Hi<timestamp><timestamp>there<timestamp><timestamp>');
  });
});

describe('fixTimestamps (the official fix_timestamp)', () => {
  it('leaves ordered times alone', () => {
    expect(fixTimestamps([0, 80, 80, 160, 240])).toEqual([0, 80, 80, 160, 240]);
    expect(fixTimestamps([])).toEqual([]);
  });
  it('a run of one or two outliers takes the nearer neighbour (the left one on a tie)', () => {
    expect(fixTimestamps([0, 80, 1000, 160, 240])).toEqual([0, 80, 80, 160, 240]);
    expect(fixTimestamps([0, 80, 160, 10, 20, 30])).toEqual([0, 0, 10, 10, 20, 30]);
  });
  it('a longer run is spread evenly between its neighbours, truncated to whole ms', () => {
    expect(fixTimestamps([0, 500, 600, 700, 100, 200, 300, 400, 800])).toEqual([0, 25, 50, 75, 100, 200, 300, 400, 800]);
    expect(fixTimestamps([0, 900, 950, 990, 100, 200, 300, 400])).toEqual([0, 25, 50, 75, 100, 200, 300, 400]);
    expect(fixTimestamps([0, 900, 950, 990, 10, 20, 30, 40])).toEqual([0, 2, 5, 7, 10, 20, 30, 40]);
  });
  it('outliers at an end copy the one neighbour they have', () => {
    expect(fixTimestamps([500, 0, 80, 160])).toEqual([0, 0, 80, 160]);
    expect(fixTimestamps([0, 80, 160, 5, 4, 3])).toEqual([0, 80, 160, 160, 160, 160]);
  });
  it('always gives a non-decreasing list of the same length', () => {
    let s = 7;
    const r = () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
    for (let n = 0; n < 200; n++) {
      const v = Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 50) * 80);
      const f = fixTimestamps(v);
      expect(f).toHaveLength(v.length);
      for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThanOrEqual(f[i - 1]);
    }
  });
  it('argmax takes the first of equal scores', () => {
    expect(argmax([0, 3, 1, 3])).toBe(1);
    expect(argmax([-1])).toBe(0);
  });
});

function windowResult(start: number, end: number, text: string, words?: Word[], language = 'English'): WindowResult {
  return { window: { index: 0, start, end, speech: [{ start, end }] }, language, text, ms: 1, stop: 'eos', tokens: 0, ...(words ? { words } : {}) };
}

/** Words for a text, one after another from `at`, each `dur` long with `gap` between, and `pauseAfter` extra seconds after the named words. */
function spoken(text: string, at: number, dur: number, gap: number, pauseAfter: Record<string, number> = {}): Word[] {
  const units = alignUnits(text, 'English');
  let t = at;
  return units.map((u) => {
    const w = { text: u.text, start: t, end: t + dur, from: u.from, to: u.to };
    t += dur + gap + (pauseAfter[u.text] ?? 0);
    return w;
  });
}

describe('alignWindow and placeWords', () => {
  it('puts the aligner’s classes on the input’s clock, in order, inside the window', async () => {
    const r = windowResult(10, 14, 'Hello big world.');
    const calls: string[] = [];
    const words = await alignWindow(r, new Float32Array(16000), async (_samples, prompt) => {
      calls.push(prompt);
      return [1, 3, 4, 2, 6, 60]; // 'big' ends before it starts: fixed; the last end is past the window
    }, 80);
    expect(calls).toEqual(['<__media__>Hello<timestamp><timestamp>big<timestamp><timestamp>world<timestamp><timestamp>']);
    expect(words.map((w) => w.text)).toEqual(['Hello', 'big', 'world']);
    expect(words[0].start).toBeCloseTo(10.08, 9);
    expect(words[0].end).toBeCloseTo(10.24, 9);
    expect(words[1].start).toBeCloseTo(10.32, 9);
    expect(words[1].end).toBeCloseTo(10.32, 9); // the 160 ms outlier → its nearer neighbour, 320
    expect(words[2].end).toBe(14); // 4.8 s → clamped to the window's end
    for (const w of words) expect(w.end).toBeGreaterThanOrEqual(w.start);
  });
  it('a wrong number of timestamps is an error, not a guess', async () => {
    await expect(alignWindow(windowResult(0, 4, 'a b'), new Float32Array(10), async () => [1, 2, 3], 80)).rejects.toThrow(/3 timestamps for 2 words/);
  });
  it('placeWords keeps end ≥ start', () => {
    const units = alignUnits('x y', 'English');
    const w = placeWords(units, [500, 400, 900, 900], 1, 10);
    expect(w[0]).toMatchObject({ start: 1.5, end: 1.5 });
  });
  it('sizes one request to fit a batch', () => {
    expect(alignerContext(8) % 256).toBe(0);
    expect(alignerContext(30)).toBeGreaterThanOrEqual(2 + 390 + 3 * 324);
  });
});

describe('cues timed by aligned words', () => {
  const text = 'Hello there. How are you today? I am fine.';
  // speech: 'Hello there.' 1.0–1.9, pause 1.5 s, 'How are you today?' 3.4–5.3, 'I am fine.' at once after
  const words = spoken(text, 1, 0.4, 0.1, { there: 1.5 });

  it('start at their first word and end at their last, with no cue across a pause', () => {
    const cues = buildCues([windowResult(0, 8, text, words)]);
    expect(cues.length).toBeGreaterThanOrEqual(2);
    expect(cues[0].start).toBe(words[0].start);
    expect(cues[0].text).toBe('Hello there.');
    // the 1.5 s pause: the first cue lingers to the readability minimum at most, never into the next speech
    expect(cues[0].end).toBeCloseTo(Math.max(words[1].end, words[0].start + MIN_DURATION), 9);
    expect(cues[0].end).toBeLessThanOrEqual(words[2].start);
    expect(cues[1].start).toBe(words[2].start);
    const last = cues[cues.length - 1];
    expect(last.end).toBe(words[words.length - 1].end);
    for (let i = 1; i < cues.length; i++) expect(cues[i].start).toBeGreaterThanOrEqual(cues[i - 1].end);
    // every cue lies within the speech of its words (or its minimal extension)
    for (const c of cues) expect(c.end - c.start).toBeGreaterThanOrEqual(MIN_DURATION - 1e-9);
  });

  it('break at a pause even mid-sentence', () => {
    const t = 'We walked along the river and then we saw it.';
    const w = spoken(t, 0, 0.3, 0.05, { river: PAUSE_SECONDS + 0.2 });
    const cues = buildCues([windowResult(0, 10, t, w)]);
    const river = w.find((x) => x.text === 'river')!;
    const and = w.find((x) => x.text === 'and')!;
    expect(cues.some((c) => c.start < river.end && c.end > and.start)).toBe(false);
    expect(cues.map((c) => c.text.replace(/\n/g, ' ')).join(' ')).toBe(t);
  });

  it('--max-words and --max-chars bound each cue', () => {
    const t = 'one two three four five six seven eight nine ten eleven twelve';
    const w = spoken(t, 0, 0.2, 0.05);
    for (const c of buildCues([windowResult(0, 10, t, w)], { maxWords: 3 })) expect(c.text.split(/\s+/).length).toBeLessThanOrEqual(3);
    for (const c of buildCues([windowResult(0, 10, t, w)], { maxChars: 12 })) expect(c.text.replace(/\s/g, '').length).toBeLessThanOrEqual(12);
  });

  it('punctuation and words the aligner skipped take the time around them', () => {
    const t = 'Wait — it is 42, sure.';
    const w = spoken(t, 2, 0.3, 0.1);
    const cues = buildCues([windowResult(0, 6, t, w)]);
    expect(cues).toHaveLength(1);
    expect(cues[0].start).toBe(2);
    expect(cues[0].text).toBe(t);
  });

  it('without words the cues keep the timing by characters (unchanged)', () => {
    const a = buildCues([windowResult(0, 8, text)]);
    const b = buildCues([{ ...windowResult(0, 8, text), words: [] }]);
    expect(b).toEqual(a);
    expect(a[0].marks).toBeUndefined();
  });

  it('vtt --highlight-words tags each later word with when it is spoken', () => {
    const cues = buildCues([windowResult(0, 8, text, words)]);
    const vtt = renderVtt(cues, { highlightWords: true });
    expect(vtt).toContain('00:00:01.000 --> ');
    expect(vtt).toContain('Hello <00:00:01.500>there.');
    expect(renderVtt(cues)).not.toContain('<00:');
    // tags are increasing inside each cue and strictly inside its times
    const tag = /<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>/g;
    for (const c of cues) {
      const one = renderVtt([c], { highlightWords: true });
      const times = [...one.matchAll(tag)].map((m) => +m[1] * 3600 + +m[2] * 60 + +m[3] + +m[4] / 1000);
      for (let i = 0; i < times.length; i++) {
        expect(times[i]).toBeGreaterThan(c.start);
        expect(times[i]).toBeLessThan(c.end);
        if (i > 0) expect(times[i]).toBeGreaterThan(times[i - 1]);
      }
    }
  });

  it('json gives each window its words', () => {
    const r = windowResult(0, 8, text, words);
    const doc = JSON.parse(renderJson({ input: 'a.wav', durationSeconds: 8, language: 'English', model: 'm', windows: [r], cues: buildCues([r]) }));
    expect(doc.windows[0].words[0]).toEqual({ text: 'Hello', start: 1, end: 1.4 });
    expect(doc.windows[0].words).toHaveLength(words.length);
    const plain = JSON.parse(renderJson({ input: 'a.wav', durationSeconds: 8, language: 'English', model: 'm', windows: [windowResult(0, 8, text)], cues: [] }));
    expect(plain.windows[0].words).toBeUndefined();
  });
});
