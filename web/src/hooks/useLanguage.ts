import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { storeLanguage } from '../i18n';
import { defaultLanguage, languages, matchLanguage, type LanguageCode } from '../languages';

export interface LanguageChoice {
  language: LanguageCode;
  languages: typeof languages;
  /** Switches the UI (loading that language's chunk first) and remembers the choice. */
  setLanguage: (code: LanguageCode) => void;
}

/** The UI language and the switcher's action; i18next owns the state. */
export function useLanguage(): LanguageChoice {
  const { i18n } = useTranslation();
  const language = matchLanguage(i18n.resolvedLanguage ?? i18n.language) ?? defaultLanguage;
  const setLanguage = useCallback(
    (code: LanguageCode) => {
      storeLanguage(code);
      void i18n.changeLanguage(code);
    },
    [i18n],
  );
  return { language, languages, setLanguage };
}
