import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { MAX_DURATION, MIN_DURATION, buildCues, fileLanguage } from '../src/cues/build-cues.js';
import type { Cue } from '../src/transcript/cue.js';
import { CJK_COLUMNS, LATIN_COLUMNS, fitLines } from '../src/cues/line-break.js';
import { splitPhrases, tokenize } from '../src/cues/split-text.js';
import type { Region } from '../src/speech/region.js';
import type { WindowResult } from '../src/transcript/window-result.js';

const EPS = 1e-9;

function result(start: number, end: number, speech: [number, number][], text: string, language: string | null = 'English'): WindowResult {
  return { window: { index: 0, start, end, speech: speech.map(([s, e]) => ({ start: s, end: e })) }, language, text, ms: 1, stop: 'eos', tokens: 0 };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS = 'the a committee met every week to discuss budget nobody expected debate which was long and bitter last for years I we you said it is not quite what extraordinarily internationalisation don\'t U.S. 3.14 well-known'.split(' ');
const HAN = '今天天气很好我们去公园散步吧里有多人在跳舞还小朋友放风筝中国北京上海学习工作时间问题';
const KANA = 'わたしはがくせいですきょうはいいてんきですねカタカナ';

function latinText(r: () => number, words: number): string {
  let s = '';
  for (let i = 0; i < words; i++) {
    let w = WORDS[Math.floor(r() * WORDS.length)];
    if (i === 0 || /[.!?]$/.test(s)) w = w[0].toUpperCase() + w.slice(1);
    s += (i > 0 ? ' ' : '') + w;
    const p = r();
    if (i === words - 1 || p < 0.08) s += '.';
    else if (p < 0.16) s += ',';
    else if (p < 0.18) s += '?';
    else if (p < 0.19) s += ';';
  }
  return s;
}

function cjkText(r: () => number, chars: number): string {
  const pool = r() < 0.5 ? HAN : HAN + KANA;
  let s = '';
  for (let i = 0; i < chars; i++) {
    s += pool[Math.floor(r() * pool.length)];
    const p = r();
    if (i === chars - 1 || p < 0.06) s += '。';
    else if (p < 0.14) s += '，';
    else if (p < 0.16) s += '、';
    else if (p < 0.17) s += '？';
    else if (p < 0.175) s += 'iPhone';
  }
  return s;
}

/** Random ordered windows with random speech regions and texts of random density. */
function randomResults(seed: number): WindowResult[] {
  const r = rng(seed);
  const out: WindowResult[] = [];
  let t = r() * 3;
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const len = 0.7 + r() * (r() < 0.3 ? 29 : 7.3);
    const start = t;
    const end = t + len;
    const speech: [number, number][] = [];
    let s = start + Math.min(0.2, len / 4);
    while (s < end - 0.3) {
      const e = Math.min(end - 0.2, s + 0.3 + r() * 4);
      if (e > s) speech.push([s, e]);
      s = e + 0.3 + r() * 1.5;
    }
    if (speech.length === 0) speech.push([start + len / 4, end - len / 4]);
    const speechSec = speech.reduce((a, [x, y]) => a + y - x, 0);
    const kind = r();
    const density = r() < 0.15 ? 25 : 3 + r() * 11; // spoken chars per second; sometimes too fast
    let text = '';
    if (kind < 0.1) text = '';
    else if (kind < 0.4) text = cjkText(r, Math.max(1, Math.round((speechSec * density) / 2)));
    else text = latinText(r, Math.max(1, Math.round((speechSec * density) / 5)));
    out.push({ window: { index: i, start, end, speech: speech.map(([a, b]) => ({ start: a, end: b })) }, language: kind < 0.4 ? 'Chinese' : 'English', text, ms: 1, stop: 'eos', tokens: 0 });
    t = end + r() * 5;
  }
  return out;
}

function outside(cue: Cue, speech: readonly Region[]): number {
  let inside = 0;
  for (const s of speech) inside += Math.max(0, Math.min(cue.end, s.end) - Math.max(cue.start, s.start));
  return cue.end - cue.start - inside;
}

