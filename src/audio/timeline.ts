/**
 * The input's own timeline (pure). Subtitles are shown against the file's clock, so sample 0 of
 * the decoded audio must be the file's time 0, and a second lost to damaged data must stay a
 * second. ffmpeg does the work (`aresample=async=1:first_pts=0` pads a stream that starts late
 * and fills gaps in the timestamps with silence); this module tells what it did, from its
 * verbose log and the runs of exact zeros in its output, so the user hears of a gap.
 */
import { SAMPLE_RATE } from './audio.js';

export interface Gap {
  /** Where the filled silence starts, in seconds of the file's timeline. */
  readonly at: number;
  readonly seconds: number;
}

export interface Timeline {
  /** The audio stream starts this late into the file (padded with silence): normal for video. */
  readonly startSeconds: number;
  /** Data missing inside the stream (damaged or dropped packets), filled with silence. */
  readonly gaps: readonly Gap[];
  /** Audio streams the input has (`--audio-stream` picks among them). */
  readonly audioStreams: number;
}

/** What ffmpeg's `-loglevel level+verbose` output says about the input's audio streams. */
export interface FfmpegAudioLog {
  /** Sample rate of each audio stream, in stream order. */
  readonly rates: readonly number[];
  /** Samples the decoder delivered for the chosen stream, before any filling (null if not said). */
  readonly decodedSamples: number | null;
}

/** `Stream #0:1(eng): Audio: opus, 48000 Hz, ...` and `Input stream #0:1 (audio): ... (240000 samples)`. */
export function parseFfmpegAudioLog(lines: readonly string[]): FfmpegAudioLog {
  const rates: number[] = [];
  let decodedSamples: number | null = null;
  // the streams listed under "Input #0" (the output's own "Output #0" list follows it)
  let inInput = false;
  for (const line of lines) {
    if (/\bInput #0\b/.test(line)) inInput = true;
    else if (/\bOutput #\d/.test(line)) inInput = false;
    const stream = /Stream #0:\d+[^:]*: Audio: [^,]+, (\d+) Hz/.exec(line);
    if (stream && inInput) rates.push(Number(stream[1]));
    const decoded = /Input stream #0:\d+ \(audio\):.*\((\d+) samples\)/.exec(line);
    if (decoded) decodedSamples = (decodedSamples ?? 0) + Number(decoded[1]);
  }
  return { rates, decodedSamples };
}

/** Shorter differences are the resamplers' own edges, not missing data. */
const TOLERANCE_SECONDS = 0.05;

/**
 * Whether the filled silence may include a late start: something was filled and the output opens
 * with zeros (natural leading silence or padding look alike). Only then is the first frame's time
 * worth asking ffmpeg for.
 */
export function startUnclear(log: FfmpegAudioLog, stream: number, outputSamples: number, zeroRuns: ReadonlyArray<readonly [number, number]>): boolean {
  const rate = log.rates[stream];
  if (!rate || log.decodedSamples === null) return false;
  const filled = outputSamples / SAMPLE_RATE - log.decodedSamples / rate;
  return filled > TOLERANCE_SECONDS && zeroRuns.some(([a]) => a === 0);
}

/**
 * Where the output holds more than the decoder delivered, the difference was filled: first the
 * stream's late start (`start`: the first audio frame's time, when known), then gaps, taken to be
 * the longest runs of zeros after it, as many as it takes to account for the rest. Without a known
 * start (stdin, pipes), a run of zeros at sample 0 is taken for the late start.
 */
export function timelineOf(
  log: FfmpegAudioLog,
  stream: number,
  outputSamples: number,
  zeroRuns: ReadonlyArray<readonly [number, number]>,
  start: number | null,
): Timeline {
  const audioStreams = log.rates.length;
  const rate = log.rates[stream];
  if (!rate || log.decodedSamples === null) return { startSeconds: Math.max(0, start ?? 0), gaps: [], audioStreams };
  let filled = outputSamples / SAMPLE_RATE - log.decodedSamples / rate;
  const lead = zeroRuns.find(([a]) => a === 0);
  const startSeconds = start !== null ? Math.max(0, start) : lead ? Math.min(Math.max(0, filled), lead[1] / SAMPLE_RATE) : 0;
  filled -= startSeconds;
  const startSample = Math.round(startSeconds * SAMPLE_RATE);
  const gaps: Gap[] = [];
  const candidates = zeroRuns
    .map(([a, b]) => [Math.max(a, startSample), b] as const)
    .filter(([a, b]) => b - a >= SAMPLE_RATE / 10 && (start !== null || a !== 0))
    .sort((x, y) => y[1] - y[0] - (x[1] - x[0]));
  for (const [a, b] of candidates) {
    if (filled <= TOLERANCE_SECONDS) break;
    const seconds = (b - a) / SAMPLE_RATE;
    gaps.push({ at: a / SAMPLE_RATE, seconds: Math.min(seconds, filled) });
    filled -= seconds;
  }
  return { startSeconds, gaps: gaps.sort((x, y) => x.at - y.at), audioStreams };
}
