import type { Cue } from '../transcript/cue.js';
import type { WindowResult } from '../transcript/window-result.js';

/** Everything the writers need about one transcribed input. */
export interface Transcript {
  /** The input as the user named it ('-' for stdin). */
  readonly input: string;
  readonly durationSeconds: number;
  /** The language of most of the speech, or null when nothing was heard. */
  readonly language: string | null;
  /** The model that produced it (alias or file names). */
  readonly model: string;
  readonly windows: readonly WindowResult[];
  readonly cues: readonly Cue[];
  /** Audio streams the input has (ffmpeg decodes only: 1 otherwise). */
  readonly audioStreams?: number;
}
