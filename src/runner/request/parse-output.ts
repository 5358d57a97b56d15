import { ASR_TEXT_TAG } from './prompt.js';
import { normaliseLanguageName, type Language } from './languages.js';

export interface ParsedOutput {
  /** The language the model named; null for `language None` or when it named none. */
  readonly language: string | null;
  readonly text: string;
}

/**
 * Reads the model's answer the way the official `parse_asr_output` does: with a forced language
 * the whole output is the transcript; otherwise the part before the first `<asr_text>` carries
 * `language X` (or `language None` for no speech) and the part after it is the transcript.
 */
export function parseOutput(raw: string, forced: Language | null): ParsedOutput {
  const s = stripChatMarkers(raw).trim();
  if (forced) return { language: forced, text: cleanTranscript(s) };
  const at = s.indexOf(ASR_TEXT_TAG);
  if (at < 0) return { language: null, text: cleanTranscript(s) };
  const head = s.slice(0, at);
  const text = cleanTranscript(s.slice(at + ASR_TEXT_TAG.length));
  if (/language none/i.test(head)) return { language: null, text };
  const line = head.split('\n').map((l) => l.trim()).find((l) => l.toLowerCase().startsWith('language '));
  return { language: line ? normaliseLanguageName(line.slice('language '.length)) : null, text };
}

/** Chat markers never belong in a transcript, should a model print one. */
function stripChatMarkers(s: string): string {
  return s.replace(/<\|(im_start|im_end|endoftext|audio_start|audio_end|audio_pad)\|>/g, '');
}

/**
 * A degenerate decode (a loop broken by the repetition penalty) can restart the answer mid-text:
 * a second `language X<asr_text>` is protocol, not speech, and control characters are never text.
 */
function cleanTranscript(s: string): string {
  return s
    .replace(/(?:language\s+[\p{L}]+\s*)?<asr_text>/gu, ' ')
    .replace(/[\p{Cc}]/gu, (c) => (c === '\n' || c === '\t' ? c : ''))
    .replace(/ {2,}/g, ' ')
    .trim();
}
