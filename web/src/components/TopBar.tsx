import { useTranslation } from 'react-i18next';
import type { Language, LanguageCode } from '../languages';
import { LanguageSelect } from './LanguageSelect';

export interface TopBarProps {
  online: number | null;
  language: LanguageCode;
  languages: readonly Language[];
  sounds: boolean;
  onLanguage: (code: LanguageCode) => void;
  onSounds: (on: boolean) => void;
}

/** Brand, online count, the language switcher and the alert-sound toggle. */
export function TopBar({ online, language, languages, sounds, onLanguage, onSounds }: TopBarProps) {
  const { t } = useTranslation();
  return (
    <header className="topbar">
      <span className="brand">{t('app.brand')}</span>
      <span className="online" aria-live="off" data-testid="online">
        {online === null ? t('app.connecting') : t('app.online', { count: online })}
      </span>
      <div className="settings">
        <label className="check">
          <input type="checkbox" checked={sounds} onChange={(event) => onSounds(event.target.checked)} data-testid="alert-sounds" />
          {t('app.alertSounds')}
        </label>
        <LanguageSelect language={language} languages={languages} onLanguage={onLanguage} />
      </div>
    </header>
  );
}
