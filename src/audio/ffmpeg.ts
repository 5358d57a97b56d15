import path from 'node:path';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { execa, ExecaError } from 'execa';
import { SAMPLE_RATE, type Audio } from './audio.js';
import { interruptSignal, trackChild, interruption } from '../util/cleanup.js';
import { findOnPath, isExecutable } from '../util/which.js';
import { SampleFileWriter } from './sample-file.js';

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
export async function decodeWithFfmpeg(ffmpeg: Ffmpeg, input: { path: string } | { stream: Readable }): Promise<Audio> {
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-i', 'path' in input ? input.path : 'pipe:0',
    '-map', '0:a:0', '-vn',
    // Channels are averaged, as the official toolkit does; plain -ac 1 would sum them at -3 dB each.
    '-rematrix_maxval', '1.0', '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 'f32le', 'pipe:1',
  ];
  if ('stream' in input) args[args.indexOf('-nostdin')] = '-y';
  const sink = new SampleFileWriter();
  try {
    const child = execa(ffmpeg.path, args, {
      stdin: 'stream' in input ? 'pipe' : 'ignore',
      stdout: 'pipe',
      buffer: { stdout: false, stderr: true },
      encoding: 'buffer',
      stripFinalNewline: false,
      maxBuffer: { stderr: 1024 * 1024 },
      cancelSignal: interruptSignal,
      reject: false,
    });
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
    if (result.failed) {
      throw new FfmpegDecodeError(describeFfmpegFailure(Buffer.from(result.stderr as Uint8Array).toString('utf8')));
    }
    return sink.finish();
  } catch (err) {
    sink.abandon();
    throw err;
  }
}

function describeFfmpegFailure(stderr: string): string {
  const text = stderr.trim();
  if (/matches no streams|does not contain any stream|Output file does not contain any stream/i.test(text)) {
    return 'it has no audio track';
  }
  if (/Invalid data found when processing input|could not find codec parameters|Invalid argument/i.test(text)) {
    return 'it is not an audio or video file ffmpeg can read';
  }
  if (/Permission denied/i.test(text)) return 'permission denied';
  const last = text.split('\n').filter(Boolean).pop();
  return last ? `ffmpeg: ${last.replace(/^.*?: /, '')}` : 'ffmpeg failed without saying why';
}
