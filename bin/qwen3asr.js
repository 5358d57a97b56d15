#!/usr/bin/env node
// Thin launcher: all logic lives in the compiled TypeScript under dist/.
import { main } from '../dist/cli.js';

// A promise rejected with nobody listening is a bug of ours; say so in one line rather than with
// Node's stack dump, and exit through process.exit so the 'exit' hook still kills children and
// removes temp files.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`qwen3asr: internal error: ${reason?.message ?? reason} (please report it; --verbose shows more)\n`);
  if (process.argv.includes('--verbose') || process.argv.includes('-v')) process.stderr.write(`${reason?.stack ?? ''}\n`);
  process.exit(1);
});

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
