import { describe, expect, it } from 'vitest';
import { parseSync, type NodeCue } from 'subtitle';
import { renderSrt } from '../src/writers/srt.js';
import { renderVtt } from '../src/writers/vtt.js';
import { renderTxt } from '../src/writers/txt.js';
import { renderJson } from '../src/writers/json.js';
import { formatTimestamp } from '../src/writers/timestamp.js';
import type { Cue } from '../src/transcript/cue.js';

const cues: Cue[] = [
  { start: 0.5, end: 2.25, text: 'Hello there.' },
  { start: 2.5, end: 5, text: 'Tom & Jerry <3\nsay a --> b' },
  { start: 3661.0004, end: 3662.9996, text: 'An hour later.' },
  { start: 3670, end: 3671.5, text: '你好，世界。' },
];

function parsedCues(text: string) {
  return parseSync(text).filter((n): n is NodeCue => n.type === 'cue').map((n) => n.data);
}

describe('timestamps', () => {
  it('formats and rounds to the millisecond without carrying into 60', () => {
    expect(formatTimestamp(0, ',')).toBe('00:00:00,000');
    expect(formatTimestamp(59.9996, '.')).toBe('00:01:00.000');
    expect(formatTimestamp(3600 * 12 + 61.5, ',')).toBe('12:01:01,500');
    expect(formatTimestamp(-1, ',')).toBe('00:00:00,000');
  });
});

describe('srt', () => {
  const srt = renderSrt(cues);
  it('numbers cues from 1 with a blank line between them', () => {
    expect(srt.startsWith('1\n00:00:00,500 --> 00:00:02,250\nHello there.\n\n2\n')).toBe(true);
    expect(srt.split('\n\n')).toHaveLength(4);
  });
  it('parses back with an independent SubRip parser to the same times and text', () => {
    const back = parsedCues(srt);
    expect(back).toHaveLength(cues.length);
    back.forEach((c, i) => {
      expect(c.start).toBe(Math.round(cues[i].start * 1000));
      expect(c.end).toBe(Math.round(cues[i].end * 1000));
    });
    expect(back[0].text).toBe('Hello there.');
    expect(back[1].text).toBe('Tom & Jerry <3\nsay a -> b');
  });
  it('is empty for no cues', () => {
    expect(renderSrt([])).toBe('');
  });
});

describe('vtt', () => {
  const vtt = renderVtt(cues);
  it('has the WEBVTT header and dot-separated milliseconds', () => {
    expect(vtt.startsWith('WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nHello there.\n')).toBe(true);
  });
  it('escapes &, <, > and never has an arrow inside text', () => {
    expect(vtt).toContain('Tom &amp; Jerry &lt;3\nsay a --&gt; b');
    const textLines = vtt.split('\n').filter((l) => l && !/^\d\d:\d\d:\d\d\.\d{3} --> /.test(l) && l !== 'WEBVTT');
    for (const l of textLines) expect(l).not.toContain('-->');
  });
  it('parses back with an independent WebVTT parser to the same times', () => {
    const back = parsedCues(vtt);
    expect(back.map((c) => [c.start, c.end])).toEqual(cues.map((c) => [Math.round(c.start * 1000), Math.round(c.end * 1000)]));
  });
});

describe('txt', () => {
  it('joins cues into paragraphs split at long pauses, CJK without spaces', () => {
    expect(renderTxt(cues)).toBe('Hello there. Tom & Jerry <3 say a --> b\n\nAn hour later.\n\n你好，世界。\n');
    expect(renderTxt([{ start: 0, end: 1, text: '你好。' }, { start: 1.2, end: 2, text: '再见。' }])).toBe('你好。再见。\n');
    expect(renderTxt([])).toBe('');
  });
  it('Korean puts spaces between words: cues ending without punctuation are joined with one', () => {
    const ko = [{ start: 0, end: 1, text: '안녕하세요' }, { start: 1.2, end: 2, text: '반갑습니다' }];
    expect(renderTxt(ko)).toBe('안녕하세요 반갑습니다\n');
  });
  it('the lines of one cue join as its text reads: Latin with a space, Chinese without', () => {
    expect(renderTxt([{ start: 0, end: 2, text: '今天的天气\n非常好。' }])).toBe('今天的天气非常好。\n');
    expect(renderTxt([{ start: 0, end: 2, text: 'a long line\nand the next' }])).toBe('a long line and the next\n');
  });
});

describe('json', () => {
  it('carries input, duration, language, model, windows and cues', () => {
    const window = { index: 0, start: 0.4, end: 5.1, speech: [{ start: 0.5, end: 5 }] };
    const doc = JSON.parse(
      renderJson({
        input: 'talk.mp3',
        durationSeconds: 3700.12345,
        language: 'English',
        model: '0.6b',
        windows: [{ window, language: 'English', text: 'Hello there.', ms: 812.4, stop: 'eos', tokens: 7 }],
        cues,
      }),
    );
    expect(doc).toMatchObject({ input: 'talk.mp3', duration: 3700.123, language: 'English', model: '0.6b' });
    expect(doc.windows).toEqual([{ index: 0, start: 0.4, end: 5.1, language: 'English', text: 'Hello there.', ms: 812, stop: 'eos', tokens: 7 }]);
    expect(doc.cues).toHaveLength(4);
    expect(doc.cues[2]).toEqual({ start: 3661, end: 3663, text: 'An hour later.' });
  });
  it("carries OpenAI verbose_json's task, text and segments (one per cue, with its window's language and guard outcome)", () => {
    const w0 = { index: 0, start: 0, end: 4, speech: [{ start: 0.2, end: 3.8 }] };
    const w1 = { index: 1, start: 4, end: 8, speech: [{ start: 4.1, end: 7.5 }] };
    const guard = { flags: [], attempts: [], outcome: 'marked' as const, kept: 0 };
    const doc = JSON.parse(
      renderJson({
        input: 'a.wav',
        durationSeconds: 8,
        language: 'English',
        model: '0.6b',
        windows: [
          { window: w0, language: 'English', text: 'One two three four five six seven eight nine ten.', ms: 1, stop: 'eos', tokens: 9 },
          { window: w1, language: 'Chinese', text: '今天的天气非常好。', ms: 1, stop: 'eos', tokens: 5, guard },
        ],
        cues: [
          { start: 0.2, end: 2, text: 'One two three four five\nsix seven eight nine ten.' },
          { start: 4.1, end: 6, text: '今天的天气\n非常好。' },
        ],
      }),
    );
    expect(doc.task).toBe('transcribe');
    expect(doc.text).toBe('One two three four five six seven eight nine ten. 今天的天气非常好。');
    expect(doc.segments).toEqual([
      { id: 0, start: 0.2, end: 2, text: 'One two three four five six seven eight nine ten.', window: 0, language: 'English', guard: 'clean' },
      { id: 1, start: 4.1, end: 6, text: '今天的天气非常好。', window: 1, language: 'Chinese', guard: 'marked' },
    ]);
  });
});
