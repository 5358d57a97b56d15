import fs from 'node:fs';
import { SAMPLE_RATE } from '../../audio/audio.js';

/**
 * A 32-bit float mono WAV of the samples: float keeps exactly what was decoded (16-bit would
 * requantise), and llama.cpp's audio loader reads it natively.
 */
export function floatWavBytes(samples: Float32Array): Buffer {
  const dataBytes = samples.length * 4;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(3, 20); // WAVE_FORMAT_IEEE_FLOAT
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * 4, 28); // byte rate
  header.writeUInt16LE(4, 32); // block align
  header.writeUInt16LE(32, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, dataBytes)]);
}

export function writeFloatWav(path: string, samples: Float32Array): void {
  fs.writeFileSync(path, floatWavBytes(samples));
}
