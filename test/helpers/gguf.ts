/**
 * A minimal GGUF v3 writer for tests: metadata, tensor infos, and zero-filled tensor data of the
 * right length. Enough for the header reader and the pair validation; nothing a model could run.
 */
export type MetaValue = string | number | boolean | readonly string[];

export interface TensorSpec {
  readonly name: string;
  /** ggml order: ne[0] first. */
  readonly shape: readonly number[];
  /** ggml type id; 0 = F32, 1 = F16, 8 = Q8_0 (see tensor-size.ts). */
  readonly type?: number;
}

const TYPE_BYTES: Record<number, [number, number]> = { 0: [1, 4], 1: [1, 2], 8: [32, 34], 12: [256, 144] };

function tensorBytes(t: TensorSpec): number {
  const [per, bytes] = TYPE_BYTES[t.type ?? 0] ?? [1, 1];
  return (t.shape[0] / per) * bytes * t.shape.slice(1).reduce((a, b) => a * b, 1);
}

class Out {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export function ggufBytes(metadata: Record<string, MetaValue>, tensors: readonly TensorSpec[], alignment = 32): Buffer {
  const o = new Out();
  o.u32(0x46554747);
  o.u32(3);
  o.u64(tensors.length);
  o.u64(Object.keys(metadata).length);
  for (const [k, v] of Object.entries(metadata)) {
    o.str(k);
    if (typeof v === 'string') {
      o.u32(8);
      o.str(v);
    } else if (typeof v === 'object') {
      o.u32(9);
      o.u32(8);
      o.u64(v.length);
      for (const item of v) o.str(item);
    } else if (typeof v === 'boolean') {
      o.u32(7);
      o.push(Buffer.from([v ? 1 : 0]));
    } else {
      o.u32(4);
      o.u32(v);
    }
  }
  let offset = 0;
  for (const t of tensors) {
    o.str(t.name);
    o.u32(t.shape.length);
    for (const d of t.shape) o.u64(d);
    o.u32(t.type ?? 0);
    o.u64(offset);
    offset += Math.ceil(tensorBytes(t) / alignment) * alignment;
  }
  const pad = (alignment - (o.length % alignment)) % alignment;
  o.push(Buffer.alloc(pad));
  // Data: zeros, except a recognisable pattern so byte-identity checks mean something.
  const data = Buffer.alloc(offset);
  for (let i = 0; i < data.length; i += 97) data[i] = (i / 97) & 0xff;
  o.push(data);
  return o.done();
}

export function textGguf(opts: { width?: number; arch?: string; rows?: number; tokens?: readonly string[]; meta?: Record<string, MetaValue> } = {}): Buffer {
  const width = opts.width ?? 64;
  const arch = opts.arch ?? 'qwen3';
  const meta: Record<string, MetaValue> = { 'general.architecture': arch, [`${arch}.embedding_length`]: width, ...opts.meta };
  if (opts.tokens) meta['tokenizer.ggml.tokens'] = opts.tokens;
  return ggufBytes(meta, [{ name: 'token_embd.weight', shape: [width, opts.rows ?? 64] }]);
}

export function mmprojGguf(opts: { outWidth?: number; projector?: string; vision?: boolean } = {}): Buffer {
  const outWidth = opts.outWidth ?? 64;
  if (opts.vision) {
    return ggufBytes(
      { 'general.architecture': 'clip', 'clip.has_vision_encoder': true, 'clip.projector_type': 'qwen2vl_merger' },
      [{ name: 'mm.0.weight', shape: [32, outWidth] }],
    );
  }
  return ggufBytes(
    { 'general.architecture': 'clip', 'clip.has_audio_encoder': true, 'clip.audio.projector_type': opts.projector ?? 'qwen3asr', 'clip.audio.n_window_infer': 800 },
    [{ name: 'mm.a.mlp.2.weight', shape: [32, outWidth] }],
  );
}
