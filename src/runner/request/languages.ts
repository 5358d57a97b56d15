import { UsageError } from '../../errors.js';

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

/**
 * What --language asks for: `auto` (or nothing) lets the model detect every window; one language
 * forces it (prefilled); a comma-separated list restricts detection to those languages (a window
 * detected outside it is decoded again with the first one forced).
 */
export type LanguagePolicy =
  | { readonly kind: 'auto' }
  | { readonly kind: 'forced'; readonly language: Language }
  | { readonly kind: 'restricted'; readonly allowed: readonly Language[] };

export function parseLanguagePolicy(input: string | null): LanguagePolicy {
  const parts = (input ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0 || (parts.length === 1 && parts[0].toLowerCase() === 'auto')) return { kind: 'auto' };
  if (parts.some((p) => p.toLowerCase() === 'auto')) {
    throw new UsageError(`'auto' cannot be part of a language list ('${input}')`, 'give auto alone, or a list such as en,fr');
  }
  const languages = [...new Set(parts.map(parseLanguage))];
  return languages.length === 1 ? { kind: 'forced', language: languages[0] } : { kind: 'restricted', allowed: languages };
}
