import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Language, LanguageCode } from '../languages';
import { SOUND_SETTINGS, type SoundSetting } from '../hooks/useAttention';
import { THEMES, type Theme } from '../hooks/useTheme';
import { LanguageSelect } from './LanguageSelect';

export interface TopBarProps {
  /** Users online, cluster-wide; null while not known (connecting). */
  online: number | null;
  /** Nothing more will be known (banned): no count, and no "Connecting…" either. */
  offline?: boolean;
  language: LanguageCode;
  languages: readonly Language[];
  sounds: SoundSetting;
  /** "Blur unsafe video": the stranger's video is screened for nudity and blurred when unsafe. */
  protect: boolean;
  autoNext: boolean;
  theme: Theme;
  onLanguage: (code: LanguageCode) => void;
  onSounds: (setting: SoundSetting) => void;
  onProtect: (on: boolean) => void;
  onAutoNext: (on: boolean) => void;
  onTheme: (theme: Theme) => void;
}

/** A labelled select of a few choices, each shown with its (translated) words. */
function Choice<T extends string>({ label, value, options, onChange, testID }: { label: string; value: T; options: Array<[T, string]>; onChange: (value: T) => void; testID: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(event) => onChange(event.target.value as T)} data-testid={testID}>
        {options.map(([option, words]) => (
          <option key={option} value={option}>
            {words}
          </option>
        ))}
      </select>
    </label>
  );
}

const soundLabel = { off: 'app.soundsOff', background: 'app.soundsBackground', always: 'app.soundsAlways' } as const;
const themeLabel = { system: 'app.themeSystem', light: 'app.themeLight', dark: 'app.themeDark' } as const;

/**
 * Brand, online count and the settings: sounds, the blur, finding a new stranger
 * automatically, the theme and the language. On a wide screen the settings sit in the bar;
 * on a small one they fold into a menu behind a Settings button (a disclosure: Esc or a
 * click elsewhere closes it).
 */
export function TopBar(props: TopBarProps) {
  const { t } = useTranslation();
  const { online, offline = false } = props;
  const [open, setOpen] = useState(false);
  const menuID = useId();
  const barRef = useRef<HTMLElement>(null);
  const toggleRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const listeners = new AbortController();
    document.addEventListener(
      'pointerdown',
      (event) => {
        if (event.target instanceof Node && !barRef.current?.contains(event.target)) setOpen(false);
      },
      { signal: listeners.signal },
    );
    return () => listeners.abort();
  }, [open]);

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key !== 'Escape' || !open) return;
    event.preventDefault(); // the menu's Esc, not the page's (Next)
    setOpen(false);
    toggleRef.current?.focus();
  };

  return (
    <header className="topbar" ref={barRef} onKeyDown={onKeyDown}>
      <span className="brand">{t('app.brand')}</span>
      {!offline && (
        <span className="online" aria-live="off" data-testid="online">
          {online === null ? t('app.connecting') : t('app.online', { count: online })}
        </span>
      )}
      <button
        type="button"
        className="settings-toggle"
        ref={toggleRef}
        aria-expanded={open}
        aria-controls={menuID}
        onClick={() => setOpen((was) => !was)}
        data-testid="settings-toggle"
      >
        {t('app.settings')}
      </button>
      <div className="settings" id={menuID} data-open={open} data-testid="settings">
        <Choice label={t('app.sounds')} value={props.sounds} options={SOUND_SETTINGS.map((setting) => [setting, t(soundLabel[setting])])} onChange={props.onSounds} testID="sounds" />
        <label className="check">
          <input type="checkbox" checked={props.protect} onChange={(event) => props.onProtect(event.target.checked)} data-testid="blur-unsafe" />
          {t('app.blurUnsafe')}
        </label>
        <label className="check">
          <input type="checkbox" checked={props.autoNext} onChange={(event) => props.onAutoNext(event.target.checked)} data-testid="auto-next" />
          {t('controls.autoNext')}
        </label>
        <Choice label={t('app.theme')} value={props.theme} options={THEMES.map((theme) => [theme, t(themeLabel[theme])])} onChange={props.onTheme} testID="theme" />
        <LanguageSelect language={props.language} languages={props.languages} onLanguage={props.onLanguage} />
      </div>
    </header>
  );
}
