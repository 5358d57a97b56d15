/**
 * Quality guards, pure parts: each detector on recorded text, the ladder's decisions with a
 * scripted window decoder (a plain function returning fixed answers: the ladder's input), the
 * split step and the --language policy parser.
 */
import { describe, expect, it } from 'vitest';
import { checkCandidate, compressionRatio, findLoop, longestContextRun, weightedLetters, type CheckPolicy } from '../src/guards/detect.js';
import type { FlagKind } from '../src/transcript/guard-record.js';
import { bestAttempt, nextStep, resumeLadder, runLadder, type LadderConfig } from '../src/guards/ladder.js';
import type { Attempt, DecodeSettings } from '../src/transcript/guard-record.js';
import type { Decoded as Decoded } from '../src/transcript/decode.js';
import { joinHalves, splitWindow } from '../src/guards/split.js';
import { joinTexts } from '../src/text/scripts.js';
import { collapseLoops, nonLoopingUnits } from '../src/guards/collapse.js';
import { textUnits } from '../src/guards/units.js';
import { parseLanguagePolicy } from '../src/runner/request/languages.js';
import { parseOutput } from '../src/runner/request/parse-output.js';
import { UsageError } from '../src/errors.js';

const kinds = (text: string, speechSeconds: number, extra: Partial<CheckPolicy> & { stop?: 'eos' | 'limit'; language?: string | null } = {}): FlagKind[] =>
  checkCandidate(
    { text, language: extra.language === undefined ? 'English' : extra.language, stop: extra.stop ?? 'eos', speechSeconds },
    { context: extra.context ?? null, allowed: extra.allowed ?? null, quality: extra.quality ?? true },
  ).map((f) => f.kind);

// Recorded-style answers (what Qwen3-ASR windows look like, clean and looping).
const CLEAN_EN = 'Well, I think we should probably go to the meeting tomorrow morning, because the manager said it is important.';
const CLEAN_ZH = '今天天气很好，我们一起去公园散步吧。公园里有很多人在锻炼身体。';
const LOOP_EN = `So the next thing is ${'the the '.repeat(30)}the`;
const LOOP_PHRASE = `And then ${'we went to the store and '.repeat(6)}we`;
const LOOP_ZH = `我觉得${'这个问题'.repeat(12)}这个`;

describe('units', () => {
  it('are words in spaced scripts and characters in CJK, case-folded, without punctuation', () => {
    expect(textUnits("No, NO, don't!").map((u) => u.text)).toEqual(['no', 'no', "don't"]);
    expect(textUnits('你好AI模型').map((u) => [u.text, u.cjk])).toEqual([['你', true], ['好', true], ['ai', false], ['模', true], ['型', true]]);
  });
});

