import cliProgress from 'cli-progress';
import ora from 'ora';
import type { LogLevel } from '../util/log.js';

/** Per-input progress: windows done / total, audio minutes done, real-time factor, ETA. */
export interface Progress {
  advance(audioSeconds: number): void;
  stop(): void;
}

/** Where the input stands in a batch, for the bar's label and the batch's ETA. */
export interface BatchPosition {
  /** 1-based number of this input, and how many there are. */
  readonly file: number;
  readonly files: number;
  /** Wall seconds the earlier inputs of the batch took, how many were transcribed, and their audio. */
  readonly elapsedSeconds: number;
  readonly done: number;
  readonly audioSecondsDone: number;
}

const NO_PROGRESS: Progress = { advance: () => {}, stop: () => {} };

/** Bars and spinners only on a terminal that has a size (a pty without one makes them loop), and never when quiet. */
function interactive(level: LogLevel, stream: NodeJS.WriteStream): boolean {
  return level !== 'quiet' && Boolean(stream.isTTY) && (stream.columns ?? 0) > 0;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '…';
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * A bar on stderr. Until the first window is done there is nothing to base an ETA on: it says
 * "ETA …" rather than 0s. In a batch the label says which file of how many, and once a file is
 * done, about how long the rest of the batch takes (at the pace so far, per file).
 */
export function createProgress(label: string, totalWindows: number, level: LogLevel, batch: BatchPosition | null = null, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!interactive(level, stream) || totalWindows === 0) return NO_PROGRESS;
  const started = Date.now();
  let audioDone = 0;
  let windowsDone = 0;
  const prefix = batch && batch.files > 1 ? `[${batch.file}/${batch.files}] ` : '';
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${prefix}${label} [{bar}] {value}/{total} windows | {audio} min of audio | RTF {rtf} | ETA {left}{batch}`,
      barCompleteChar: '=',
      barIncompleteChar: ' ',
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: false,
      formatValue: (v) => String(v),
    },
    cliProgress.Presets.legacy,
  );
  // this file's time left (null: not known yet, the file then counts as a whole one), plus the
  // files after it at the pace of the files before
  const batchEta = (fileSecondsLeft: number | null): string => {
    if (!batch || batch.files <= 1 || batch.done === 0) return '';
    const perFile = batch.elapsedSeconds / batch.done;
    const audio = (batch.audioSecondsDone + audioDone) / 60;
    return ` | batch: ${audio.toFixed(1)} min of audio done, ETA ${formatEta((fileSecondsLeft ?? perFile) + perFile * (batch.files - batch.file))}`;
  };
  bar.start(totalWindows, 0, { audio: '0.0', rtf: '-', left: '…', batch: batchEta(null) });
  return {
    advance(audioSeconds) {
      audioDone += audioSeconds;
      windowsDone += 1;
      const elapsed = (Date.now() - started) / 1000;
      const rtf = audioDone > 0 ? (elapsed / audioDone).toFixed(2) : '-';
      const left = (elapsed / windowsDone) * (totalWindows - windowsDone);
      bar.increment(1, { audio: (audioDone / 60).toFixed(1), rtf, left: formatEta(left), batch: batchEta(left) });
    },
    stop() {
      bar.stop();
    },
  };
}

/** A spinner while the model loads (the first file of a run waits for it), on a terminal only. */
export function modelSpinner(text: string, level: LogLevel, stream: NodeJS.WriteStream = process.stderr): { stop(): void } {
  if (!interactive(level, stream)) return { stop: () => {} };
  const spinner = ora({ stream, text, discardStdin: false }).start();
  return { stop: () => spinner.stop() };
}
