/**
 * Write errors on stdout and stderr: a reader that went away (`-o - | head -1`, EPIPE) or a full
 * device (`> /dev/full`, ENOSPC). Node reports them as 'error' events on the stream, and with no
 * listener that is an uncaught exception with a stack trace. Here the run ends instead, with one
 * line and exit 1, through process.exit so the exit hook still kills children and removes temp
 * files (src/util/cleanup.ts).
 */
import { EXIT } from '../errors.js';

function reason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EPIPE':
      return 'the reading end of the pipe was closed';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EBADF':
      return 'it is closed';
    default:
      return err.message;
  }
}

let watching = false;

/** Once per process; the listeners stay for its whole life (a write can fail after main returns). */
export function watchStdStreams(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    try {
      process.stderr.write(`qwen3asr: cannot write to stdout: ${reason(err)}\n`);
    } catch {
      // stderr is gone too: the exit code still tells
    }
    process.exit(EXIT.failure);
  });
  // nowhere left to say anything: exit 1 is the message
  process.stderr.on('error', () => process.exit(EXIT.failure));
}
