import cliProgress from 'cli-progress';
import type { LogLevel } from '../util/log.js';

/** Per-input progress: windows done / total, audio minutes done, real-time factor, ETA. */
export interface Progress {
  advance(audioSeconds: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { advance: () => {}, stop: () => {} };

/** A bar on stderr, only when stderr is a terminal and the run is not quiet. */
export function createProgress(label: string, totalWindows: number, level: LogLevel, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (level === 'quiet' || !stream.isTTY || totalWindows === 0) return NO_PROGRESS;
  const started = Date.now();
  let audioDone = 0;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} windows | {audio} min of audio | RTF {rtf} | ETA {eta_formatted}`,
      barCompleteChar: '=',
      barIncompleteChar: ' ',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 8,
      noTTYOutput: false,
      formatValue: (v, _o, type) => String(v),
    },
    cliProgress.Presets.legacy,
  );
  bar.start(totalWindows, 0, { audio: '0.0', rtf: '-' });
  return {
    advance(audioSeconds) {
      audioDone += audioSeconds;
      const rtf = audioDone > 0 ? ((Date.now() - started) / 1000 / audioDone).toFixed(2) : '-';
      bar.increment(1, { audio: (audioDone / 60).toFixed(1), rtf });
    },
    stop() {
      bar.stop();
    },
  };
}
