import { describe, expect, it } from 'vitest';
import { bf16ToF32, convertChunk, decodeToF32, encodeF32, f16ToF32, f32ToBf16, f32ToF16 } from '../src/convert/ggml-types.js';

describe('element conversions', () => {
  it('f32 → f16 rounds to nearest even, with subnormals and overflow', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // rounds up to inf
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -26)).toBe(0x0000);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f16ToF32(0x3555)).toBeCloseTo(0.333251953125, 12);
  });

  it('f32 → bf16 rounds to nearest even', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(bf16ToF32(f32ToBf16(3.140625))).toBe(3.140625);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
  });

  it('the direct bf16 → f16 path equals the route through f32 for every bf16 value', () => {
    const src = Buffer.alloc(65536 * 2);
    for (let i = 0; i < 65536; i++) src.writeUInt16LE(i, 2 * i);
    const fast = convertChunk('BF16', src, 'f16', new Float32Array(65536));
    const vals = new Float32Array(65536);
    decodeToF32('BF16', src, vals);
    const slow = encodeF32(vals, 65536, 'f16');
    for (let i = 0; i < 65536; i++) {
      const a = fast.readUInt16LE(2 * i);
      const b = slow.readUInt16LE(2 * i);
      const bothNaN = (a & 0x7c00) === 0x7c00 && a & 0x3ff && (b & 0x7c00) === 0x7c00 && b & 0x3ff;
      if (a !== b && !bothNaN) expect([i, a]).toEqual([i, b]);
    }
  });

  it('q8_0 stores an f16 scale and 32 rounded int8 per block', () => {
    const vals = Float32Array.from({ length: 32 }, (_, i) => (i - 16) / 4);
    const q = encodeF32(vals, 32, 'q8_0');
    expect(q.length).toBe(34);
    const d = f16ToF32(q.readUInt16LE(0));
    expect(d).toBeCloseTo(4 / 127, 4);
    for (let i = 0; i < 32; i++) expect(q.readInt8(2 + i) * d).toBeCloseTo(vals[i], 1);
  });
});
