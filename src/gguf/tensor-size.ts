import type { GgufHeader, GgufTensorInfo } from './read-header.js';

/**
 * ggml tensor types by id: elements per block and bytes per block. Only the types a Qwen3-ASR
 * file can plausibly hold are listed; a tensor of any other type makes its size unknown, and the
 * truncation check is then skipped rather than guessed.
 */
const BLOCKS: ReadonlyMap<number, readonly [elements: number, bytes: number]> = new Map([
  [0, [1, 4]], // F32
  [1, [1, 2]], // F16
  [2, [32, 18]], // Q4_0
  [3, [32, 20]], // Q4_1
  [6, [32, 22]], // Q5_0
  [7, [32, 24]], // Q5_1
  [8, [32, 34]], // Q8_0
  [9, [32, 36]], // Q8_1
  [10, [256, 84]], // Q2_K
  [11, [256, 110]], // Q3_K
  [12, [256, 144]], // Q4_K
  [13, [256, 176]], // Q5_K
  [14, [256, 210]], // Q6_K
  [15, [256, 292]], // Q8_K
  [16, [256, 66]], // IQ2_XXS
  [17, [256, 74]], // IQ2_XS
  [18, [256, 98]], // IQ3_XXS
  [19, [256, 50]], // IQ1_S
  [20, [32, 18]], // IQ4_NL
  [21, [256, 110]], // IQ3_S
  [22, [256, 82]], // IQ2_S
  [23, [256, 136]], // IQ4_XS
  [24, [1, 1]], // I8
  [25, [1, 2]], // I16
  [26, [1, 4]], // I32
  [27, [1, 8]], // I64
  [28, [1, 8]], // F64
  [29, [256, 56]], // IQ1_M
  [30, [1, 2]], // BF16
]);

/** [elements per block, bytes per block] of a ggml type id, or null when it is not listed. */
export function ggmlBlock(type: number): readonly [elements: number, bytes: number] | null {
  return BLOCKS.get(type) ?? null;
}

/** Bytes of one tensor's data, or null when its type is not one we know the layout of. */
export function tensorBytes(t: GgufTensorInfo): bigint | null {
  const block = BLOCKS.get(t.type);
  if (!block) return null;
  const [perBlock, blockBytes] = block;
  const [ne0 = 1, ...rest] = t.shape;
  if (ne0 % perBlock !== 0) return null;
  let n = BigInt(ne0 / perBlock) * BigInt(blockBytes);
  for (const d of rest) n *= BigInt(d);
  return n;
}

/**
 * The smallest size the file must have to hold all its tensors: data offset + the end of the
 * furthest tensor. Null when a tensor's type is unknown (then no size can be promised).
 */
export function expectedMinimumSize(h: GgufHeader): bigint | null {
  let end = 0n;
  for (const t of h.tensors) {
    const bytes = tensorBytes(t);
    if (bytes === null) return null;
    const e = t.offset + bytes;
    if (e > end) end = e;
  }
  return h.dataOffset + end;
}
