import cliProgress from 'cli-progress';
import type { LogLevel } from '../util/log.js';

/** Byte progress of one download: what the downloader reports, nothing about how it is shown. */
export interface DownloadProgress {
  /** A response started: `start` bytes already on disk, `total` expected (null if unknown). */
  begin(start: number, total: number | null): void;
  add(bytes: number): void;
  stop(): void;
}

export const NO_DOWNLOAD_PROGRESS: DownloadProgress = { begin: () => {}, add: () => {}, stop: () => {} };

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** A bar with bytes, speed and ETA on stderr; only on a terminal and when not quiet. */
export function createDownloadProgress(label: string, level: LogLevel, stream: NodeJS.WriteStream = process.stderr): DownloadProgress {
  if (level === 'quiet' || !stream.isTTY) return NO_DOWNLOAD_PROGRESS;
  let bar: cliProgress.SingleBar | null = null;
  let done = 0;
  let total = 0;
  // Speed counts only this session's bytes: resumed bytes arrived at no cost.
  let sessionStart = 0;
  let sessionBytes = 0;
  const payload = () => {
    const secs = (Date.now() - sessionStart) / 1000;
    const speed = secs > 0.2 ? sessionBytes / secs : 0;
    return { bytes: `${formatBytes(done)}/${total > 0 ? formatBytes(total) : '?'}`, speed: speed > 0 ? `${formatBytes(Math.round(speed))}/s` : '-' };
  };
  return {
    begin(start, t) {
      done = start;
      total = t ?? 0;
      sessionStart = Date.now();
      sessionBytes = 0;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${label} [{bar}] {percentage}% | {bytes} | {speed} | ETA {eta_formatted}`,
            barCompleteChar: '=',
            barIncompleteChar: ' ',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 64,
            fps: 5,
          },
          cliProgress.Presets.legacy,
        );
        bar.start(Math.max(total, 1), done, payload());
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload());
      }
    },
    add(bytes) {
      done += bytes;
      sessionBytes += bytes;
      bar?.update(done, payload());
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
