import wavefile from 'wavefile';

/** A sum of sines, amplitude `amp` each, `seconds` long at `rate` — a band-limited test tone. */
export function tones(freqs: number[], seconds: number, rate: number, amp = 0.2): Float64Array {
  const n = Math.round(seconds * rate);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const f of freqs) v += amp * Math.sin((2 * Math.PI * f * i) / rate + f);
    out[i] = v;
  }
  return out;
}

export type Depth = '8' | '16' | '24' | '32' | '32f';

/** Encodes float samples (channels × frames, in [-1, 1]) as a WAV file of the given depth. */
export function wavBytes(channels: Float64Array[], rate: number, depth: Depth): Uint8Array {
  const scaled = channels.map((ch) => {
    if (depth === '32f') return Array.from(ch);
    if (depth === '8') return Array.from(ch, (x) => Math.max(0, Math.min(255, Math.round(x * 128 + 128))));
    const full = { '16': 32768, '24': 8388608, '32': 2147483648 }[depth];
    return Array.from(ch, (x) => Math.max(-full, Math.min(full - 1, Math.round(x * full))));
  });
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels.length, rate, depth, channels.length === 1 ? scaled[0] : scaled);
  return wav.toBuffer();
}

export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}