describe('repetition loops', () => {
  it('finds loops of one word, of a phrase, of CJK characters', () => {
    expect(findLoop(LOOP_EN)).toMatchObject({ phrase: 'the', n: 1 });
    expect(findLoop(LOOP_EN)!.repeats).toBeGreaterThanOrEqual(60);
    expect(findLoop(LOOP_PHRASE)).toMatchObject({ phrase: 'we went to the store and', n: 6, repeats: 6 });
    expect(findLoop(LOOP_ZH)).toMatchObject({ phrase: '这个问题', n: 4, repeats: 12 });
    expect(findLoop('again and '.repeat(15))).toMatchObject({ phrase: 'again and', n: 2, repeats: 15 });
    expect(findLoop('好的'.repeat(6))).toMatchObject({ phrase: '好的', repeats: 6 });
    expect(findLoop('Yes. '.repeat(5))).toMatchObject({ phrase: 'yes', repeats: 5 });
  });

  it('leaves legitimate repetitions alone', () => {
    for (const t of [
      'No, no, no, that is not what I meant.',
      'No no no no.',
      'It was very very good.',
      "I don't know, I don't know, I don't know. Let me think.",
      'Thank you, thank you, thank you!',
      '哈哈哈哈哈哈哈，太好笑了。',
      '对对对对，就是这样。',
      '好的好的好的。',
      CLEAN_EN,
      CLEAN_ZH,
    ]) {
      expect(findLoop(t), t).toBeNull();
      // Spoken at an ordinary 13 letters per second.
      expect(kinds(t, Math.max(1, weightedLetters(t) / 13)), t).toEqual([]);
    }
  });

  it('the compression ratio separates loops from speech (whisper: raw / zlib, 2.4)', () => {
    expect(compressionRatio(CLEAN_EN)).toBeLessThan(1.6);
    expect(compressionRatio(CLEAN_ZH)).toBeLessThan(1.6);
    expect(compressionRatio('again and '.repeat(20))).toBeGreaterThan(5);
    // A long-period loop the n-gram search (≤ 8 words) does not see.
    const sentence = 'the committee will meet again next week to discuss the budget for the new school building. ';
    expect(findLoop(sentence.repeat(4))).toBeNull();
    expect(kinds(sentence.repeat(4), 20)).toEqual(['compression']);
  });

  it('collapses loops in what is written: each unit kept as often as speech repeats it', () => {
    expect(collapseLoops(`${'hello '.repeat(80)}there.`)).toEqual({ text: 'hello hello hello hello there.', removed: 76 });
    expect(collapseLoops('I know, I know, I know, I know, I know.')).toEqual({ text: 'I know, I know, I know.', removed: 4 });
    expect(collapseLoops('again and '.repeat(20).trim()).text).toBe('again and again and again and');
    // CJK: a 2-character word 4 times, laughter 8 times; the punctuation after the loop stays
    expect(collapseLoops(`${'谢谢'.repeat(30)}。`).text).toBe('谢谢谢谢谢谢谢谢。');
    expect(collapseLoops(`哈${'哈'.repeat(40)}！`).text).toBe(`${'哈'.repeat(8)}！`);
    // nothing to cut: the text as it was
    expect(collapseLoops(CLEAN_EN)).toEqual({ text: CLEAN_EN, removed: 0 });
    expect(collapseLoops('no no no no, never.')).toEqual({ text: 'no no no no, never.', removed: 0 });
  });

  it('counts loops out of the useful text', () => {
    expect(nonLoopingUnits('again and '.repeat(20))).toBe(6);
    expect(nonLoopingUnits(CLEAN_EN)).toBe(textUnits(CLEAN_EN).length);
  });
});

