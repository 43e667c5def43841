import { useTranslation } from 'react-i18next';
import type { ReportNotice as Notice } from '../hooks/useReport';

export interface ReportNoticeProps {
  notice: Notice | null;
  onDismiss: () => void;
}

/** What became of the last report; a polite live region, there before it has anything to say. */
export function ReportNotice({ notice, onDismiss }: ReportNoticeProps) {
  const { t } = useTranslation();
  return (
    <div className="report-notice" aria-live="polite" data-testid="report-notice" data-notice={notice ?? undefined}>
      {notice && (
        <p className={`notice ${notice === 'sent' ? 'notice-ok' : 'notice-warn'}`}>
          <span>{t(`report.notices.${notice}`)}</span>
          <button type="button" className="notice-close" onClick={onDismiss} aria-label={t('report.dismiss')}>
            ×
          </button>
        </p>
      )}
    </div>
  );
}
