import { renderJson } from './json.js';
import { renderSrt } from './srt.js';
import { renderTxt } from './txt.js';
import { renderVtt, type VttOptions } from './vtt.js';
import type { Transcript } from './transcript.js';

export const FORMATS = ['txt', 'srt', 'vtt', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** How the formats may vary: --highlight-words (vtt). */
export type RenderOptions = VttOptions;

export function render(format: Format, t: Transcript, options: RenderOptions = {}): string {
  switch (format) {
    case 'txt':
      return renderTxt(t.cues);
    case 'srt':
      return renderSrt(t.cues);
    case 'vtt':
      return renderVtt(t.cues, options);
    case 'json':
      return renderJson(t);
  }
}

export type { Transcript } from './transcript.js';
