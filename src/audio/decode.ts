import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Audio } from './audio.js';
import { decodeWav, decodeWavFile, looksLikeWav } from './wav.js';
import { decodeWithFfmpeg, EmptyStreamError, findFfmpeg, FfmpegDecodeError, FFMPEG_DISABLED } from './ffmpeg.js';
import { UserError } from '../errors.js';

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
export async function decodeInput(input: string, ffmpegOption: string | null): Promise<Audio> {
  const audio = await decodeAny(input, ffmpegOption);
  // A header with no samples after it (a recording that never started) is as empty as 0 bytes.
  if (audio.length === 0) {
    audio.close();
    throw new UserError(`${input === STDIN ? 'stdin' : input} holds no audio (0 samples)`, { hint: 'give a file that contains audio' });
  }
  return audio;
}

/** decodeInput, then `fn` on the audio, which is closed afterwards whatever happens. */
export async function withDecodedInput<T>(input: string, ffmpegOption: string | null, fn: (audio: Audio) => Promise<T>): Promise<T> {
  const audio = await decodeInput(input, ffmpegOption);
  try {
    return await fn(audio);
  } finally {
    audio.close();
  }
}

async function decodeAny(input: string, ffmpegOption: string | null): Promise<Audio> {
  const name = input === STDIN ? 'stdin' : input;
  const empty = () => new UserError(`${name} is empty (0 bytes)`, { hint: 'give a file that contains audio' });
  const file = input === STDIN ? null : checkReadableFile(input);
  const stdin = input === STDIN ? openStdin() : null;
  // A file's first bytes: an empty file is said so plainly, and without ffmpeg they tell a WAV.
  const fileHead = file !== null ? readHead(file) : null;
  if (fileHead?.length === 0) throw empty();
  const ffmpeg = findFfmpeg(ffmpegOption);
  if (ffmpeg) {
    try {
      // stdin goes to ffmpeg as it arrives: a video piped in is never held whole in memory.
      return await decodeWithFfmpeg(ffmpeg, file !== null ? { path: file } : { stream: stdin! });
    } catch (err) {
      if (err instanceof EmptyStreamError) throw empty();
      if (err instanceof FfmpegDecodeError) throw new UserError(`cannot decode ${name}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  // Without ffmpeg only WAV decodes, and wavefile wants the whole file's bytes.
  const bytes = stdin !== null ? await readAll(stdin) : null;
  const head = bytes !== null ? bytes.subarray(0, 12) : fileHead!;
  if (head.length === 0) throw empty();
  if (looksLikeWav(head)) {
    try {
      return bytes !== null ? decodeWav(bytes) : decodeWavFile(file!);
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

function checkReadableFile(p: string): string {
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
  return p;
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
