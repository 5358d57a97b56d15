/**
 * The few ggml tensor types this converter writes, with their on-disk layout, and the element
 * conversions between them. Conversions work on chunks so that no tensor is ever held whole.
 */

import { ggmlBlock } from '../gguf/tensor-size.js';

export type OutType = 'f32' | 'f16' | 'bf16' | 'q8_0';
export const OUT_TYPES: readonly OutType[] = ['f32', 'f16', 'bf16', 'q8_0'];

/** ggml_type ids (ggml.h). */
export const GGML_TYPE = { f32: 0, f16: 1, q8_0: 8, bf16: 30 } as const satisfies Record<OutType, number>;

/** llama_ftype ids written as general.file_type. */
export const FILE_TYPE = { f32: 0, f16: 1, q8_0: 7, bf16: 32 } as const satisfies Record<OutType, number>;

/** Source dtypes we can read from safetensors. */
export type SourceDType = 'F32' | 'F16' | 'BF16';
export const SOURCE_DTYPES: readonly SourceDType[] = ['F32', 'F16', 'BF16'];
export const SOURCE_BYTES: Record<SourceDType, number> = { F32: 4, F16: 2, BF16: 2 };

export const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

/** Bytes taken by `n` elements of `type`; block types need n to be a multiple of their block. */
export function byteSize(type: OutType, n: number): number {
  const [perBlock, blockBytes] = ggmlBlock(GGML_TYPE[type])!;
  if (n % perBlock !== 0) throw new Error(`${type} needs a multiple of ${perBlock} elements, got ${n}`);
  return (n / perBlock) * blockBytes;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** Round-to-nearest-even, NaN kept quiet. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** IEEE half, round-to-nearest-even; overflow goes to ±inf as numpy's astype does. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rest > half || (rest === half && (r & 1))) r += 1;
    return sign | r;
  }
  const rest = mant & 0x1fff;
  let r = (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1))) r += 1;
  return sign | r;
}

/** Decodes `src` (little-endian source dtype) into `out` as f32; returns the element count. */
export function decodeToF32(dtype: SourceDType, src: Buffer, out: Float32Array): number {
  const n = src.length / SOURCE_BYTES[dtype];
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = src.readFloatLE(i * 4);
  } else if (dtype === 'BF16') {
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) o32[i] = (src[2 * i] | (src[2 * i + 1] << 8)) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(src[2 * i] | (src[2 * i + 1] << 8));
  }
  return n;
}

/**
 * Converts one chunk of source bytes to the target type. Fast paths avoid the f32 detour where
 * the bits allow it (bf16→f32/bf16 and f16→f16 are exact re-encodings).
 */
export function convertChunk(dtype: SourceDType, src: Buffer, to: OutType, scratch: Float32Array): Buffer {
  const n = src.length / SOURCE_BYTES[dtype];
  if ((dtype === 'BF16' && to === 'bf16') || (dtype === 'F16' && to === 'f16') || (dtype === 'F32' && to === 'f32')) {
    return src;
  }
  if (dtype === 'BF16' && to === 'f16') return bf16ToF16(src);
  const vals = scratch.length >= n ? scratch : new Float32Array(n);
  decodeToF32(dtype, src, vals);
  return encodeF32(vals, n, to);
}

/**
 * bf16 → f16 straight on the bits: in f16's normal range the 7-bit mantissa widens exactly, so
 * only values outside it (tiny, huge, inf/NaN) take the rounding path through f32.
 */
function bf16ToF16(src: Buffer): Buffer {
  const n = src.length >> 1;
  const out = Buffer.allocUnsafe(src.length);
  for (let i = 0; i < n; i++) {
    const h = src[2 * i] | (src[2 * i + 1] << 8);
    const e = (h >> 7) & 0xff;
    let r: number;
    if (e >= 113 && e <= 142) r = (h & 0x8000) | ((e - 112) << 10) | ((h & 0x7f) << 3);
    else if ((h & 0x7fff) === 0) r = h & 0x8000;
    else r = f32ToF16(bf16ToF32(h));
    putU16(out, 2 * i, r);
  }
  return out;
}

/** Little-endian whatever the host, as GGUF and safetensors store it. */
export function putU16(out: Buffer, at: number, h: number): void {
  out[at] = h & 0xff;
  out[at + 1] = h >>> 8;
}

export function encodeF32(vals: Float32Array, n: number, to: OutType): Buffer {
  const out = Buffer.allocUnsafe(byteSize(to, n));
  switch (to) {
    case 'f32':
      Buffer.from(vals.buffer, vals.byteOffset, n * 4).copy(out);
      return out;
    case 'f16':
      for (let i = 0; i < n; i++) putU16(out, 2 * i, f32ToF16(vals[i]));
      return out;
    case 'bf16':
      for (let i = 0; i < n; i++) putU16(out, 2 * i, f32ToBf16(vals[i]));
      return out;
    case 'q8_0': {
      // ggml's reference quantizer: d = amax/127, q = round(x/d), d stored as f16; in float32 as
      // ggml-quants.c and gguf-py compute it, so the bytes equal llama.cpp's own converter's.
      let o = 0;
      for (let b = 0; b < n; b += Q8_0_BLOCK) {
        let amax = 0;
        for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(vals[b + i]));
        const d = Math.fround(amax / 127);
        const id = d ? Math.fround(1 / d) : 0;
        putU16(out, o, f32ToF16(d));
        for (let i = 0; i < Q8_0_BLOCK; i++) {
          const v = Math.fround(vals[b + i] * id);
          out.writeInt8(v < 0 ? -Math.round(-v) : Math.round(v), o + 2 + i);
        }
        o += Q8_0_BLOCK_BYTES;
      }
      return out;
    }
  }
}
