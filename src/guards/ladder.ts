/**
 * The repair ladder for one flagged window: a small state machine over decode settings.
 *
 *   initial ─flags─▶ repetition-control ─▶ split ─▶ drop-context ─▶ force-language ─▶ marked
 *      │                   │                 │            │                │
 *      └── clean           └──────── the first clean decode ends it: repaired ───────┘
 *
 * Each step changes one setting of the decode and keeps the earlier changes (an escalation).
 * A step runs only when it can act on one of the flags still present and when it would change
 * something (no context to drop, no other language to force, a window too short to split: it
 * is skipped). When every step fails, the best candidate is kept and the window marked: the
 * fewest/least severe flags, then the most text once loops are cut to what speech allows,
 * then the earliest. Its loops are collapsed (./collapse.ts); the raw decode stays in the record.
 *
 * `nextStep` holds the decisions and is pure; `runLadder` drives it with any decode function
 * (the subprocess runner in production, scripted answers in the unit tests).
 */
import type { RepetitionControl } from '../runner/request/sampler.js';
import { checkCandidate, severity, type CheckPolicy } from './detect.js';
import type { Decoded } from '../transcript/decode.js';
import type { Attempt, DecodeSettings, Flag, FlagKind, GuardReport, Step } from '../transcript/guard-record.js';
import { collapseLoops, nonLoopingUnits } from './collapse.js';

export type Decode = (settings: DecodeSettings) => Promise<Decoded>;

export interface LadderConfig {
  readonly policy: CheckPolicy;
  /** Seconds of detected speech in the window. */
  readonly speechSeconds: number;
  /** The settings of the first decode. */
  readonly initial: DecodeSettings;
  /** Whether the window can be cut in two halves that both hold speech. */
  readonly canSplit: boolean;
  /**
   * Whether a rejection of a retry's decode is a failed model call (recorded, the ladder goes
   * on) rather than an interruption or a bug (passed on). Default: none is.
   */
  readonly isDecodeFailure?: (err: unknown) => boolean;
  /**
   * Without a --language list: the language most of the file is in, once known (second pass
   * over marked windows). A window the model heard in another language is then forced to it.
   */
  readonly fileLanguage?: string | null;
}

/**
 * llama.cpp sampler options for the repetition-control step (v0.5.0 common/arg.cpp): a mild
 * repetition penalty over the last 64 tokens, and DRY, which penalises continuing any token
 * sequence that already occurred, more the longer the repeat (base 1.75, from 3 tokens on). Both
 * apply before the temperature-0 pick, so decoding stays deterministic.
 */
export const REPETITION_CONTROL: RepetitionControl = { repeatPenalty: 1.1, repeatLastN: 64, dryMultiplier: 0.8 };

const LOOPING: readonly FlagKind[] = ['repetition', 'compression', 'token-limit', 'too-much-text'];
const MISSING: readonly FlagKind[] = ['too-little-text', 'no-text'];

/** The flags each step can act on. */
const ACTS_ON: Record<Exclude<Step, 'initial'>, readonly FlagKind[]> = {
  'repetition-control': LOOPING,
  split: [...LOOPING, ...MISSING],
  'drop-context': [...LOOPING, ...MISSING, 'context-leak'],
  // Not for an empty answer: forcing a language over what the model heard as no speech is the
  // surest way to get invented text.
  'force-language': [...LOOPING, 'too-little-text', 'language'],
};

const ORDER: readonly Exclude<Step, 'initial'>[] = ['repetition-control', 'split', 'drop-context', 'force-language'];

/**
 * The language the force-language step prefills: with a --language list, the first listed one
 * when the window came out in a language outside it; without one, the file's language when it is
 * known (the second pass) and differs from the window's. Otherwise none: at temperature 0,
 * prefilling the language the model named itself reproduces the same decode.
 */
export function languageToForce(config: LadderConfig, current: DecodeSettings, detected: string | null): string | null {
  if (current.language !== null) return null;
  const allowed = config.policy.allowed;
  if (allowed && allowed.length > 0) return detected !== null && allowed.includes(detected) ? null : allowed[0];
  const file = config.fileLanguage ?? null;
  return file !== null && detected !== file ? file : null;
}

