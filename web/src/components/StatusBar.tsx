import { useTranslation } from 'react-i18next';

/** The status line's main text. */
export type StatusText = 'reconnecting' | 'replaced' | 'searching' | 'partnerLeft' | 'connected' | 'videoFailed';
/** What follows it after a dot. */
export type StatusDetail = 'textChat' | 'startingVideo' | 'recoveringVideo' | 'videoFailedDetail' | 'metRecently' | 'powSlow';

export interface StatusBarProps {
  text: StatusText;
  detail?: StatusDetail | null;
  /** What the detail's text needs (powSlow: percent). */
  values?: Record<string, number>;
  tone: 'info' | 'ok' | 'warn';
}

/** The one-line status; a polite live region so screen readers hear each change. */
export function StatusBar({ text, detail, values, tone }: StatusBarProps) {
  const { t } = useTranslation();
  return (
    <p className={`status status-${tone}`} role="status" aria-live="polite" data-testid="status" data-status={text}>
      <span className="status-text">{t(`status.${text}`)}</span>
      {detail ? <span className="status-detail"> · {t(`status.${detail}`, values)}</span> : null}
    </p>
  );
}
