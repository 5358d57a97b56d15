import path from 'node:path';
import type { Format } from '../writers/index.js';
import { STDIN } from '../audio/decode.js';
import { UsageError } from '../errors.js';

/** Where each format of one input goes: `<dir>/<input name without extension>.<format>`. */
export function outputPathsFor(input: string, formats: readonly Format[], outputDir: string | null): Map<Format, string> {
  const stem = input === STDIN ? 'stdin' : path.parse(input).name;
  const dir = outputDir ?? (input === STDIN ? '.' : path.dirname(input));
  return new Map(formats.map((f) => [f, path.join(dir, `${stem}.${f}`)]));
}

/** Two inputs that would write the same output file are a usage error, caught before any work. */
export function checkDistinctOutputs(inputs: readonly string[], formats: readonly Format[], outputDir: string | null): void {
  const owner = new Map<string, string>();
  for (const input of inputs) {
    for (const p of outputPathsFor(input, formats, outputDir).values()) {
      const key = path.resolve(p);
      const other = owner.get(key);
      if (other !== undefined && other !== input) {
        throw new UsageError(`${other} and ${input} would both write ${p}`, 'rename one, or transcribe them into different folders with -o');
      }
      owner.set(key, input);
    }
  }
}
