import fs from 'node:fs';
import tty from 'node:tty';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { Audio } from './audio.js';
import { decodeWav, decodeWavFile, looksLikeWav } from './wav.js';
import { decodeWithFfmpeg, EmptyStreamError, findFfmpeg, FfmpegDecodeError, FFMPEG_DISABLED } from './ffmpeg.js';
import { EXIT, UserError } from '../errors.js';
import { interruptSignal, interruption } from '../util/cleanup.js';

const NO_FFMPEG_HINT =
  'install ffmpeg (apt install ffmpeg / brew install ffmpeg), point --ffmpeg or QWEN3ASR_FFMPEG at a binary, or `npm install ffmpeg-static`';

/** The stdin marker on the command line. */
export const STDIN = '-';

/**
 * Turns one input (a path, or '-' for stdin) into 16 kHz mono samples, or throws a UserError
 * saying what is wrong with that input. ffmpeg decodes everything it can; without ffmpeg, WAV
 * files still decode through wavefile and our resampler. The caller closes the Audio (it may be
 * a temp file): withDecodedInput does.
 */
/** How to decode: which audio stream of a file that has several (`--audio-stream`). */
export interface DecodeOptions {
  readonly audioStream?: number | null;
}

export async function decodeInput(input: string, ffmpegOption: string | null, options: DecodeOptions = {}): Promise<Audio> {
  return (await decodeSource(input, ffmpegOption, options)).audio;
}

/** What was read: a file (it can be read again), or a stream, known by the hash of its bytes. */
export type InputSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'stream'; readonly sha256: string };

async function decodeSource(input: string, ffmpegOption: string | null, options: DecodeOptions): Promise<{ audio: Audio; source: InputSource }> {
  const { audio, source } = await decodeAny(input, ffmpegOption, options);
  // A header with no samples after it (a recording that never started) is as empty as 0 bytes.
  if (audio.length === 0) {
    audio.close();
    throw new UserError(`${input === STDIN ? 'stdin' : input} holds no audio (0 samples)`, { hint: 'give a file that contains audio' });
  }
  return { audio, source };
}

/** decodeInput, then `fn` on the audio, which is closed afterwards whatever happens. */
export async function withDecodedInput<T>(
  input: string,
  ffmpegOption: string | null,
  fn: (audio: Audio, source: InputSource) => Promise<T>,
  options: DecodeOptions = {},
): Promise<T> {
  const { audio, source } = await decodeSource(input, ffmpegOption, options);
  try {
    return await fn(audio, source);
  } finally {
    audio.close();
  }
}

/** Passes a stream through, hashing what goes by (the identity of stdin or a pipe, for reruns). */
function hashing(stream: Readable): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  const through = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  stream.on('error', (err) => through.destroy(err));
  stream.pipe(through);
  // the reader may stop early (ffmpeg is done, or failed): the source then no longer feeds it
  through.on('close', () => stream.unpipe(through));
  let digest: string | null = null;
  return { stream: through, sha256: () => (digest ??= hash.digest('hex')) };
}

