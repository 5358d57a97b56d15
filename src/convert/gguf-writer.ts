import fs from 'node:fs';
import { GGML_TYPE, byteSize, type OutType } from './ggml-types.js';

/**
 * A streaming GGUF v3 writer. The header (metadata and the tensor-info table with offsets) is
 * computed up front from shapes and types, so tensor data can then be written one tensor at a
 * time, each padded to the alignment; nothing but the current chunk is ever in memory.
 */

export const GGUF_ALIGNMENT = 32;

const VT = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

export type MetaValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'u64'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; of: 'string'; value: readonly string[] }
  | { type: 'array'; of: 'i32' | 'u32' | 'f32'; value: readonly number[] };

export const meta = {
  u32: (value: number): MetaValue => ({ type: 'u32', value }),
  i32: (value: number): MetaValue => ({ type: 'i32', value }),
  f32: (value: number): MetaValue => ({ type: 'f32', value }),
  bool: (value: boolean): MetaValue => ({ type: 'bool', value }),
  str: (value: string): MetaValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): MetaValue => ({ type: 'array', of: 'string', value }),
  i32s: (value: readonly number[]): MetaValue => ({ type: 'array', of: 'i32', value }),
};

export interface TensorPlan {
  readonly name: string;
  /** ggml order: ne[0] (the contiguous dimension) first. */
  readonly dims: readonly number[];
  readonly type: OutType;
}

export interface GgufLayout {
  readonly header: Buffer;
  /** Byte size of each tensor's data (before alignment padding), in plan order. */
  readonly sizes: readonly number[];
  readonly totalBytes: number;
}

class ByteSink {
  private parts: Buffer[] = [];
  private fixed(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.parts.push(b);
  }
  u32(v: number) {
    this.fixed(4, (b) => b.writeUInt32LE(v >>> 0));
  }
  i32(v: number) {
    this.fixed(4, (b) => b.writeInt32LE(v));
  }
  u64(v: number) {
    this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(v)));
  }
  f32(v: number) {
    this.fixed(4, (b) => b.writeFloatLE(v));
  }
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.parts.push(b);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function writeValue(sink: ByteSink, v: MetaValue): void {
  sink.u32(VT[v.type]);
  switch (v.type) {
    case 'bool':
      return sink.u8(v.value ? 1 : 0);
    case 'string':
      return sink.str(v.value);
    case 'array':
      sink.u32(VT[v.of]);
      sink.u64(v.value.length);
      if (v.of === 'string') for (const s of v.value as readonly string[]) sink.str(s);
      else for (const n of v.value as readonly number[]) sink[v.of](n);
      return;
    default:
      return sink[v.type](v.value);
  }
}

const pad = (n: number) => (GGUF_ALIGNMENT - (n % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;

export function layoutGguf(metadata: ReadonlyMap<string, MetaValue>, tensors: readonly TensorPlan[]): GgufLayout {
  const sink = new ByteSink();
  sink.u32(0x46554747); // "GGUF"
  sink.u32(3);
  sink.u64(tensors.length);
  sink.u64(metadata.size);
  for (const [k, v] of metadata) {
    sink.str(k);
    writeValue(sink, v);
  }
  const sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    sink.str(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(GGML_TYPE[t.type]);
    sink.u64(offset);
    const size = byteSize(t.type, t.dims.reduce((a, b) => a * b, 1));
    sizes.push(size);
    offset += size + pad(size);
  }
  const head = sink.bytes();
  const header = Buffer.concat([head, Buffer.alloc(pad(head.length))]);
  return { header, sizes, totalBytes: header.length + offset };
}

/** Sequential writer over a file descriptor; checks every tensor gets exactly its planned bytes. */
export class GgufFileWriter {
  private fd: number;
  private index = 0;
  private written = 0;

  constructor(
    file: string,
    private readonly layout: GgufLayout,
    private readonly tensors: readonly TensorPlan[],
  ) {
    this.fd = fs.openSync(file, 'w');
    this.writeAll(layout.header);
  }

  private writeAll(b: Buffer): void {
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off);
  }

  /** Data for the current tensor, in as many calls as needed. */
  write(chunk: Buffer): void {
    const want = this.layout.sizes[this.index];
    if (this.written + chunk.length > want) throw new Error(`tensor ${this.tensors[this.index]?.name}: too much data`);
    this.writeAll(chunk);
    this.written += chunk.length;
  }

  /** Closes the current tensor: checks its size and pads to the alignment. */
  endTensor(): void {
    const want = this.layout.sizes[this.index];
    if (this.written !== want) throw new Error(`tensor ${this.tensors[this.index]?.name}: wrote ${this.written} of ${want} bytes`);
    const p = pad(want);
    if (p) this.writeAll(Buffer.alloc(p));
    this.index += 1;
    this.written = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    const complete = this.index === this.tensors.length;
    if (complete) fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
    if (!complete) throw new Error(`GGUF incomplete: ${this.index} of ${this.tensors.length} tensors written`);
  }

  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