function spoken(s: string): number {
  return s.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
}

describe('buildCues properties over random window results', () => {
  for (let seed = 1; seed <= 300; seed++) {
    it(`seed ${seed}`, () => {
      const results = randomResults(seed);
      const cues = buildCues(results);
      // Ordered, non-overlapping, non-empty.
      cues.forEach((c, i) => {
        expect(c.end).toBeGreaterThan(c.start);
        expect(c.text.trim()).not.toBe('');
        if (i > 0) expect(c.start).toBeGreaterThanOrEqual(cues[i - 1].end - EPS);
        expect(c.end - c.start).toBeLessThanOrEqual(MAX_DURATION + EPS);
      });
      for (const res of results) {
        const w = res.window;
        const mine = cues.filter((c) => c.start >= w.start - EPS && c.end <= w.end + EPS);
        const cjk = res.language === 'Chinese';
        // Every cue belongs to exactly one window.
        if (res.text === '') expect(mine).toEqual([]);
        // Nothing lost, nothing added.
        const strip = (s: string): string => s.replace(/\s+/gu, '');
        expect(strip(mine.map((c) => c.text).join(''))).toBe(strip(res.text));
        mine.forEach((c, i) => {
          const lines = c.text.split('\n');
          expect(lines.length).toBeLessThanOrEqual(2);
          for (const line of lines) {
            expect(line.trim()).toBe(line);
            expect(line).not.toBe('');
            const limit = cjk ? CJK_COLUMNS : LATIN_COLUMNS;
            // Over the limit only when the line is one unbreakable word.
            if (stringWidth(line) > limit) expect(tokenize(line)).toHaveLength(1);
          }
          // Outside speech only as the minimal extension to 1 s.
          if (outside(c, w.speech) > 1e-6) expect(c.end - c.start).toBeLessThanOrEqual(MIN_DURATION + EPS);
          // At least 1 s unless boxed in by neighbours or the window.
          if (c.end - c.start < MIN_DURATION - EPS) {
            const prevEnd = i > 0 ? mine[i - 1].end : w.start;
            const nextStart = i + 1 < mine.length ? mine[i + 1].start : w.end;
            expect(Math.abs(c.start - prevEnd) < 1e-6 || c.start <= w.start + EPS).toBe(true);
            expect(Math.abs(c.end - nextStart) < 1e-6 || c.end >= w.end - EPS).toBe(true);
          }
        });
        // Reading speed (letters and digits per second): where the window's speech time allows it
        // with room to spare for whole-word granularity, every cue reads at ≤ 20 chars/s.
        const speechSec = w.speech.reduce((a, s) => a + s.end - s.start, 0);
        if (spoken(res.text) / speechSec <= 10) {
          for (const c of mine) expect(spoken(c.text) / (c.end - c.start)).toBeLessThanOrEqual(20 + EPS);
        }
      }
      expect(cues.length).toBeGreaterThanOrEqual(results.filter((r) => r.text !== '').length);
    });
  }
});

