import { useCallback } from 'react';
import { LANGUAGES, MAX_LANGUAGES, type Language } from '../protocol';
import { usePersistentFlag, usePersistentState } from './usePersistentFlag';

/** Where the languages the user speaks, and "only my language", are remembered (localStorage). */
export const SPOKEN_STORAGE_KEY = 'gomegle.speaks';
export const ONLY_LANGUAGE_STORAGE_KEY = 'gomegle.onlyLanguage';

/**
 * What was stored, read back: the server's languages only, each once, at most MAX_LANGUAGES,
 * in order; null when nothing was chosen yet (the page's own language is used then).
 */
export function parseSpoken(stored: string | null): Language[] | null {
  if (stored === null) return null;
  const out: Language[] = [];
  for (const tag of stored.split(',')) {
    if ((LANGUAGES as readonly string[]).includes(tag) && !out.includes(tag as Language) && out.length < MAX_LANGUAGES) out.push(tag as Language);
  }
  return out;
}

const formatSpoken = (value: Language[] | null) => (value ?? []).join(',');

export interface SpokenLanguages {
  /** The languages to search with, most preferred first. */
  languages: Language[];
  setLanguages: (languages: Language[]) => void;
  only: boolean;
  setOnly: (only: boolean) => void;
}

/**
 * The languages the user speaks, for find_match: by default the page's language (when the
 * server knows it), until the user chooses; the choice and "only my language" are remembered.
 */
export function useSpokenLanguages(uiLanguage: string): SpokenLanguages {
  const [stored, setStored] = usePersistentState(SPOKEN_STORAGE_KEY, parseSpoken, formatSpoken);
  const [onlyStored, setOnly] = usePersistentFlag(ONLY_LANGUAGE_STORAGE_KEY, false);
  const languages = stored ?? ((LANGUAGES as readonly string[]).includes(uiLanguage) ? [uiLanguage as Language] : []);
  const setLanguages = useCallback((next: Language[]) => setStored(next.slice(0, MAX_LANGUAGES)), [setStored]);
  // "only" means nothing without a language (the server refuses it)
  return { languages, setLanguages, only: onlyStored && languages.length > 0, setOnly };
}

/** A language's name in the page's language ('pt' in English: "Portuguese"); the tag where the browser cannot say. */
export function languageName(code: string, uiLanguage: string): string {
  try {
    return new Intl.DisplayNames([uiLanguage], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
