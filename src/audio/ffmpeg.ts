import path from 'node:path';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { execa, ExecaError } from 'execa';
import { SAMPLE_RATE, type Audio } from './audio.js';
import { interruptSignal, trackChild, interruption } from '../util/cleanup.js';
import { findOnPath, isExecutable } from '../util/which.js';
import { SampleFileWriter } from './sample-file.js';
import { parseFfmpegAudioLog, startUnclear, timelineOf } from './timeline.js';

/** Where an ffmpeg binary came from, for messages and `doctor`. */
export type FfmpegSource = 'option' | 'ffmpeg-static' | 'PATH';
export interface Ffmpeg {
  readonly path: string;
  readonly source: FfmpegSource;
}

/** `--ffmpeg none` (or QWEN3ASR_FFMPEG=none) turns ffmpeg off: WAV input only. */
export const FFMPEG_DISABLED = 'none';

/**
 * Finds ffmpeg: the explicit `--ffmpeg`/QWEN3ASR_FFMPEG path, then the optional ffmpeg-static
 * package's binary (its install step downloads from GitHub and may have failed), then PATH.
 * An explicit path that does not exist is returned as is: the caller reports it, rather than
 * silently using another ffmpeg.
 */
export function findFfmpeg(explicit: string | null, env: NodeJS.ProcessEnv = process.env): Ffmpeg | null {
  if (explicit === FFMPEG_DISABLED) return null;
  if (explicit) return { path: explicit, source: 'option' };
  const fromPackage = ffmpegStaticPath();
  if (fromPackage && isExecutable(fromPackage)) return { path: fromPackage, source: 'ffmpeg-static' };
  const onPath = findOnPath('ffmpeg', env);
  return onPath ? { path: onPath, source: 'PATH' } : null;
}

function ffmpegStaticPath(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const p = require('ffmpeg-static') as unknown;
    return typeof p === 'string' ? p : null;
  } catch {
    return null;
  }
}


/** Why ffmpeg could not decode an input, as one phrase for the user. */
export class FfmpegDecodeError extends Error {}

/** A stream that ended before its first byte (nothing was piped in). */
export class EmptyStreamError extends Error {}

/**
 * Decodes any input ffmpeg understands (a path, or a stream such as stdin) to 16 kHz mono
 * float32: the first audio stream, channels averaged, ffmpeg's own resampler.
 *
 * The decoded samples stream straight into a temp file (./sample-file.ts), so a 6-hour file
 * costs its 1.4 GB of samples on disk, not in memory; the caller closes the Audio to remove it.
 * A stream is piped to ffmpeg as it arrives, never held whole.
 */
export interface FfmpegDecodeOptions {
  /** Which audio stream, as ffmpeg's `0:a:N` counts them (default 0, the first). */
  readonly audioStream?: number;
}

export async function decodeWithFfmpeg(ffmpeg: Ffmpeg, input: { path: string } | { stream: Readable }, options: FfmpegDecodeOptions = {}): Promise<Audio> {
  const stream = options.audioStream ?? 0;
  const args = [
    // verbose, with each line tagged by its level: the errors say why a decode failed, the
    // verbose lines what the input holds and what the resampler filled in (./timeline.ts)
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+verbose',
    '-i', 'path' in input ? input.path : 'pipe:0',
    '-map', `0:a:${stream}`, '-vn',
    // One resampler does it all: the file's timeline (a stream that starts late is padded from
    // time 0, timestamps that jump, from damaged or missing data, are filled with silence, so every
    // later cue stays in place), 16 kHz, and mono with the channels averaged, as the official
    // toolkit does (rematrix_maxval 1; a plain downmix would sum them at -3 dB each).
    '-af', `aresample=${SAMPLE_RATE}:async=1:first_pts=0:rematrix_maxval=1.0,aformat=sample_fmts=flt:channel_layouts=mono`,
    '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 'f32le', 'pipe:1',
  ];
  if ('stream' in input) args[args.indexOf('-nostdin')] = '-y';
  const sink = new SampleFileWriter();
  try {
    const child = execa(ffmpeg.path, args, {
      stdin: 'stream' in input ? 'pipe' : 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      encoding: 'buffer',
      cancelSignal: interruptSignal,
      reject: false,
    });
    const log = new LogLines();
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
    let streamed = 0;
    if ('stream' in input && child.stdin) {
      // ffmpeg may stop reading early (not media, or no audio track): the write then fails with
      // EPIPE, and ffmpeg's exit status says why.
      child.stdin.on('error', () => {});
      input.stream.on('data', (chunk: Uint8Array) => {
        streamed += chunk.byteLength;
      });
      input.stream.pipe(child.stdin);
    }
    const untrack = trackChild(child.pid);
    let sinkError: unknown = null;
    child.stdout?.on('data', (chunk: Uint8Array) => {
      if (sinkError !== null) return;
      try {
        sink.push(chunk);
      } catch (err) {
        sinkError = err;
        child.kill('SIGKILL');
      }
    });
    const result = await child;
    untrack();
    log.end();
    if ('stream' in input) {
      // Nothing reads it again ('-' is allowed once): whatever is still coming in is not waited for.
      if (child.stdin) input.stream.unpipe(child.stdin);
      input.stream.destroy();
    }
    if (result.isCanceled) throw interruption();
    if (sinkError !== null) throw sinkError;
    if (result.failed && ((result as ExecaError).code === 'ENOENT' || (result as ExecaError).code === 'EACCES')) {
      throw new FfmpegDecodeError(`cannot run ffmpeg at ${ffmpeg.path}`);
    }
    if ('stream' in input && streamed === 0) throw new EmptyStreamError('the stream held no bytes');
    const audioLog = parseFfmpegAudioLog(log.info);
    if (result.failed) throw new FfmpegDecodeError(describeFfmpegFailure(log.errors.join('\n'), stream, audioLog.rates.length));
    const runs = sink.zeroRuns();
    // A file can be read again: when a late start and natural leading silence look alike, one
    // decoded frame tells them apart (stdin cannot be reread: null). Most files never need it.
    let start: number | null = 'path' in input ? 0 : null;
    if ('path' in input && startUnclear(audioLog, stream, sink.samples(), runs)) start = await firstAudioTime(ffmpeg, input.path, stream);
    return sink.finish(timelineOf(audioLog, stream, sink.samples(), runs, start));
  } catch (err) {
    sink.abandon();
    throw err;
  }
}