describe('other detectors', () => {
  it('flags a decode that ran out of tokens', () => {
    expect(kinds('Hello there, this is', 2, { stop: 'limit' })).toEqual(['token-limit']);
    expect(kinds(LOOP_EN, 8, { stop: 'limit' })).toEqual(['repetition', 'compression', 'token-limit']);
  });

  it('flags more text than the speech allows, Latin and CJK', () => {
    // 103 letters in 1 s of speech: no one speaks that fast.
    expect(kinds(CLEAN_EN, 1)).toEqual(['too-much-text']);
    expect(kinds(CLEAN_EN, 4)).toEqual([]);
    // 28 CJK characters: fine over 4 s (7/s), not over 1 s.
    expect(kinds(CLEAN_ZH, 4)).toEqual([]);
    expect(kinds(CLEAN_ZH, 1)).toEqual(['too-much-text']);
    // One short word over a blip the detector timed at 0.1 s is fine.
    expect(kinds('Okay.', 0.1)).toEqual([]);
    // Text over (nearly) no speech.
    expect(kinds('Thanks for watching, please subscribe to the channel.', 0.2)).toEqual(['too-much-text']);
  });

  it('flags too little text for long speech, and language None over speech', () => {
    expect(kinds('Yes.', 7)).toEqual(['too-little-text']);
    expect(kinds('Yes.', 3)).toEqual([]);
    // One short sentence over a long window of (energy-detected) speech is not flagged.
    expect(kinds('Hello world.', 8)).toEqual([]);
    expect(kinds('是。', 7)).toEqual(['too-little-text']);
    expect(kinds('', 6, { language: null })).toEqual(['no-text']);
    // Short stretches of "speech" are often noise the model rightly ignores.
    expect(kinds('', 1.5, { language: null })).toEqual([]);
  });

  it('flags the context copied into the output, not the names it is there for', () => {
    const context = 'Glossary: Kubernetes, Qwen3-ASR, Alibaba Cloud. The speaker is Jane Doe.';
    expect(kinds('We deployed Qwen3-ASR on Kubernetes with Jane Doe.', 3, { context })).toEqual([]);
    expect(kinds('Glossary Kubernetes Qwen3-ASR Alibaba Cloud.', 3, { context })).toEqual(['context-leak']);
    expect(longestContextRun('The speaker is Jane Doe.', context)).toEqual({ run: 'the speaker is jane doe', weight: 15 });
    const zhContext = '术语：通义千问语音识别模型，阿里云。';
    expect(kinds('我们用通义千问做了测试。', 3, { context: zhContext })).toEqual([]);
    expect(kinds('术语通义千问语音识别模型阿里云', 3, { context: zhContext })).toEqual(['context-leak']);
  });

  it('flags a language outside the allowed list, even with --no-guard', () => {
    expect(kinds('Hallo Welt.', 1, { language: 'German', allowed: ['English', 'French'] })).toEqual(['language']);
    expect(kinds('Bonjour.', 1, { language: 'French', allowed: ['English', 'French'] })).toEqual([]);
    expect(kinds(LOOP_EN, 1, { language: 'German', allowed: ['English'], quality: false })).toEqual(['language']);
    expect(kinds(LOOP_EN, 1, { quality: false })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The ladder, driven by a scripted decoder.

const BASE: DecodeSettings = { repetitionControl: false, split: false, context: null, language: null };
const answer = (text: string, language: string | null = 'English', stop: 'eos' | 'limit' = 'eos'): Decoded => ({ language, text, stop, tokens: 10 });

function config(over: Partial<LadderConfig> = {}): LadderConfig {
  return {
    policy: { context: null, allowed: null, quality: true, ...(over.policy ?? {}) },
    speechSeconds: 6,
    initial: BASE,
    canSplit: true,
    ...over,
  };
}

/** A decoder that answers by rule and records the settings it was asked for. */
function scripted(rule: (s: DecodeSettings) => Decoded) {
  const calls: DecodeSettings[] = [];
  return {
    calls,
    decode: async (s: DecodeSettings) => {
      calls.push(s);
      return rule(s);
    },
  };
}

describe('repair ladder', () => {
  it('a clean window costs one decode', async () => {
    const d = scripted(() => answer(CLEAN_EN));
    const r = await runLadder(d.decode, config());
    expect(d.calls).toHaveLength(1);
    expect(r.report).toEqual({ flags: [], attempts: [], outcome: 'clean', kept: 0 });
    expect(r.kept.text).toBe(CLEAN_EN);
  });

  it('a loop fixed by repetition control ends the ladder there: repaired', async () => {
    const d = scripted((s) => (s.repetitionControl ? answer(CLEAN_EN) : answer(LOOP_EN, 'English', 'limit')));
    const r = await runLadder(d.decode, config());
    expect(r.report.outcome).toBe('repaired');
    expect(r.report.attempts.map((a) => a.step)).toEqual(['initial', 'repetition-control']);
    expect(r.report.attempts[1].reason).toEqual(['repetition', 'compression', 'token-limit']);
    expect(r.report.flags.map((f) => f.kind)).toEqual(['repetition', 'compression', 'token-limit']);
    expect(r.kept.text).toBe(CLEAN_EN);
  });

  it('climbs every step, each keeping the earlier ones, and marks the best candidate', async () => {
    const d = scripted((s) => {
      if (s.split) return answer(`Partly right ${'again and '.repeat(8)}`, 'English', 'limit');
      return answer('again and '.repeat(20), 'English', 'limit');
    });
    const r = await runLadder(d.decode, config({ initial: { ...BASE, context: 'Names: Ann.' }, policy: { context: 'Names: Ann.', allowed: ['English', 'French'], quality: true } }));
    expect(r.report.attempts.map((a) => a.step)).toEqual(['initial', 'repetition-control', 'split', 'drop-context']);
    expect(d.calls).toEqual([
      { ...BASE, context: 'Names: Ann.' },
      { ...BASE, context: 'Names: Ann.', repetitionControl: true },
      { ...BASE, context: 'Names: Ann.', repetitionControl: true, split: true },
      { ...BASE, context: null, repetitionControl: true, split: true },
    ]);
    // force-language is skipped: English is already in the allowed list.
    expect(r.report.outcome).toBe('marked');
    // All equally severe; the split ones keep more non-looping text; the first of them wins.
    expect(r.report.kept).toBe(2);
    expect(r.kept.text).toMatch(/^Partly right/);
  });

  it('a window detected outside the list is re-decoded with the first listed language', async () => {
    const d = scripted((s) => (s.language ? answer('Hello world.', s.language) : answer('Hallo Welt.', 'German')));
    const r = await runLadder(d.decode, config({ policy: { context: null, allowed: ['English', 'French'], quality: true }, speechSeconds: 1 }));
    expect(d.calls).toEqual([BASE, { ...BASE, language: 'English' }]);
    expect(r.report.outcome).toBe('repaired');
    expect(r.report.flags).toEqual([{ kind: 'language', detail: 'German is not in English, French' }]);
    expect(r.report.attempts.map((a) => [a.step, a.reason])).toEqual([['initial', []], ['force-language', ['language']]]);
    expect(r.kept).toMatchObject({ language: 'English', text: 'Hello world.' });
  });

  it('an empty answer over speech tries split and no context, never a forced language', async () => {
    const d = scripted(() => answer('', null));
    const r = await runLadder(d.decode, config({ initial: { ...BASE, context: 'x y' }, policy: { context: 'x y', allowed: ['English', 'French'], quality: true } }));
    expect(r.report.attempts.map((a) => a.step)).toEqual(['initial', 'split', 'drop-context']);
    expect(d.calls.every((s) => s.language === null)).toBe(true);
    expect(r.report.outcome).toBe('marked');
  });

  it('leaked context goes straight to dropping the context', async () => {
    const context = 'The speakers are Ann Lee and Bob Stone from Acme.';
    const d = scripted((s) => answer(s.context ? 'The speakers are Ann Lee and Bob Stone.' : 'Ann said hello to Bob.'));
    const r = await runLadder(d.decode, config({ initial: { ...BASE, context }, policy: { context, allowed: null, quality: true }, speechSeconds: 2 }));
    expect(r.report.attempts.map((a) => a.step)).toEqual(['initial', 'drop-context']);
    expect(r.report.outcome).toBe('repaired');
    expect(r.kept.text).toBe('Ann said hello to Bob.');
  });

  it('context words that come back without the context were spoken: repaired, same text', async () => {
    const context = 'The speakers are Ann Lee and Bob Stone from Acme.';
    const d = scripted(() => answer('The speakers are Ann Lee and Bob Stone.'));
    const r = await runLadder(d.decode, config({ initial: { ...BASE, context }, policy: { context, allowed: null, quality: true }, speechSeconds: 2 }));
    expect(r.report.flags.map((f) => f.kind)).toEqual(['context-leak']);
    expect(r.report.attempts.map((a) => [a.step, a.flags.length])).toEqual([['initial', 1], ['drop-context', 0]]);
    expect(r.report.outcome).toBe('repaired');
  });

  it('skips the split for a window that cannot be split', async () => {
    const d = scripted(() => answer(LOOP_EN, 'English', 'limit'));
    const r = await runLadder(d.decode, config({ canSplit: false }));
    expect(r.report.attempts.map((a) => a.step)).toEqual(['initial', 'repetition-control']);
    expect(r.report.outcome).toBe('marked');
    // written with its loop cut; the raw decode stays in the record
    expect(r.kept.text).toBe('So the next thing is the the the the');
    expect(r.report.attempts[r.report.kept].text).toBe(LOOP_EN);
    expect(r.report.collapsed).toBe(LOOP_EN.split(' ').length - 'So the next thing is the the the the'.split(' ').length);
  });

  it('records a retry whose model call failed and goes on', async () => {
    class Crash extends Error {}
    const d = scripted((s) => {
      if (s.repetitionControl && !s.split) throw new Crash('llama-mtmd-cli was killed by SIGSEGV');
      return s.split ? answer(CLEAN_EN) : answer(LOOP_EN, 'English', 'limit');
    });
    const r = await runLadder(d.decode, config({ isDecodeFailure: (e) => e instanceof Crash }));
    expect(r.report.attempts.map((a) => [a.step, a.error ?? null])).toEqual([
      ['initial', null],
      ['repetition-control', 'llama-mtmd-cli was killed by SIGSEGV'],
      ['split', null],
    ]);
    expect(r.report.outcome).toBe('repaired');
    // After the failed step the ladder went on from the last real decode's settings.
    expect(d.calls[2]).toEqual({ ...BASE, split: true });
  });

  it('second pass: a marked window heard in another language than the file gets the file language', async () => {
    const d = scripted((s) => (s.language === 'English' ? answer('Back to normal.', 'English') : answer('好'.repeat(40), 'Chinese', 'limit')));
    const first = await runLadder(d.decode, config({ canSplit: false }));
    expect(first.report.outcome).toBe('marked');
    expect(first.report.attempts.map((a) => a.step)).toEqual(['initial', 'repetition-control']);
    const second = await resumeLadder(d.decode, config({ canSplit: false, fileLanguage: 'English' }), first);
    expect(second.report.attempts.map((a) => a.step)).toEqual(['initial', 'repetition-control', 'force-language']);
    expect(second.report.attempts[2].settings).toEqual({ ...BASE, repetitionControl: true, language: 'English' });
    expect(second.report.outcome).toBe('repaired');
    expect(second.kept.text).toBe('Back to normal.');
    // Same language as the file: nothing to force, nothing decoded.
    const calls = d.calls.length;
    const same = await resumeLadder(d.decode, config({ canSplit: false, fileLanguage: 'Chinese' }), first);
    expect(same.report.outcome).toBe('marked');
    expect(d.calls.length).toBe(calls);
  });

  it('decides steps without decoding (nextStep) and ranks candidates (bestAttempt)', () => {
    const attempt = (text: string, flags: FlagKind[], settings = BASE): Attempt => ({
      ...answer(text),
      step: 'initial',
      reason: [],
      settings,
      flags: flags.map((kind) => ({ kind, detail: '' })),
    });
    expect(nextStep(config(), attempt('x', []), [])).toBeNull();
    expect(nextStep(config(), attempt('x', ['token-limit']), [])?.step).toBe('repetition-control');
    expect(nextStep(config(), attempt('x', ['token-limit']), ['repetition-control'])?.step).toBe('split');
    expect(nextStep(config(), attempt('x', ['too-little-text']), [])?.step).toBe('split');
    expect(nextStep(config({ canSplit: false }), attempt('x', ['too-little-text']), [])).toBeNull();
    expect(nextStep(config(), attempt('x', ['language']), [])).toBeNull(); // no list: nothing to force
    expect(bestAttempt([attempt('a b c', ['repetition']), attempt('a', ['token-limit']), attempt('a b', ['token-limit'])])).toBe(2);
  });
});

describe('split step', () => {
  const loudness = new Float32Array(800).fill(20);
  loudness.fill(0, 430, 470); // a pause at 4.3–4.7 s
  const window = { index: 0, start: 0, end: 8, speech: [{ start: 0.2, end: 4.3 }, { start: 4.7, end: 7.8 }] };

  it('cuts at the quietest point in the middle of the window', () => {
    const halves = splitWindow(window, loudness)!;
    expect(halves[0].end).toBeGreaterThanOrEqual(4.3);
    expect(halves[0].end).toBeLessThanOrEqual(4.7);
    expect(halves[1].start).toBe(halves[0].end);
    expect(halves[0].speech).toEqual([{ start: 0.2, end: 4.3 }]);
  });

  it('does not split short windows or leave a half without speech', () => {
    expect(splitWindow({ ...window, end: 1.5, speech: [{ start: 0, end: 1.5 }] }, loudness)).toBeNull();
    expect(splitWindow({ ...window, speech: [{ start: 0.2, end: 3 }] }, loudness)).toBeNull();
  });

  it('joins the halves: spaces between words, none between CJK characters', () => {
    expect(joinTexts('Hello there.', 'How are you?')).toBe('Hello there. How are you?');
    expect(joinTexts('你好。', '再见。')).toBe('你好。再见。');
    expect(joinTexts('안녕하세요', '반갑습니다')).toBe('안녕하세요 반갑습니다');
    expect(joinTexts('สวัสดี', 'ครับ')).toBe('สวัสดีครับ');
    const halves = splitWindow(window, loudness)!;
    expect(joinHalves(halves, [answer('One.', null), answer('Two.', 'English', 'limit')])).toEqual({ language: 'English', text: 'One. Two.', stop: 'limit', tokens: 20 });
  });
});

describe('--language policy', () => {
  it('parses auto, one language, and lists of names or codes', () => {
    expect(parseLanguagePolicy(null)).toEqual({ kind: 'auto' });
    expect(parseLanguagePolicy('auto')).toEqual({ kind: 'auto' });
    expect(parseLanguagePolicy('de')).toEqual({ kind: 'forced', language: 'German' });
    expect(parseLanguagePolicy('en, French,zh')).toEqual({ kind: 'restricted', allowed: ['English', 'French', 'Chinese'] });
    expect(parseLanguagePolicy('en,english')).toEqual({ kind: 'forced', language: 'English' });
    expect(() => parseLanguagePolicy('en,xx')).toThrow(UsageError);
    expect(() => parseLanguagePolicy('auto,en')).toThrow(UsageError);
  });
});

describe('parse-output after a broken loop', () => {
  it('drops a restarted `language X<asr_text>` and control characters from the transcript', () => {
    const raw = 'language English<asr_text>again and ag\x7flanguage English<asr_text>again and again<|im_end|>';
    expect(parseOutput(raw, null)).toEqual({ language: 'English', text: 'again and ag again and again' });
    expect(parseOutput('Hello world.<|im_end|>', 'English')).toEqual({ language: 'English', text: 'Hello world.' });
    expect(parseOutput('language None<asr_text>', null)).toEqual({ language: null, text: '' });
  });
});