describe('buildCues examples', () => {
  it('one cue per sentence, timed over its speech, a pause shows as a gap', () => {
    const cues = buildCues([result(0.3, 8.2, [[0.5, 3.5], [4.2, 8.0]], 'The committee met every week to discuss the budget. Nobody expected the debate, which was long and bitter, to last for years.')]);
    expect(cues).toEqual([
      { start: 0.5, end: 3.5, text: 'The committee met every\nweek to discuss the budget.' },
      { start: 4.2, end: 8, text: 'Nobody expected the debate, which was\nlong and bitter, to last for years.' },
    ]);
  });

  it('breaks Latin lines at word boundaries within 42 columns, balanced', () => {
    const ts = tokenize('Internationalisation is extraordinarily complicated, said the professor.');
    const lines = fitLines(ts, 42);
    expect(lines).not.toBeNull();
    expect(lines!).toHaveLength(2);
    for (const l of lines!) expect(stringWidth(l)).toBeLessThanOrEqual(42);
    expect(lines!).toEqual(['Internationalisation is extraordinarily', 'complicated, said the professor.']);
    expect(fitLines(tokenize('word '.repeat(30)), 42)).toBeNull();
  });

  it('breaks CJK lines at 16 full-width characters without starting a line with punctuation', () => {
    const text = '今天天气很好，我们去公园散步吧。公园里有很多人在跳舞，还有小朋友在放风筝，大家都很开心。';
    const cues = buildCues([result(0, 10, [[0.2, 9.8]], text, 'Chinese')]);
    expect(cues.map((c) => c.text.replace('\n', '')).join('')).toBe(text);
    for (const c of cues) {
      for (const line of c.text.split('\n')) {
        expect(stringWidth(line)).toBeLessThanOrEqual(32);
        expect(line).not.toMatch(/^[，。、！？]/u);
      }
    }
    expect(cues[0].text).toBe('今天天气很好，我们去公园散步吧。');
  });

  it('keeps Latin words in CJK text and Korean words whole', () => {
    expect(tokenize('我用iPhone拍照。').map((t) => t.text)).toEqual(['我', '用', 'iPhone', '拍照。']);
    expect(tokenize('今天我们去公园散步吧。').map((t) => t.text)).toEqual(['今天', '我们', '去', '公园', '散步', '吧。']);
    expect(tokenize('สวัสดีครับ ผมชื่อสมชาย').map((t) => t.text)).toEqual(['สวัสดี', 'ครับ', 'ผม', 'ชื่อ', 'สมชาย']);
    expect(tokenize('안녕하세요 여러분.').map((t) => t.text)).toEqual(['안녕하세요', '여러분.']);
    expect(tokenize('I don\'t say "hi" (ever).').map((t) => t.text)).toEqual(['I', 'don\'t', 'say', '"hi"', '(ever).']);
  });

  it('splits phrases at Latin and CJK clause ends', () => {
    const p = (s: string): string[] => splitPhrases(tokenize(s)).map((ph) => ph.map((t) => t.text).join(' '));
    expect(p('Yes, I know. Really? Fine; go: now')).toEqual(['Yes,', 'I know.', 'Really?', 'Fine;', 'go:', 'now']);
    expect(p('你好，世界。走吧！')).toEqual(['你好，', '世界。', '走 吧！']); // ICU: 走|吧
  });

  it('extends a short cue to 1 s inside its window only', () => {
    expect(buildCues([result(1, 2.4, [[1.2, 1.6]], 'Yes.')])).toEqual([{ start: 1.2, end: 2.2, text: 'Yes.' }]);
    expect(buildCues([result(1, 1.7, [[1.2, 1.5]], 'No.')])).toEqual([{ start: 1, end: 1.7, text: 'No.' }]);
  });

  it('caps cues at 7 s', () => {
    const cues = buildCues([result(0, 20, [[0.2, 19.8]], 'Well.')]);
    expect(cues).toEqual([{ start: 0.2, end: 7.2, text: 'Well.' }]);
  });

  it('gives no cues for empty or punctuation-only text', () => {
    expect(buildCues([result(0, 5, [[1, 4]], ''), result(6, 9, [[6.2, 8.8]], '...')])).toEqual([]);
  });

  it('sorts windows by time', () => {
    const cues = buildCues([result(10, 12, [[10.2, 11.8]], 'Second.'), result(0, 2, [[0.2, 1.8]], 'First.')]);
    expect(cues.map((c) => c.text)).toEqual(['First.', 'Second.']);
  });
});

describe('fileLanguage', () => {
  it('is the language with the most speech time', () => {
    const rs = [
      result(0, 8, [[0, 8]], 'Hello there.', 'English'),
      result(8, 10, [[8, 10]], '你好', 'Chinese'),
      result(10, 13, [[10, 13]], '世界', 'Chinese'),
      result(13, 30, [[13, 30]], '', 'French'),
      result(30, 31, [[30, 31]], 'x', null),
    ];
    expect(fileLanguage(rs)).toBe('English');
    expect(fileLanguage([...rs, result(31, 36, [[31, 36]], '再见', 'Chinese')])).toBe('Chinese');
    expect(fileLanguage([])).toBeNull();
  });
});
