import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseWords } from '../src/eval/normalise.js';
import { sumEdits, wordEdits, wordErrorRate } from '../src/eval/wer.js';
import { readDataset } from '../src/eval/dataset.js';
import { summarise, scoreUtterance } from '../src/eval/run-eval.js';

const w = (s: string) => s.split(' ').filter(Boolean);

describe('word edits (hand-counted)', () => {
  it('identical: no edits', () => {
    expect(wordEdits(w('the cat sat'), w('the cat sat'))).toEqual({ substitutions: 0, deletions: 0, insertions: 0, words: 3 });
  });
  it('one substitution', () => {
    expect(wordEdits(w('the cat sat'), w('the hat sat'))).toEqual({ substitutions: 1, deletions: 0, insertions: 0, words: 3 });
  });
  it('one deletion', () => {
    expect(wordEdits(w('the cat sat down'), w('the cat down'))).toEqual({ substitutions: 0, deletions: 1, insertions: 0, words: 4 });
  });
  it('one insertion', () => {
    expect(wordEdits(w('the cat sat'), w('the fat cat sat'))).toEqual({ substitutions: 0, deletions: 0, insertions: 1, words: 3 });
  });
  it('mixed: S, D and I together (ref 6 words, 3 errors: WER 0.5)', () => {
    // ref:  a  b  c  d  e  f
    // hyp:  a  x  c     e  f  g     → b→x (S), d missing (D), g extra (I)
    const e = wordEdits(w('a b c d e f'), w('a x c e f g'));
    expect(e).toEqual({ substitutions: 1, deletions: 1, insertions: 1, words: 6 });
    expect(wordErrorRate(e)).toBe(0.5);
  });
  it('empty hypothesis: all deletions; empty reference: all insertions', () => {
    expect(wordEdits(w('one two three'), [])).toEqual({ substitutions: 0, deletions: 3, insertions: 0, words: 3 });
    expect(wordEdits([], w('one two'))).toEqual({ substitutions: 0, deletions: 0, insertions: 2, words: 0 });
    expect(wordErrorRate(wordEdits([], []))).toBe(0);
    expect(wordErrorRate(wordEdits([], w('x')))).toBe(1);
  });
  it('WER can exceed 1 with many insertions', () => {
    expect(wordErrorRate(wordEdits(w('yes'), w('no no no')))).toBe(3);
  });
  it('corpus WER pools the counts', () => {
    const total = sumEdits([wordEdits(w('a b'), w('a b')), wordEdits(w('c d e f'), w('c x'))]);
    expect(total).toEqual({ substitutions: 1, deletions: 2, insertions: 0, words: 6 });
    expect(wordErrorRate(total)).toBe(0.5);
  });
});

describe('normalisation', () => {
  it('case, punctuation, hyphens, apostrophes', () => {
    expect(normaliseWords('Hello, World!  Well-known "quotes" — don’t stop.')).toEqual(['hello', 'world', 'well', 'known', 'quotes', 'don\'t', 'stop']);
    expect(normaliseWords("'tis the dogs' bone")).toEqual(['tis', 'the', 'dogs', 'bone']);
  });
  it('numbers stay as written', () => {
    expect(normaliseWords('In 1990, 21 men')).toEqual(['in', '1990', '21', 'men']);
  });
  it('CJK characters count one each', () => {
    expect(normaliseWords('你好，世界')).toEqual(['你', '好', '世', '界']);
  });
  it('LibriSpeech upper case equals a punctuated hypothesis', () => {
    const e = wordEdits(normaliseWords('HE HOPED THERE WOULD BE STEW FOR DINNER'), normaliseWords('He hoped there would be stew for dinner.'));
    expect(wordErrorRate(e)).toBe(0);
  });
});

describe('datasets', () => {
  it('reads a LibriSpeech-style folder and a manifest', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-wer-'));
    try {
      const chapter = path.join(dir, '84', '121123');
      fs.mkdirSync(chapter, { recursive: true });
      fs.writeFileSync(path.join(chapter, '84-121123.trans.txt'), '84-121123-0000 GO DO YOU HEAR\n84-121123-0001 BUT IN LESS THAN FIVE MINUTES\n');
      for (const id of ['84-121123-0000', '84-121123-0001']) fs.writeFileSync(path.join(chapter, `${id}.flac`), '');
      expect(readDataset(dir)).toEqual([
        { id: '84-121123-0000', audio: path.join(chapter, '84-121123-0000.flac'), reference: 'GO DO YOU HEAR' },
        { id: '84-121123-0001', audio: path.join(chapter, '84-121123-0001.flac'), reference: 'BUT IN LESS THAN FIVE MINUTES' },
      ]);
      const manifest = path.join(dir, 'manifest.jsonl');
      fs.writeFileSync(manifest, '{"audio": "a/x.wav", "text": "hello"}\n\n{"audio": "/abs/y.wav", "text": "bye"}\n');
      expect(readDataset(manifest)).toEqual([
        { id: 'x', audio: path.join(dir, 'a', 'x.wav'), reference: 'hello' },
        { id: 'y', audio: '/abs/y.wav', reference: 'bye' },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('summary', () => {
  it('corpus WER, mean latency and RTF', () => {
    const a = scoreUtterance({ id: 'a', audio: 'a', reference: 'one two' }, 'one two', 2, 1000);
    const b = scoreUtterance({ id: 'b', audio: 'b', reference: 'three four five six' }, 'three', 4, 2000);
    const s = summarise([a, b]);
    expect(s).toMatchObject({ utterances: 2, words: 6, deletions: 3, wer: 0.5, meanLatencyMs: 1500, rtf: 0.5, audioSeconds: 6 });
  });
});
