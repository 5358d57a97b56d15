/**
 * Quality guards end to end: the real CLI and patched llama-mtmd-cli with scripted synthetic
 * models, on espeak-ng speech.
 *
 *  - A model that repeats one phrase forever: every window is flagged, the ladder runs, and since
 *    no sampler setting can talk a scripted model out of its loop, every window ends 'marked'
 *    with the best candidate kept; the run still completes (exit 0) and says how many windows
 *    were flagged.
 *  - A model that always answers German, run with --language en,fr: each window is decoded again
 *    with English prefilled, and the scripted model continues from `<asr_text>` with its text.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSyntheticModel, type SyntheticModel } from './helpers/models.js';
import { runCli } from './helpers/cli.js';
import { cleanupFixtures, script, sentences, speak } from './fixtures/speech.js';
import { floatWavBytes } from '../src/runner/request/window-wav.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-guards-e2e-'));
let looping: SyntheticModel;
let german: SyntheticModel;
let leaking: SyntheticModel;
// Four words whose tokens the tiny vocabulary can chain without repeating one (a scripted-model limit).
const CONTEXT = 'The big red fox.';
let talk: string;
let env: Record<string, string>;

beforeAll(async () => {
  looping = await ensureSyntheticModel('tiny', { script: { prefix: 'language English<asr_text>', loop: 'again and ' } });
  german = await ensureSyntheticModel('tiny', { script: 'language German<asr_text>Hallo Welt.<|im_end|>' });
  leaking = await ensureSyntheticModel('tiny', { script: `language English<asr_text>${CONTEXT}<|im_end|>` });
  // Two sentences (~4.5 s each) with a clear pause: windows long enough for the split step.
  const s = script(sentences(2).map((t, i) => ({ pause: i === 0 ? 0.5 : 0.8, audio: speak(t) })), 0.5);
  talk = path.join(tmp, 'talk.wav');
  fs.writeFileSync(talk, floatWavBytes(s.samples));
  env = { QWEN3ASR_BIN_DIR: inject('binDir') };
});
afterAll(() => {
  cleanupFixtures();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Most back-to-back repeats of any 1–8-word phrase in the text (an independent count, not the
 * guards' own code): real speech says a word at most 4 times in a row, a phrase 3.
 */
function longestRun(text: string): number {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  let most = 1;
  for (let n = 1; n <= 8; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      let k = 1;
      while (i + (k + 1) * n <= words.length && words.slice(i + k * n, i + (k + 1) * n).join(' ') === words.slice(i, i + n).join(' ')) k++;
      // one word may come 4 times ("no no no no"); count that as a phrase's 3
      most = Math.max(most, n === 1 ? k - 1 : k);
    }
  }
  return most;
}

function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
  let i = 0;
  for (const w of whole) if (i < part.length && part[i] === w) i++;
  return i === part.length;
}

const modelArgs = (m: SyntheticModel) => ['--model', m.text, '--mmproj', m.mmproj, '--threads', '2'];