async function decodeAny(input: string, ffmpegOption: string | null, options: DecodeOptions): Promise<{ audio: Audio; source: InputSource }> {
  const name = input === STDIN ? 'stdin' : input;
  const empty = () => new UserError(`${name} is empty (0 bytes)`, { hint: 'give a file that contains audio' });
  const kind = input === STDIN || isOwnStdin(input) ? 'stdin' : checkReadableInput(input);
  const file = kind === 'file' ? input : null;
  // A pipe (a named FIFO, `<(…)`, /dev/fd/N) is read once, as it arrives, like stdin: its first
  // bytes cannot be looked at and then read again.
  const opened = kind === 'stdin' ? openStdin() : kind === 'pipe' ? await openPipe(input) : null;
  const hashed = opened !== null ? hashing(opened) : null;
  const stream = hashed?.stream ?? null;
  const source = (): InputSource => (hashed !== null ? { kind: 'stream', sha256: hashed.sha256() } : { kind: 'file', path: file! });
  // A file's first bytes: an empty file is said so plainly, and without ffmpeg they tell a WAV.
  const fileHead = file !== null ? readHead(file) : null;
  if (fileHead?.length === 0) throw empty();
  const ffmpeg = findFfmpeg(ffmpegOption);
  if (ffmpeg) {
    try {
      // stdin goes to ffmpeg as it arrives: a video piped in is never held whole in memory.
      const audio = await decodeWithFfmpeg(ffmpeg, file !== null ? { path: file } : { stream: stream! }, { audioStream: options.audioStream ?? 0 });
      return { audio, source: source() };
    } catch (err) {
      if (err instanceof EmptyStreamError) throw empty();
      if (err instanceof FfmpegDecodeError) throw new UserError(`cannot decode ${name}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  if ((options.audioStream ?? 0) > 0) {
    throw new UserError(`--audio-stream ${options.audioStream} needs ffmpeg (a WAV file has one audio stream)`, { hint: NO_FFMPEG_HINT, exitCode: EXIT.usage });
  }
  // Without ffmpeg only WAV decodes, and wavefile wants the whole file's bytes.
  const bytes = stream !== null ? await readAll(stream) : null;
  const head = bytes !== null ? bytes.subarray(0, 12) : fileHead!;
  if (head.length === 0) throw empty();
  if (looksLikeWav(head)) {
    try {
      return { audio: bytes !== null ? decodeWav(bytes) : decodeWavFile(file!), source: source() };
    } catch (err) {
      throw new UserError(`cannot decode ${name}: not a valid WAV file (${(err as Error).message})`, {
        hint: 'check the file, or install ffmpeg, which reads damaged files more leniently',
        cause: err,
      });
    }
  }
  const why = ffmpegOption === FFMPEG_DISABLED ? 'ffmpeg is turned off (--ffmpeg none)' : 'ffmpeg was not found';
  throw new UserError(`cannot decode ${name}: it is not a WAV file and ${why}`, { hint: NO_FFMPEG_HINT });
}

/** What a path names: a file to read as often as needed, or a pipe to read once as it arrives. */
function checkReadableInput(p: string): 'file' | 'pipe' {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`input not found: ${p}`, { hint: 'check the path' });
    if (code === 'ELOOP') throw new UserError(`input is a symbolic link loop: ${p}`);
    if (code === 'EACCES') throw new UserError(`cannot read ${p}: permission denied`);
    throw new UserError(`cannot read ${p}: ${(err as Error).message}`);
  }
  if (stat.isDirectory()) {
    throw new UserError(`${p} is a folder, not a file`, { hint: `give the files inside it, e.g. ${p}/*.mp3` });
  }
  if (!stat.isFile() && !stat.isFIFO() && !stat.isCharacterDevice()) throw new UserError(`${p} is not a regular file`);
  try {
    fs.accessSync(p, fs.constants.R_OK);
  } catch {
    throw new UserError(`cannot read ${p}: permission denied`);
  }
  if (stat.isCharacterDevice() && isTerminal(p)) {
    throw new UserError(`${p} is a terminal, not audio`, { hint: 'pipe a file in: cat talk.mp3 | qwen3asr -' });
  }
  return stat.isFile() ? 'file' : 'pipe';
}

/** /dev/stdin and its aliases: this process's own stdin, which may be a socket no path can reopen. */
function isOwnStdin(p: string): boolean {
  return ['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0'].includes(p) && process.platform !== 'win32';
}

function isTerminal(p: string): boolean {
  try {
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
    try {
      return tty.isatty(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** How long a named pipe may wait for its writer (QWEN3ASR_PIPE_WAIT_SECONDS, default 30). */
function pipeWaitMs(): number {
  const s = Number(process.env.QWEN3ASR_PIPE_WAIT_SECONDS);
  return (Number.isFinite(s) && s > 0 ? s : 30) * 1000;
}

/**
 * Opens a pipe for reading. Opening a named FIFO waits until something opens it for writing; if
 * nothing does (its writer already came and went), the wait ends after pipeWaitMs with one line
 * instead of a hang. The open blocks a libuv thread, so giving up opens the FIFO for writing for a
 * moment: that lets the pending open finish, and the process can exit.
 */
async function openPipe(p: string): Promise<Readable> {
  const opening = fs.promises.open(p, 'r');
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const gaveUp = new Promise<'timeout' | 'interrupted'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), pipeWaitMs());
    onAbort = () => resolve('interrupted');
    interruptSignal.addEventListener('abort', onAbort, { once: true });
  });
  const first = await Promise.race([opening, gaveUp]).finally(() => {
    clearTimeout(timer);
    interruptSignal.removeEventListener('abort', onAbort);
  });
  if (typeof first !== 'string') return first.createReadStream();
  try {
    fs.closeSync(fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  } catch {
    // the writer arrived meanwhile, or the pipe is gone: the open ends either way
  }
  await (await opening.catch(() => null))?.close();
  if (first === 'interrupted') throw interruption();
  throw new UserError(`${p} is a pipe that nothing wrote to within ${Math.round(pipeWaitMs() / 1000)} s`, {
    hint: 'start the program that writes to it first, or give a file (QWEN3ASR_PIPE_WAIT_SECONDS sets the wait)',
  });
}

function readHead(p: string): Uint8Array {
  const fd = fs.openSync(p, 'r');
  try {
    const buf = Buffer.alloc(12);
    const n = fs.readSync(fd, buf, 0, 12, null);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function openStdin(): Readable {
  if (process.stdin.isTTY) {
    throw new UserError("'-' reads audio from stdin, but stdin is a terminal", { hint: 'pipe a file in: cat talk.mp3 | qwen3asr -' });
  }
  return process.stdin;
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
