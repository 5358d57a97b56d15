/**
 * Decoded samples kept in a temp file instead of memory: an hour of 16 kHz float32 is 230 MB,
 * and a ten-hour recording would otherwise hold 2.3 GB of RAM for the whole run, when the
 * run only ever needs one stretch at a time (the speech analysis reads a minute per step, each
 * model call its window). The file sits in the OS temp folder (TMPDIR), whose page cache keeps
 * recent reads fast.
 *
 * On POSIX systems the file is unlinked as soon as it is open, and used through its descriptor
 * only: the kernel frees it when the descriptor closes, which happens on any exit, even a
 * SIGKILL or the OOM killer, so no gigabyte-sized leftover can outlive the run. Windows cannot
 * unlink an open file: there it is removed on close, and on Ctrl-C or any exit Node sees.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAMPLE_RATE, repairSamples, type Audio } from './audio.js';
import type { Timeline } from './timeline.js';
import { makeTempDir } from '../util/cleanup.js';
import { UserError } from '../errors.js';

const BYTES_PER_SAMPLE = 4;
/** 0.1 s: below this a run of zeros is ordinary digital silence, not filled-in missing data. */
const MIN_ZERO_RUN = SAMPLE_RATE / 10;

/** Finds runs of exact 0.0 samples of at least `min`, across pushes of any size. */
class ZeroRuns {
  private readonly found: Array<[number, number]> = [];
  private runStart = -1;
  private seen = 0;
  constructor(private readonly min: number) {}

  add(x: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      if (x[i] === 0) {
        if (this.runStart < 0) this.runStart = this.seen + i;
      } else if (this.runStart >= 0) {
        this.close(this.seen + i);
      }
    }
    this.seen += x.length;
  }

  runs(total: number): ReadonlyArray<readonly [number, number]> {
    const open = this.runStart >= 0 && total - this.runStart >= this.min ? [[this.runStart, total] as [number, number]] : [];
    return [...this.found, ...open];
  }

  private close(end: number): void {
    if (end - this.runStart >= this.min) this.found.push([this.runStart, end]);
    this.runStart = -1;
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** Raised when the temp folder has no room for the samples: one line saying where and what to do. */
function noSpace(): UserError {
  return new UserError(`not enough free space in ${os.tmpdir()} for the decoded audio (230 MB per hour of audio)`, {
    hint: 'free some space there, or point TMPDIR at a larger disk',
  });
}

/** Appends raw f32le bytes (chunks of any length) to a new temp file; `finish` turns it into Audio. */
export class SampleFileWriter {
  private readonly temp = makeTempDir('audio');
  private fd: number | null;
  private bytes = 0;
  /** The bytes of a sample split across two chunks, waiting for the rest. */
  private carry: Uint8Array = new Uint8Array(0);
  private repaired = 0;
  /** Runs of exact digital zeros: where ffmpeg filled missing data, found by ./timeline.ts. */
  private readonly zeros = new ZeroRuns(MIN_ZERO_RUN);

  constructor() {
    try {
      this.fd = fs.openSync(path.join(this.temp.dir, 'samples.f32'), 'w+');
    } catch (err) {
      this.temp.remove();
      throw err;
    }
    if (process.platform !== 'win32') this.temp.remove();
  }

  push(chunk: Uint8Array): void {
    if (this.fd === null) throw new Error('sample file written after finish');
    // whole samples only, copied into an aligned array (chunks split samples anywhere), repaired
    const all: Uint8Array = this.carry.byteLength > 0 ? concatBytes(this.carry, chunk) : chunk;
    const whole = Math.floor(all.byteLength / BYTES_PER_SAMPLE) * BYTES_PER_SAMPLE;
    const samples = new Float32Array(whole / BYTES_PER_SAMPLE);
    const bytes = new Uint8Array(samples.buffer);
    bytes.set(all.subarray(0, whole));
    this.carry = all.slice(whole);
    this.repaired += repairSamples(samples);
    this.zeros.add(samples);
    try {
      for (let done = 0; done < bytes.byteLength; ) done += fs.writeSync(this.fd, bytes, done, bytes.byteLength - done, this.bytes + done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw noSpace();
      throw err;
    }
    this.bytes += bytes.byteLength;
  }

  /** Whole samples written so far. */
  samples(): number {
    return Math.floor(this.bytes / BYTES_PER_SAMPLE);
  }

  /** Runs of exact zeros of at least 0.1 s so far, [start, end) in samples. */
  zeroRuns(): ReadonlyArray<readonly [number, number]> {
    return this.zeros.runs(Math.floor(this.bytes / BYTES_PER_SAMPLE));
  }

  /** The samples written so far, readable until closed; a trailing partial sample is dropped. */
  finish(timeline?: Timeline): Audio {
    if (this.fd === null) throw new Error('sample file finished twice');
    const fd = this.fd;
    this.fd = null;
    const length = Math.floor(this.bytes / BYTES_PER_SAMPLE);
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      this.remove(fd);
    };
    return {
      sampleRate: SAMPLE_RATE,
      length,
      repaired: this.repaired,
      ...(timeline ? { timeline } : {}),
      read(from, to) {
        if (!open) throw new Error('audio read after close');
        const a = Math.max(0, Math.min(length, from));
        const b = Math.max(a, Math.min(length, to));
        const out = new Float32Array(b - a);
        const view = new Uint8Array(out.buffer);
        for (let got = 0; got < view.byteLength; ) {
          const n = fs.readSync(fd, view, got, view.byteLength - got, a * BYTES_PER_SAMPLE + got);
          if (n === 0) throw new Error('the decoded audio file is shorter than what was written to it');
          got += n;
        }
        return out;
      },
      close,
    };
  }

  /** Removes the file without reading it (the decode failed or was stopped). */
  abandon(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    this.remove(fd);
  }

  private remove(fd: number): void {
    try {
      fs.closeSync(fd);
    } finally {
      this.temp.remove();
    }
  }
}