describe('quality guards end to end', () => {
  it('flags a repetition loop, climbs the ladder, keeps the best candidate marked, and still finishes', async () => {
    const out = path.join(tmp, 'loop');
    const r = await runCli([talk, '-f', 'json,srt', '-o', out, '--json', '--context', 'Speaker: Ann Lee.', ...modelArgs(looping)], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'talk.json'), 'utf8'));
    expect(json.windows.length).toBeGreaterThanOrEqual(1);
    for (const w of json.windows) {
      const g = w.guard;
      expect(g.outcome).toBe('marked');
      expect(g.flags.map((f: { kind: string }) => f.kind)).toEqual(expect.arrayContaining(['repetition', 'compression', 'token-limit']));
      const steps = g.attempts.map((a: { step: string }) => a.step);
      // No language to force in auto mode: the first three steps, in order.
      expect(steps).toEqual(['initial', 'repetition-control', 'split', 'drop-context']);
      expect(g.attempts[1]).toMatchObject({ repetitionControl: true, reason: expect.arrayContaining(['repetition']) });
      expect(g.attempts[2]).toMatchObject({ repetitionControl: true, split: true });
      expect(g.attempts[3]).toMatchObject({ repetitionControl: true, split: true, context: null });
      for (const a of g.attempts) {
        expect(a.flags.length).toBeGreaterThan(0);
        expect(a.text).toMatch(/again and/);
      }
      // The kept text is the chosen candidate's with its loops cut (when its flags came from a
      // loop): shorter, what is left of it in order, and the record says how many words went.
      const raw: string = g.attempts[g.kept].text;
      expect(w.text.length).toBeGreaterThan(0);
      if (g.collapsedUnits === undefined) {
        expect(w.text).toBe(raw);
      } else {
        expect(g.collapsedUnits).toBeGreaterThan(0);
        expect(w.text.length).toBeLessThan(raw.length);
        expect(isSubsequence(w.text.split(' '), raw.split(' '))).toBe(true);
      }
      expect(longestRun(w.text)).toBeLessThanOrEqual(3);
    }
    // The summary counts the flagged windows, on stderr and in --json.
    const n = json.windows.length;
    const cut = json.windows.filter((w: { guard: { collapsedUnits?: number } }) => w.guard.collapsedUnits).length;
    expect(cut).toBeGreaterThan(0);
    expect(r.stderr).toContain(`quality guards flagged ${n} of ${n} windows: 0 repaired, ${n} marked (kept as the best of their retries, loops cut from ${cut})`);
    expect(r.stderr).toMatch(/warning: .*repetition/);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ flaggedWindows: n, markedWindows: n, collapsedWindows: cut, failed: 0 });
    expect(summary.files[0].guard).toEqual({ windows: n, flagged: n, repaired: 0, marked: n, collapsed: cut });
    // No loop reaches the subtitles: the phrase stays, at most three times in a row (the
    // detector's limit for a phrase), in every cue and across the whole file.
    const srt = fs.readFileSync(path.join(out, 'talk.srt'), 'utf8');
    expect(srt).toMatch(/again and/);
    const spoken = srt.split('\n').filter((l) => /[a-z]/i.test(l) && !l.includes('-->')).join(' ');
    expect(longestRun(spoken)).toBeLessThanOrEqual(3);
  });

  it('--no-guard makes one decode per window and records nothing', async () => {
    const r = await runCli([talk, '-f', 'json', '-o', '-', '--no-guard', ...modelArgs(looping)], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const w of json.windows) {
      expect(w.guard).toBeUndefined();
      expect(w.stop).toBe('limit');
    }
    expect(r.stderr).not.toMatch(/quality guards/);
  });

  it('--language en,fr: a window detected as German is decoded again with English forced', async () => {
    const r = await runCli([talk, '-f', 'json', '-o', '-', '--language', 'en,fr', ...modelArgs(german)], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.language).toBe('English');
    for (const w of json.windows) {
      expect(w).toMatchObject({ language: 'English', text: 'Hallo Welt.', stop: 'eos' });
      expect(w.guard.outcome).toBe('repaired');
      expect(w.guard.flags).toEqual([{ kind: 'language', detail: 'German is not in English, French' }]);
      expect(w.guard.attempts).toMatchObject([
        { step: 'initial', language: 'German', text: 'Hallo Welt.', flags: [{ kind: 'language' }] },
        { step: 'force-language', reason: ['language'], forcedLanguage: 'English', language: 'English', text: 'Hallo Welt.', flags: [] },
      ]);
      expect(w.guard.kept).toBe(1);
    }
  });

  it('context copied into the output is flagged and the window decoded again without it', async () => {
    const r = await runCli([talk, '-f', 'json', '-o', '-', '--context', CONTEXT, ...modelArgs(leaking)], { env });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const w of json.windows) {
      expect(w.guard.flags.map((f: { kind: string }) => f.kind)).toEqual(['context-leak']);
      // The scripted model says the same without the context: then it was not copied from it.
      expect(w.guard.attempts).toMatchObject([
        { step: 'initial', flags: [{ kind: 'context-leak' }] },
        { step: 'drop-context', reason: ['context-leak'], context: null, flags: [] },
      ]);
      expect(w.guard.outcome).toBe('repaired');
      expect(w.text).toBe(CONTEXT);
    }
  });

  it('an unknown language in the list is a usage error before any work', async () => {
    const r = await runCli([talk, '-f', 'json', '-o', '-', '--language', 'en,xx', ...modelArgs(german)], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown language 'xx'/);
  });
});
