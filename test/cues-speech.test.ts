import { afterAll, describe, expect, it } from 'vitest';
import { buildCues } from '../src/cues/build-cues.js';
import { analyseSpeech } from '../src/speech/speech-regions.js';
import { cutWindows } from '../src/windows/cut-windows.js';
import { addNoise, cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';

afterAll(cleanupFixtures);

describe('detected speech → windows → cues', () => {
  it('one 30 s window over five sentences: each cue sits inside its own sentence', () => {
    const texts = sentences(5).map((t, i) => (i % 2 === 0 ? t : `${t.slice(0, -1)}, and then nothing else happened.`));
    const s = script(texts.map((t, i) => ({ pause: i === 0 ? 0.5 : 1, audio: speak(t) })), 0.5);
    addNoise(s.samples, -55);
    const a = analyseSpeech(s.samples);
    const ws = cutWindows(a.regions, a.loudness, { maxSeconds: 30, duration: a.duration });
    expect(ws).toHaveLength(1);
    expect(ws[0].speech).toHaveLength(5);
    const cues = buildCues([{ window: ws[0], language: 'English', text: texts.join(' '), ms: 0, stop: 'eos', tokens: 0 }]);
    expect(cues.length).toBeGreaterThanOrEqual(5);
    for (const c of cues) {
      const k = s.speech.findIndex((r) => c.start >= r.start - 0.15 && c.end <= r.end + 0.15);
      expect(k, `${c.start}–${c.end} ${c.text}`).toBeGreaterThanOrEqual(0);
      expect(texts[k].replace(/\s+/g, ' ')).toContain(c.text.replace('\n', ' '));
    }
  });
});
