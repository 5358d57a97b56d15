/** Messages for people go to stderr, so stdout stays clean for transcripts and --json. */
export type LogLevel = 'quiet' | 'normal' | 'verbose';

export interface Log {
  readonly level: LogLevel;
  info(message: string): void;
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLog(level: LogLevel, write: (s: string) => void = (s) => process.stderr.write(s)): Log {
  return {
    level,
    info: (m) => {
      if (level !== 'quiet') write(`${m}\n`);
    },
    debug: (m) => {
      if (level === 'verbose') write(`${m}\n`);
    },
    warn: (m) => {
      if (level !== 'quiet') write(`qwen3asr: warning: ${m}\n`);
    },
    error: (m) => write(`qwen3asr: ${m}\n`),
  };
}
