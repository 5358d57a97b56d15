import wavefile from 'wavefile';
// wavefile is CommonJS: Node's ESM loader exposes it only as a default export.

import fs from 'node:fs';
import { SAMPLE_RATE, memoryAudio, repairSamples, type Audio } from './audio.js';
import { resample } from './resample.js';

/** True when the bytes start like a RIFF/WAVE file (what decides the ffmpeg-free path). */
export function looksLikeWav(head: Uint8Array): boolean {
  return (
    head.length >= 12 &&
    String.fromCharCode(...head.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...head.subarray(8, 12)) === 'WAVE'
  );
}

/** Full-scale value of each integer PCM depth; 8-bit WAV is unsigned with its zero at 128. */
const INT_SCALE: Record<string, number> = { '16': 32768, '24': 8388608, '32': 2147483648 };

/**
 * Decodes a PCM or float WAV (any rate, any channel count) to 16 kHz mono without ffmpeg.
 * Channels are averaged, as the official toolkit does. Throws a plain Error describing what is
 * wrong with the file; the caller turns it into a user-facing message.
 */
export function decodeWav(bytes: Uint8Array): Audio {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number };
  const depth = wav.bitDepth;
  if (!(fmt.numChannels >= 1)) throw new Error('the WAV header gives no channels');
  if (!(fmt.sampleRate >= 1000 && fmt.sampleRate <= 1_000_000)) throw new Error(`unsupported sample rate ${fmt.sampleRate} Hz`);
  let offset = 0;
  let scale: number;
  if (depth === '8') {
    offset = -128;
    scale = 128;
  } else if (depth === '32f' || depth === '64') {
    scale = 1;
  } else if (INT_SCALE[depth] !== undefined) {
    scale = INT_SCALE[depth];
  } else {
    throw new Error(`unsupported WAV encoding (bit depth code '${depth}', format ${fmt.audioFormat})`);
  }
  const interleaved = wav.getSamples(true, Float64Array) as unknown as Float64Array;
  const channels = fmt.numChannels;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Float32Array(frames);
  const norm = 1 / (scale * channels);
  for (let i = 0, j = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < channels; c++, j++) acc += interleaved[j] + offset;
    mono[i] = acc * norm;
  }
  const samples = fmt.sampleRate === SAMPLE_RATE ? mono : resample(mono, fmt.sampleRate, SAMPLE_RATE);
  return toAudio(samples);
}

/** The official toolkit clips to [-1, 1]; float WAVs can exceed it. */
/** The samples as Audio: NaN/±Inf repaired to silence (counted), the rest clipped to [-1, 1]. */
function toAudio(x: Float32Array): Audio {
  const repaired = repairSamples(x);
  for (let i = 0; i < x.length; i++) {
    if (x[i] > 1) x[i] = 1;
    else if (x[i] < -1) x[i] = -1;
  }
  return memoryAudio(x, repaired);
}

/** The layout of a plain PCM or float WAV, read from its header. */
interface PcmLayout {
  readonly channels: number;
  readonly rate: number;
  /** Bytes per sample of one channel. */
  readonly width: number;
  readonly float: boolean;
  readonly dataOffset: number;
  /** Whole frames actually in the file (a header claiming more is cut to what is there). */
  readonly frames: number;
}

const HEAD_BYTES = 1 << 16;

/** Finds fmt and data in the first 64 kB; null for anything but plain PCM/float (wavefile handles those). */
function readPcmLayout(fd: number, fileSize: number): PcmLayout | null {
  const head = Buffer.alloc(Math.min(HEAD_BYTES, fileSize));
  const n = fs.readSync(fd, head, 0, head.length, 0);
  if (n < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return null;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  for (let at = 12; at + 8 <= n; ) {
    const id = head.toString('latin1', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= n) {
      let format = head.readUInt16LE(body);
      if (format === 0xfffe && size >= 40 && body + 26 <= n) format = head.readUInt16LE(body + 24); // extensible: the sub-format
      fmt = { format, channels: head.readUInt16LE(body + 2), rate: head.readUInt32LE(body + 4), bits: head.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) return null;
      const float = fmt.format === 3 && (fmt.bits === 32 || fmt.bits === 64);
      const pcm = fmt.format === 1 && [8, 16, 24, 32].includes(fmt.bits);
      if (!(float || pcm) || fmt.channels < 1 || !(fmt.rate >= 1000 && fmt.rate <= 1_000_000)) return null;
      const width = fmt.bits / 8;
      const bytes = Math.min(size, fileSize - body);
      return { channels: fmt.channels, rate: fmt.rate, width, float, dataOffset: body, frames: Math.floor(bytes / (width * fmt.channels)) };
    }
    at = body + size + (size & 1);
  }
  return null;
}

/**
 * Decodes a WAV file without reading it whole: plain PCM and float WAVs are read in blocks into
 * one mono array (6 hours at 16 kHz: the 1.4 GB of samples, not the file plus a float64 copy of
 * every channel); anything else goes through wavefile as before. This is the path without ffmpeg,
 * so the samples stay in memory (the resampler wants them whole); ffmpeg's path uses a temp file.
 */
export function decodeWavFile(file: string): Audio {
  const fd = fs.openSync(file, 'r');
  try {
    const layout = readPcmLayout(fd, fs.fstatSync(fd).size);
    if (!layout) return decodeWav(fs.readFileSync(fd));
    const { channels, width, float, frames } = layout;
    const frameBytes = width * channels;
    const mono = new Float32Array(frames);
    const blockFrames = Math.max(1, Math.floor((1 << 20) / frameBytes));
    const block = Buffer.alloc(blockFrames * frameBytes);
    const norm = 1 / channels;
    const read: (b: Buffer, at: number) => number = float
      ? width === 4 ? (b, at) => b.readFloatLE(at) : (b, at) => b.readDoubleLE(at)
      : width === 1 ? (b, at) => (b[at] - 128) / 128
      : width === 2 ? (b, at) => b.readInt16LE(at) / 32768
      : width === 3 ? (b, at) => b.readIntLE(at, 3) / 8388608
      : (b, at) => b.readInt32LE(at) / 2147483648;
    for (let f0 = 0; f0 < frames; f0 += blockFrames) {
      const count = Math.min(blockFrames, frames - f0);
      const want = count * frameBytes;
      let got = 0;
      while (got < want) {
        const r = fs.readSync(fd, block, got, want - got, layout.dataOffset + f0 * frameBytes + got);
        if (r === 0) break;
        got += r;
      }
      const whole = Math.floor(got / frameBytes);
      for (let i = 0, at = 0; i < whole; i++) {
        let acc = 0;
        for (let c = 0; c < channels; c++, at += width) acc += read(block, at);
        mono[f0 + i] = acc * norm;
      }
      if (whole < count) return finish(mono.subarray(0, f0 + whole), layout.rate);
    }
    return finish(mono, layout.rate);
  } finally {
    fs.closeSync(fd);
  }
}

function finish(mono: Float32Array, rate: number): Audio {
  const samples = rate === SAMPLE_RATE ? mono : resample(mono, rate, SAMPLE_RATE);
  return toAudio(samples);
}
