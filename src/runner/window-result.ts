import type { Window } from '../windows/window.js';

/** What the model made of one window. */
export interface WindowResult {
  readonly window: Window;
  /** The language the model named ('English', ...), or null where it said none. */
  readonly language: string | null;
  /** The transcript of the window, trimmed; '' when the model heard no speech. */
  readonly text: string;
  /** Wall time of the model call, in milliseconds. */
  readonly ms: number;
}