/** What the next step is after `done` steps, given the last decode; null: the ladder is over. */
export function nextStep(
  config: LadderConfig,
  last: Attempt,
  done: readonly Step[],
): { readonly step: Exclude<Step, 'initial'>; readonly settings: DecodeSettings; readonly reason: FlagKind[] } | null {
  if (last.flags.length === 0) return null;
  const kinds = new Set(last.flags.map((f) => f.kind));
  const current = last.settings;
  for (const step of ORDER) {
    if (done.includes(step)) continue;
    const reason = ACTS_ON[step].filter((k) => kinds.has(k));
    if (reason.length === 0) continue;
    let settings: DecodeSettings | null = null;
    if (step === 'repetition-control' && !current.repetitionControl) settings = { ...current, repetitionControl: true };
    if (step === 'split' && config.canSplit && !current.split) settings = { ...current, split: true };
    if (step === 'drop-context' && current.context !== null) settings = { ...current, context: null };
    if (step === 'force-language') {
      const language = languageToForce(config, current, last.language);
      if (language !== null) settings = { ...current, language };
    }
    if (settings) return { step, settings, reason };
  }
  return null;
}

/** Index of the best attempt: least severe, then most non-looping text, then earliest. */
export function bestAttempt(attempts: readonly Attempt[]): number {
  let best = 0;
  let bestKey: [number, number] = [Infinity, -Infinity];
  attempts.forEach((a, i) => {
    if (a.error !== undefined) return;
    const key: [number, number] = [severity(a.flags), nonLoopingUnits(a.text)];
    if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] > bestKey[1])) {
      best = i;
      bestKey = key;
    }
  });
  return best;
}

/**
 * The checks of one decode. Leakage is checked against the context that decode was given: text
 * that a decode without the context still produces was not copied from it (it is spoken).
 */
function check(config: LadderConfig, c: Decoded, settings: DecodeSettings): Flag[] {
  return checkCandidate({ ...c, speechSeconds: config.speechSeconds }, { ...config.policy, context: settings.context });
}

/** Decodes the window, and when the decode is flagged, climbs the ladder. */
export async function runLadder(decode: Decode, config: LadderConfig): Promise<LadderResult> {
  const first = await decode(config.initial);
  const initial: Attempt = { ...first, step: 'initial', reason: [], settings: config.initial, flags: check(config, first, config.initial) };
  if (initial.flags.length === 0) return { kept: first, report: { flags: [], attempts: [], outcome: 'clean', kept: 0 } };
  return climb(decode, config, [initial]);
}

export interface LadderResult {
  readonly kept: Decoded;
  readonly report: GuardReport;
}

/**
 * Goes on with a marked window's ladder once more is known (config.fileLanguage): the steps it
 * already took are not repeated. Clean and repaired windows are returned as they are.
 */
export async function resumeLadder(decode: Decode, config: LadderConfig, previous: LadderResult): Promise<LadderResult> {
  if (previous.report.outcome !== 'marked') return previous;
  return climb(decode, config, [...previous.report.attempts]);
}

async function climb(decode: Decode, config: LadderConfig, attempts: Attempt[]): Promise<LadderResult> {
  const initial = attempts[0];
  const done: Step[] = attempts.slice(1).map((a) => a.step);
  let last = [...attempts].reverse().find((a) => a.error === undefined)!;
  for (;;) {
    const next = nextStep(config, last, done);
    if (!next) break;
    done.push(next.step);
    let c: Decoded;
    try {
      c = await decode(next.settings);
    } catch (err) {
      if (!config.isDecodeFailure?.(err)) throw err;
      const error = err instanceof Error ? err.message : String(err);
      // Recorded, and the ladder goes on from the last real decode with the next step.
      attempts.push({ language: null, text: '', stop: 'eos', tokens: 0, step: next.step, reason: next.reason, settings: next.settings, flags: [], error });
      continue;
    }
    last = { ...c, step: next.step, reason: next.reason, settings: next.settings, flags: check(config, c, next.settings) };
    attempts.push(last);
    if (last.flags.length === 0) {
      return { kept: c, report: { flags: initial.flags, attempts, outcome: 'repaired', kept: attempts.length - 1 } };
    }
  }
  const kept = bestAttempt(attempts);
  const a = attempts[kept];
  // what nothing repaired is not written as it looped: each loop is cut to what speech allows
  const collapsed = collapseLoops(a.text);
  return {
    kept: { language: a.language, text: collapsed.removed > 0 ? collapsed.text : a.text, stop: a.stop, tokens: a.tokens },
    report: { flags: initial.flags, attempts, outcome: 'marked', kept, ...(collapsed.removed > 0 ? { collapsed: collapsed.removed } : {}) },
  };
}
