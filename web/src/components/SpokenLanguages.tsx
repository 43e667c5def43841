import { useTranslation } from 'react-i18next';
import { LANGUAGES, MAX_LANGUAGES, type Language } from '../protocol';
import { languageName, type SpokenLanguages as Spoken } from '../hooks/useSpokenLanguages';

/**
 * The languages the user speaks, for matching: chosen ones as tags (most preferred first), a
 * list to add one (up to MAX_LANGUAGES), and "only people who speak my language".
 */
export function SpokenLanguages({ languages, setLanguages, only, setOnly }: Spoken) {
  const { t, i18n } = useTranslation();
  const ui = i18n.resolvedLanguage ?? i18n.language;
  const full = languages.length >= MAX_LANGUAGES;
  const left = LANGUAGES.filter((code) => !languages.includes(code));
  return (
    <fieldset className="speaks">
      <legend>{t('speaks.label')}</legend>
      <ul className="tags" aria-label={t('speaks.yours')}>
        {languages.map((code) => (
          <li key={code} className="tag">
            {languageName(code, ui)}
            <button
              type="button"
              aria-label={t('speaks.remove', { language: languageName(code, ui) })}
              onClick={() => setLanguages(languages.filter((other) => other !== code))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="speaks-row">
        <label htmlFor="speaks-add" className="visually-hidden">
          {t('speaks.add')}
        </label>
        <select
          id="speaks-add"
          value=""
          disabled={full}
          aria-describedby="speaks-help"
          onChange={(event) => event.target.value && setLanguages([...languages, event.target.value as Language])}
        >
          <option value="">{full ? t('speaks.full') : t('speaks.add')}</option>
          {left.map((code) => (
            <option key={code} value={code}>
              {languageName(code, ui)}
            </option>
          ))}
        </select>
      </div>
      <label className="check">
        <input type="checkbox" checked={only} disabled={languages.length === 0} onChange={(event) => setOnly(event.target.checked)} />
        {t('speaks.only')}
      </label>
      <p id="speaks-help" className="help">
        {t('speaks.help', { max: MAX_LANGUAGES })}
      </p>
    </fieldset>
  );
}
