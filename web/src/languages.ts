// The languages the UI is translated into. Adding one: a line here and
// locales/<code>/translation.json with exactly the keys of English (a test
// checks both); web/README.md says more.

export interface Language {
  /** BCP 47 language subtag, also the folder under locales/. */
  code: string;
  /** The language's name in itself (an autonym), shown in the switcher. */
  name: string;
  dir: 'ltr' | 'rtl';
}

export const languages = [
  { code: 'en', name: 'English', dir: 'ltr' },
  { code: 'es', name: 'Español', dir: 'ltr' },
  { code: 'pt', name: 'Português', dir: 'ltr' },
  { code: 'fr', name: 'Français', dir: 'ltr' },
  { code: 'de', name: 'Deutsch', dir: 'ltr' },
  { code: 'ru', name: 'Русский', dir: 'ltr' },
  { code: 'hi', name: 'हिन्दी', dir: 'ltr' },
  { code: 'ar', name: 'العربية', dir: 'rtl' },
] as const satisfies readonly Language[];

export type LanguageCode = (typeof languages)[number]['code'];

export const defaultLanguage: LanguageCode = 'en';

/** Where the switcher's choice is remembered (localStorage). */
export const LANGUAGE_STORAGE_KEY = 'gomegle.language';

const byCode: ReadonlyMap<string, Language> = new Map(languages.map((language) => [language.code, language]));

/** The supported language for a BCP 47 tag ('pt-BR' → 'pt'), or null. */
export function matchLanguage(tag: string | null | undefined): LanguageCode | null {
  if (!tag) return null;
  const base = tag.trim().toLowerCase().split(/[-_]/)[0];
  return byCode.has(base) ? (base as LanguageCode) : null;
}

/** The first supported language of the stored choice, then the browser's preferences; else English. */
export function detectLanguage(stored: string | null, preferred: readonly string[]): LanguageCode {
  for (const tag of [stored, ...preferred]) {
    const code = matchLanguage(tag);
    if (code) return code;
  }
  return defaultLanguage;
}

export function textDirection(code: string): 'ltr' | 'rtl' {
  return byCode.get(matchLanguage(code) ?? defaultLanguage)?.dir ?? 'ltr';
}
