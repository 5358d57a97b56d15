import fs from 'node:fs';

/**
 * Reads a GGUF file's header: its key/value metadata and tensor table, without the tensor data.
 * Large arrays (a vocabulary's 150k tokens) are skipped and only their length kept, so reading
 * the header of a multi-gigabyte model touches a few megabytes.
 */
export type GgufValue = number | bigint | boolean | string | { readonly arrayLength: number; readonly items?: readonly GgufValue[] };

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: ne[0] is the fastest-moving dimension. */
  readonly shape: readonly number[];
  readonly type: number;
  readonly offset: bigint;
}

export interface GgufHeader {
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** Where tensor data starts: the header's end rounded up to `general.alignment` (default 32). */
  readonly dataOffset: bigint;
  /** The file's size on disk when the header was read. */
  readonly fileSize: number;
}

const DEFAULT_ALIGNMENT = 32;

export class GgufFormatError extends Error {}

/** Arrays up to this length are read in full (hparams arrays); longer ones are skipped. */
const MAX_KEPT_ARRAY = 64;

enum T {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
}
const FIXED_SIZE: Partial<Record<T, number>> = {
  [T.U8]: 1, [T.I8]: 1, [T.BOOL]: 1, [T.U16]: 2, [T.I16]: 2, [T.U32]: 4, [T.I32]: 4, [T.F32]: 4, [T.U64]: 8, [T.I64]: 8, [T.F64]: 8,
};

class Reader {
  private buf = Buffer.alloc(0);
  private pos = 0; // position of buf[0] in the file
  private at = 0; // read cursor within buf

  /** The file position of the next byte to be read. */
  get offset(): number {
    return this.pos + this.at;
  }

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  private need(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const filePos = this.pos + this.at;
    if (filePos + n > this.size) throw new GgufFormatError('the file ends inside its header (truncated?)');
    const len = Math.max(n, 1 << 20);
    const next = Buffer.alloc(Math.min(len, this.size - filePos));
    fs.readSync(this.fd, next, 0, next.length, filePos);
    this.buf = next;
    this.pos = filePos;
    this.at = 0;
  }

  skip(n: number): void {
    while (n > 0) {
      const step = Math.min(n, 1 << 20);
      this.need(step);
      this.at += step;
      n -= step;
    }
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.at);
    this.at += 8;
    return v;
  }

  count(what: string): number {
    const v = this.u64();
    if (v > BigInt(this.size)) throw new GgufFormatError(`implausible ${what} count ${v}`);
    return Number(v);
  }

  string(): string {
    const n = this.count('string length');
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  scalar(t: T): GgufValue {
    const size = FIXED_SIZE[t];
    if (size === undefined) throw new GgufFormatError(`unknown value type ${t}`);
    this.need(size);
    const b = this.buf;
    const o = this.at;
    this.at += size;
    switch (t) {
      case T.U8: return b.readUInt8(o);
      case T.I8: return b.readInt8(o);
      case T.BOOL: return b.readUInt8(o) !== 0;
      case T.U16: return b.readUInt16LE(o);
      case T.I16: return b.readInt16LE(o);
      case T.U32: return b.readUInt32LE(o);
      case T.I32: return b.readInt32LE(o);
      case T.F32: return b.readFloatLE(o);
      case T.U64: return b.readBigUInt64LE(o);
      case T.I64: return b.readBigInt64LE(o);
      default: return b.readDoubleLE(o);
    }
  }

  value(t: T, keepArray = false): GgufValue {
    if (t === T.STRING) return this.string();
    if (t !== T.ARRAY) return this.scalar(t);
    const itemType = this.u32() as T;
    const n = this.count('array length');
    if (n <= MAX_KEPT_ARRAY || keepArray) {
      const items: GgufValue[] = [];
      for (let i = 0; i < n; i++) items.push(this.value(itemType));
      return { arrayLength: n, items };
    }
    const fixed = FIXED_SIZE[itemType];
    if (fixed !== undefined) this.skip(fixed * n);
    else for (let i = 0; i < n; i++) this.value(itemType);
    return { arrayLength: n };
  }
}

export interface ReadHeaderOptions {
  /** Keys whose arrays are kept whole however long, e.g. `tokenizer.ggml.tokens` to look tokens up. */
  readonly keepArrays?: readonly string[];
}

export function readGgufHeader(file: string, opts: ReadHeaderOptions = {}): GgufHeader {
  const keep = new Set(opts.keepArrays ?? []);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const r = new Reader(fd, size);
    if (size < 24) throw new GgufFormatError('too short to be a GGUF file');
    const magic = r.u32();
    if (magic !== 0x46554747) throw new GgufFormatError('not a GGUF file (wrong magic)');
    const version = r.u32();
    if (version < 2 || version > 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
    const nTensors = r.count('tensor');
    const nKv = r.count('metadata');
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < nKv; i++) {
      const key = r.string();
      metadata.set(key, r.value(r.u32() as T, keep.has(key)));
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = r.string();
      const dims = r.u32();
      if (dims > 8) throw new GgufFormatError(`tensor ${name} has ${dims} dimensions`);
      const shape: number[] = [];
      for (let d = 0; d < dims; d++) shape.push(Number(r.u64()));
      tensors.push({ name, shape, type: r.u32(), offset: r.u64() });
    }
    const alignValue = metadata.get('general.alignment');
    const alignment = typeof alignValue === 'number' && alignValue > 0 ? alignValue : DEFAULT_ALIGNMENT;
    const end = BigInt(r.offset);
    const a = BigInt(alignment);
    const dataOffset = ((end + a - 1n) / a) * a;
    return { version, metadata, tensors, dataOffset, fileSize: size };
  } finally {
    fs.closeSync(fd);
  }
}

export function metaNumber(h: GgufHeader, key: string): number | null {
  const v = h.metadata.get(key);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
}

export function metaString(h: GgufHeader, key: string): string | null {
  const v = h.metadata.get(key);
  return typeof v === 'string' ? v : null;
}
