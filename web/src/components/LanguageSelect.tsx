import { useTranslation } from 'react-i18next';
import type { Language, LanguageCode } from '../languages';

export interface LanguageSelectProps {
  language: LanguageCode;
  languages: readonly Language[];
  onLanguage: (code: LanguageCode) => void;
}

/** The language switcher: each language named in itself. */
export function LanguageSelect({ language, languages, onLanguage }: LanguageSelectProps) {
  const { t } = useTranslation();
  return (
    <label className="field language">
      <span>{t('app.language')}</span>
      <select value={language} onChange={(event) => onLanguage(event.target.value as LanguageCode)} data-testid="language">
        {languages.map((option) => (
          <option key={option.code} value={option.code} lang={option.code} dir={option.dir}>
            {option.name}
          </option>
        ))}
      </select>
    </label>
  );
}
