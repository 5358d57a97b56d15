import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { SOURCE_BYTES, SOURCE_DTYPES, type SourceDType } from './ggml-types.js';

/**
 * Safetensors files: an 8-byte little-endian header length, a JSON header naming every tensor
 * with its dtype, shape and byte range, then the raw data. We read the header only and stream
 * each tensor's bytes on demand.
 */

export interface TensorEntry {
  readonly name: string;
  readonly dtype: SourceDType;
  /** PyTorch order, outermost first. */
  readonly shape: readonly number[];
  readonly file: string;
  /** Absolute byte offset of the data in `file`. */
  readonly offset: number;
  readonly byteLength: number;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reads and validates one file's header: dtypes we support, ranges inside the file. */
export async function readSafetensorsHeader(file: string): Promise<TensorEntry[]> {
  const base = path.basename(file);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    const { size } = await fh.stat();
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || (await fh.read(lenBuf, 0, 8, 0)).bytesRead < 8) {
      throw new UserError(`${base} is truncated or not a safetensors file (${size} bytes)`);
    }
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > 100_000_000 || 8 + headerLen > size) {
      throw new UserError(`${base} is truncated or not a safetensors file (header of ${headerLen} bytes in a ${size}-byte file)`);
    }
    const headerBuf = Buffer.alloc(headerLen);
    await fh.read(headerBuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`${base} has a corrupt header (not JSON)`, { cause: err });
    }
    const dataStart = 8 + headerLen;
    const entries: TensorEntry[] = [];
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = info.dtype as SourceDType;
      if (!SOURCE_DTYPES.includes(dtype)) {
        throw new UserError(`${base}: tensor ${name} has unsupported dtype ${String(info.dtype)}`, {
          hint: 'only BF16, F16 and F32 checkpoints can be converted',
        });
      }
      const shape = info.shape as number[];
      const offs = info.data_offsets as [number, number];
      if (!Array.isArray(shape) || !Array.isArray(offs) || offs.length !== 2) {
        throw new UserError(`${base} has a corrupt header entry for ${name}`);
      }
      const byteLength = offs[1] - offs[0];
      if (byteLength !== elementCount(shape) * SOURCE_BYTES[dtype]) {
        throw new UserError(`${base} has a corrupt header entry for ${name} (size does not match shape)`);
      }
      entries.push({ name, dtype, shape, file, offset: dataStart + offs[0], byteLength });
    }
    const need = entries.reduce((m, e) => Math.max(m, e.offset + e.byteLength), dataStart);
    if (need > size) {
      throw new UserError(`${base} is truncated: ${size} bytes, its header describes ${need}`, { hint: 'download the file again' });
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/**
 * Streams a tensor's bytes in chunks of whole elements (a multiple of `align` elements, so a
 * q8_0 block or a row never straddles two chunks when `align` is the row length).
 */
export async function* readTensorChunks(entry: TensorEntry, chunkBytes = 8 << 20, alignElements = 1): AsyncGenerator<Buffer> {
  const unit = SOURCE_BYTES[entry.dtype] * alignElements;
  const step = Math.max(unit, Math.floor(chunkBytes / unit) * unit);
  const fh = await fsp.open(entry.file, 'r');
  try {
    for (let done = 0; done < entry.byteLength; ) {
      const len = Math.min(step, entry.byteLength - done);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, entry.offset + done);
      if (bytesRead !== len) throw new UserError(`${path.basename(entry.file)} is truncated (reading ${entry.name})`);
      done += len;
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

export async function readTensorBytes(entry: TensorEntry): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of readTensorChunks(entry)) parts.push(c);
  return Buffer.concat(parts);
}

// ---- writing (used by the synthetic checkpoint generator and tests) ----

export interface TensorSource {
  readonly name: string;
  readonly dtype: SourceDType;
  readonly shape: readonly number[];
  /** Yields the tensor's bytes, in order, in any chunk sizes. */
  readonly data: () => Iterable<Buffer> | AsyncIterable<Buffer>;
}

/** The header bytes safetensors' own writer produces: compact JSON, `__metadata__` first, space-padded to 8. */
export function safetensorsHeader(tensors: readonly TensorSource[], metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    const len = elementCount(t.shape) * SOURCE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + len] };
    off += len;
  }
  let json = JSON.stringify(header);
  const padded = Math.ceil((8 + Buffer.byteLength(json)) / 8) * 8 - 8;
  json = json.padEnd(padded - (Buffer.byteLength(json) - json.length), ' ');
  const body = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + body.length);
  out.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(out, 8);
  return out;
}

/** Writes tensors in the order given (callers sort by name, as safetensors does), streaming. */
export async function writeSafetensors(file: string, tensors: readonly TensorSource[]): Promise<number> {
  const out = fs.createWriteStream(file);
  let failure: Error | undefined;
  out.on('error', (err) => (failure = err));
  const write = async (b: Buffer) => {
    if (failure) throw failure;
    if (!out.write(b)) await new Promise<void>((resolve) => out.once('drain', resolve));
    if (failure) throw failure;
  };
  let total = 0;
  try {
    await write(safetensorsHeader(tensors));
    for (const t of tensors) {
      const want = elementCount(t.shape) * SOURCE_BYTES[t.dtype];
      let got = 0;
      for await (const chunk of t.data()) {
        got += chunk.length;
        await write(chunk);
      }
      if (got !== want) throw new Error(`tensor ${t.name}: wrote ${got} bytes, expected ${want}`);
      total += got;
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  return total;
}
