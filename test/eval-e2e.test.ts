/**
 * `qwen3asr eval` end to end on a scripted model whose every window reads "Hello world.", over a
 * three-utterance manifest whose references are chosen so the WER is known by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { runCli } from './helpers/cli.js';
import { cleanupFixtures, script, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-eval-e2e-'));
let model: SyntheticModel;
let env: Record<string, string>;

// Hypothesis for each: "hello world" (2 words).
const REFERENCES = [
  'Hello, world!', // 0 errors / 2
  'hello big world', // 1 deletion / 3
  'goodbye world today', // 1 substitution + 1 deletion / 3
];

beforeAll(async () => {
  model = await ensureSyntheticModel('tiny', { script: 'language English<asr_text>Hello world.<|im_end|>' });
  const lines = REFERENCES.map((text, i) => {
    // One short sentence each: a single window.
    const s = script([{ pause: 0.5, audio: speak(['The cat sat.', 'A dog ran far.', 'It is late now.'][i]) }], 0.5);
    fs.writeFileSync(path.join(tmp, `u${i}.wav`), floatWavBytes(s.samples));
    return JSON.stringify({ audio: `u${i}.wav`, text });
  });
  fs.writeFileSync(path.join(tmp, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('qwen3asr eval', () => {
  it('scores a manifest: per-utterance JSONL and the corpus WER (3 errors / 8 words)', async () => {
    const results = path.join(tmp, 'results.jsonl');
    const r = await runCli(['eval', path.join(tmp, 'manifest.jsonl'), '-o', results, '--json', '--no-guard', '--model', model.text, '--mmproj', model.mmproj, '--threads', '2'], { env });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ utterances: 3, words: 8, substitutions: 1, deletions: 2, insertions: 0, wer: 0.375 });
    expect(summary.meanLatencyMs).toBeGreaterThan(0);
    expect(summary.rtf).toBeGreaterThan(0);
    const lines = fs.readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.hypothesis, l.wer])).toEqual([
      ['u0', 'Hello world.', 0],
      ['u1', 'Hello world.', 0.3333],
      ['u2', 'Hello world.', 0.6667],
    ]);
    expect(lines[2]).toMatchObject({ substitutions: 1, deletions: 1, insertions: 0, words: 3 });
  });
});
