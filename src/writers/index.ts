import { renderJson } from './json.js';
import { renderSrt } from './srt.js';
import { renderTxt } from './txt.js';
import { renderVtt } from './vtt.js';
import type { Transcript } from './transcript.js';

export const FORMATS = ['txt', 'srt', 'vtt', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function render(format: Format, t: Transcript): string {
  switch (format) {
    case 'txt':
      return renderTxt(t.cues);
    case 'srt':
      return renderSrt(t.cues);
    case 'vtt':
      return renderVtt(t.cues);
    case 'json':
      return renderJson(t);
  }
}

export type { Transcript } from './transcript.js';
