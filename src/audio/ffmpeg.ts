import path from 'node:path';
import { createRequire } from 'node:module';
import { execa, ExecaError } from 'execa';
import { SAMPLE_RATE, type Audio } from './audio.js';
import { interruptSignal, trackChild, interruption } from '../util/cleanup.js';
import { findOnPath, isExecutable } from '../util/which.js';

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

/**
 * Decodes any input ffmpeg understands (a path, or bytes from stdin) to 16 kHz mono float32:
 * the first audio stream, channels averaged, ffmpeg's own resampler.
 *
 * The decoded samples stream straight into one Float32Array sized from ffprobe's duration (when
 * ffprobe is there), so a 6-hour file costs its 1.4 GB of samples once, not the several copies
 * that buffering ffmpeg's whole output would make. Without an estimate (stdin, no ffprobe) the
 * array doubles as it fills. Pages of the array past the end of the audio are never written, so
 * a duration that overstates (a WAV header that lies) costs address space, not memory.
 */
export async function decodeWithFfmpeg(ffmpeg: Ffmpeg, input: { path: string } | { bytes: Uint8Array }): Promise<Audio> {
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-i', 'path' in input ? input.path : 'pipe:0',
    '-map', '0:a:0', '-vn',
    // Channels are averaged, as the official toolkit does; plain -ac 1 would sum them at -3 dB each.
    '-rematrix_maxval', '1.0', '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 'f32le', 'pipe:1',
  ];
  if ('bytes' in input) args[args.indexOf('-nostdin')] = '-y';
  const sink = new SampleSink();
  // ffprobe runs beside the decode rather than before it (its start-up is a fixed cost on every
  // file); its estimate usually arrives long before the first minute of samples fills the sink.
  const probeDone = new AbortController();
  const probe = 'path' in input
    ? probeSeconds(ffmpeg, input.path, probeDone.signal).then((estimate) => {
        // 2% spare: some formats decode a little longer than they say (opus pre-skip of joined
        // streams adds 20 ms per join); the untouched spare pages cost no memory.
        if (estimate !== null) sink.reserve(Math.ceil(estimate * 1.02 * SAMPLE_RATE) + SAMPLE_RATE);
      })
    : Promise.resolve();
  const child = execa(ffmpeg.path, args, {
    input: 'bytes' in input ? input.bytes : undefined,
    stdout: 'pipe',
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
    stripFinalNewline: false,
    maxBuffer: { stderr: 1024 * 1024 },
    cancelSignal: interruptSignal,
    reject: false,
  });
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
  probeDone.abort();
  await probe;
  if (result.isCanceled) throw interruption();
  if (sinkError !== null) throw sinkError;
  if (result.failed) {
    if ((result as ExecaError).code === 'ENOENT' || (result as ExecaError).code === 'EACCES') {
      throw new FfmpegDecodeError(`cannot run ffmpeg at ${ffmpeg.path}`);
    }
    throw new FfmpegDecodeError(describeFfmpegFailure(Buffer.from(result.stderr as Uint8Array).toString('utf8')));
  }
  return { samples: sink.samples(), sampleRate: SAMPLE_RATE };
}

/** Collects raw f32le bytes (chunks of any length) into one growing Float32Array. */
class SampleSink {
  private array: Float32Array;
  private bytes: Uint8Array;
  private filled = 0;

  constructor() {
    this.array = new Float32Array(60 * SAMPLE_RATE);
    this.bytes = new Uint8Array(this.array.buffer);
  }

  /** Makes room for `samples` in one allocation (a duration estimate); never shrinks. */
  reserve(samples: number): void {
    if (samples <= this.array.length) return;
    const grown = allocate(samples);
    if (!grown) return; // growing by doubling as the samples come may still fit
    new Uint8Array(grown.buffer).set(this.bytes.subarray(0, this.filled));
    this.array = grown;
    this.bytes = new Uint8Array(grown.buffer);
  }

  push(chunk: Uint8Array): void {
    if (this.filled + chunk.byteLength > this.bytes.byteLength) {
      const need = Math.ceil((this.filled + chunk.byteLength) / 4);
      const grown = allocate(Math.max(need, this.array.length * 2)) ?? allocate(need);
      if (!grown) throw new FfmpegDecodeError('it is too long to hold in memory');
      new Uint8Array(grown.buffer).set(this.bytes.subarray(0, this.filled));
      this.array = grown;
      this.bytes = new Uint8Array(grown.buffer);
    }
    this.bytes.set(chunk, this.filled);
    this.filled += chunk.byteLength;
  }

  /** The whole samples decoded (a view: no copy). */
  samples(): Float32Array {
    return this.array.subarray(0, Math.floor(this.filled / 4));
  }
}

function allocate(samples: number): Float32Array | null {
  try {
    return new Float32Array(samples);
  } catch {
    return null;
  }
}

/**
 * The input's duration in seconds from ffprobe (beside ffmpeg, else on PATH); null when unknown,
 * on Ctrl-C, or when `done` fires first (the decode finished; the probe is no longer worth waiting for).
 */
async function probeSeconds(ffmpeg: Ffmpeg, file: string, done: AbortSignal): Promise<number | null> {
  const beside = path.join(path.dirname(ffmpeg.path), process.platform === 'win32' ? 'ffprobe.exe' : 'ffprobe');
  const ffprobe = isExecutable(beside) ? beside : findOnPath('ffprobe');
  if (!ffprobe) return null;
  const r = await execa(ffprobe, ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'format=duration:stream=duration', '-of', 'default=nw=1:nk=1', file], {
    reject: false,
    timeout: 60_000,
    cancelSignal: AbortSignal.any([interruptSignal, done]),
  });
  // Never throws: a Ctrl-C is the decode's to report (this promise is awaited only after it).
  if (r.failed) return null;
  const seconds = String(r.stdout).split('\n').map(Number).filter((n) => Number.isFinite(n) && n > 0);
  return seconds.length > 0 ? Math.max(...seconds) : null;
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
