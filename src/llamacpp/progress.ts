import ora, { type Ora } from 'ora';

export type { LogLevel } from '../util/log.js';
import type { LogLevel } from '../util/log.js';

/**
 * Build progress on stderr: an ora spinner naming the stage and the elapsed time on a TTY; on
 * anything else (CI logs, pipes) one line per stage and per 10 % of compiling. `quiet` prints
 * nothing; `verbose` also prints the commands run.
 */
export interface Progress {
  stage(text: string): void;
  /** The detail after the stage name: "[123/456]". */
  detail(text: string, fraction?: number): void;
  info(line: string): void;
  warn(line: string): void;
  verbose(line: string): void;
  /** Stops the spinner (success or not); later calls print plain lines. */
  stop(finalLine?: string): void;
}

export function createProgress(level: LogLevel, stream: NodeJS.WriteStream = process.stderr, prefix = 'qwen3asr: '): Progress {
  // A pty without a size (columns 0) makes ora's line clearing loop: plain lines there.
  const tty = Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && level !== 'quiet' && !process.env.CI;
  let spinner: Ora | null = null;
  let stageText = '';
  let detailText = '';
  let stageStart = Date.now();
  let lastPlainDetail = '';
  let timer: NodeJS.Timeout | null = null;
  const write = (s: string) => {
    if (level === 'quiet') return;
    if (spinner?.isSpinning) {
      spinner.clear();
      stream.write(`${s}\n`);
      spinner.render();
    } else {
      stream.write(`${s}\n`);
    }
  };
  const render = () => {
    if (!spinner) return;
    const secs = Math.round((Date.now() - stageStart) / 1000);
    spinner.text = `${stageText}${detailText ? ` ${detailText}` : ''} (${formatElapsed(secs)})`;
  };
  return {
    stage(text) {
      stageText = text;
      detailText = '';
      lastPlainDetail = '';
      stageStart = Date.now();
      if (level === 'quiet') return;
      if (tty) {
        if (!spinner) {
          spinner = ora({ stream, text, discardStdin: false }).start();
          timer = setInterval(render, 1000);
          timer.unref();
        }
        render();
      } else {
        stream.write(`${prefix}${text}…\n`);
      }
    },
    detail(text, fraction) {
      detailText = text;
      if (level === 'quiet') return;
      if (tty) render();
      else {
        const step = fraction === undefined ? text : String(Math.floor(fraction * 10));
        if (step === lastPlainDetail) return;
        lastPlainDetail = step;
        stream.write(`${prefix}${stageText} ${text}\n`);
      }
    },
    info: (line) => write(`${prefix}${line}`),
    warn: (line) => {
      if (level === 'quiet') return;
      if (spinner?.isSpinning) {
        spinner.clear();
        stream.write(`${prefix}warning: ${line}\n`);
        spinner.render();
      } else stream.write(`${prefix}warning: ${line}\n`);
    },
    verbose: (line) => {
      if (level === 'verbose') write(`${prefix}${line}`);
    },
    stop(finalLine) {
      if (timer) clearInterval(timer);
      timer = null;
      if (spinner) {
        spinner.stop();
        spinner = null;
      }
      if (finalLine) write(`${prefix}${finalLine}`);
    },
  };
}

export function formatElapsed(secs: number): string {
  if (secs < 60) return `${secs}s`;
  return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s`;
}

/** Parses a progress marker from cmake/make (`[ 42%]`) or ninja (`[12/345]`). */
export function parseBuildProgress(line: string): { text: string; linking: boolean; fraction: number } | null {
  const ninja = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line);
  if (ninja) {
    const n = Number(ninja[1]);
    const m = Number(ninja[2]);
    return { text: `[${n}/${m}]`, linking: /Linking/.test(ninja[3]), fraction: m ? n / m : 0 };
  }
  const make = /^\[\s*(\d+)%\]\s*(.*)$/.exec(line);
  if (make) {
    const pct = Number(make[1]);
    return { text: `[${pct}%]`, linking: /Linking/.test(make[2]), fraction: pct / 100 };
  }
  return null;
}