/**
 * When the chosen audio stream's first frame is due, in seconds of the file's timeline (as the
 * decode sees it: ffmpeg shifts the file's own start to 0): one frame decoded, `ashowinfo`'s
 * pts_time. null when ffmpeg cannot tell (the decode's own error then says why).
 */
async function firstAudioTime(ffmpeg: Ffmpeg, file: string, stream: number): Promise<number | null> {
  const r = await execa(ffmpeg.path, ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'info', '-i', file, '-map', `0:a:${stream}`, '-af', 'ashowinfo', '-frames:a', '1', '-f', 'null', '-'], {
    reject: false,
    cancelSignal: interruptSignal,
    stdin: 'ignore',
    stdout: 'ignore',
    maxBuffer: { stderr: 1024 * 1024 },
  });
  const m = /pts_time:(-?[\d.]+)/.exec(String(r.stderr ?? ''));
  return m ? Number(m[1]) : null;
}

/**
 * ffmpeg's stderr, line by line, as it comes: error lines (the last few, for the failure message)
 * and the input description and decode totals (the few lines ./timeline.ts reads); everything
 * else is dropped, so a long or badly damaged input cannot fill memory with log lines.
 */
class LogLines {
  readonly errors: string[] = [];
  readonly info: string[] = [];
  private rest = '';

  push(chunk: Buffer): void {
    const text = this.rest + chunk.toString('utf8');
    const lines = text.split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  end(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
  }

  /** The level of the line before: a message's continuation lines carry no tag of their own. */
  private level = 'error';

  private line(raw: string): void {
    // `[info] text`, or with the logging context first: `[SWR @ 0x55…] [verbose] text`
    const m = /^(?:\[[^\]]* @ [^\]]*\] )*\[(trace|debug|verbose|info|warning|error|fatal|panic)\] ?(.*)$/.exec(raw);
    if (m) this.level = m[1];
    const level = this.level;
    const text = m ? m[2] : raw;
    if (level === 'error' || level === 'fatal' || level === 'panic') {
      this.errors.push(text);
      if (this.errors.length > 20) this.errors.shift();
    } else if (/Input #0|Output #\d|Stream #0:\d+.*: Audio:|Input stream #0:\d+ \(audio\)/.test(text) && this.info.length < 200) {
      this.info.push(text);
    }
  }
}

function describeFfmpegFailure(stderr: string, stream: number, audioStreams: number): string {
  const text = stderr.trim();
  if (/matches no streams|does not contain any stream|Output file does not contain any stream/i.test(text)) {
    if (stream > 0 && audioStreams > 0) {
      return `it has no audio stream ${stream}: it has ${audioStreams} (--audio-stream 0${audioStreams > 1 ? `–${audioStreams - 1}` : ''})`;
    }
    return 'it has no audio track';
  }
  if (/Invalid data found when processing input|could not find codec parameters|Invalid argument/i.test(text)) {
    return 'it is not an audio or video file ffmpeg can read';
  }
  if (/Permission denied/i.test(text)) return 'permission denied';
  const last = text.split('\n').filter(Boolean).pop();
  return last ? `ffmpeg: ${last.replace(/^.*?: /, '')}` : 'ffmpeg failed without saying why';
}
