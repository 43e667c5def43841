import { useTranslation } from 'react-i18next';
import type { Language, LanguageCode } from '../languages';
import { LanguageSelect } from './LanguageSelect';

export interface TopBarProps {
  online: number | null;
  language: LanguageCode;
  languages: readonly Language[];
  sounds: boolean;
  /** "Blur unsafe video": the stranger's video is screened for nudity and blurred when unsafe. */
  protect: boolean;
  onLanguage: (code: LanguageCode) => void;
  onSounds: (on: boolean) => void;
  onProtect: (on: boolean) => void;
}

/** Brand, online count, the language switcher, the alert-sound and the blur toggles. */
export function TopBar({ online, language, languages, sounds, protect, onLanguage, onSounds, onProtect }: TopBarProps) {
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
        <label className="check">
          <input type="checkbox" checked={protect} onChange={(event) => onProtect(event.target.checked)} data-testid="blur-unsafe" />
          {t('app.blurUnsafe')}
        </label>
        <LanguageSelect language={language} languages={languages} onLanguage={onLanguage} />
      </div>
    </header>
  );
}
