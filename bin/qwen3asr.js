#!/usr/bin/env node
// Thin launcher: all logic lives in the compiled TypeScript under dist/.
import { main } from '../dist/cli.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() turns every known failure into an exit code; this is the last resort.
    process.stderr.write(`qwen3asr: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
