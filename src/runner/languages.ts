import { UsageError } from '../errors.js';

/**
 * The languages Qwen3-ASR names in its output (`language English<asr_text>…`), in the order of
 * the official `support_languages`, with the ISO codes its README gives them.
 */
export const LANGUAGES = [
  ['Chinese', 'zh'], ['English', 'en'], ['Cantonese', 'yue'], ['Arabic', 'ar'], ['German', 'de'],
  ['French', 'fr'], ['Spanish', 'es'], ['Portuguese', 'pt'], ['Indonesian', 'id'], ['Italian', 'it'],
  ['Korean', 'ko'], ['Russian', 'ru'], ['Thai', 'th'], ['Vietnamese', 'vi'], ['Japanese', 'ja'],
  ['Turkish', 'tr'], ['Hindi', 'hi'], ['Malay', 'ms'], ['Dutch', 'nl'], ['Swedish', 'sv'],
  ['Danish', 'da'], ['Finnish', 'fi'], ['Polish', 'pl'], ['Czech', 'cs'], ['Filipino', 'fil'],
  ['Persian', 'fa'], ['Greek', 'el'], ['Romanian', 'ro'], ['Hungarian', 'hu'], ['Macedonian', 'mk'],
] as const;

export type Language = (typeof LANGUAGES)[number][0];

/** Capital first letter, lower case after it: how the official toolkit normalises names. */
export function normaliseLanguageName(name: string): string {
  const t = name.trim();
  return t.charAt(0).toUpperCase() + t.slice(1).toLowerCase();
}

/** `English`, `english`, `en` → `English`; anything else is a usage error naming the choices. */
export function parseLanguage(input: string): Language {
  const lower = input.trim().toLowerCase();
  const found = LANGUAGES.find(([name, code]) => name.toLowerCase() === lower || code === lower);
  if (!found) {
    throw new UsageError(
      `unknown language '${input}'`,
      `use one of ${LANGUAGES.map(([n, c]) => `${n} (${c})`).join(', ')}`,
    );
  }
  return found[0];
}

/** The language the model named, if it is one it knows; otherwise null. */
export function recogniseLanguage(name: string): Language | null {
  const n = normaliseLanguageName(name);
  return (LANGUAGES.find(([l]) => l === n)?.[0] as Language | undefined) ?? null;
}
