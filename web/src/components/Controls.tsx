import { useTranslation } from 'react-i18next';

export interface ReportButton {
  label: 'report' | 'reportLast';
  onReport: () => void;
}

export interface ControlsProps {
  /** Next while someone is (or is being) found; New stranger once they left. */
  nextLabel: 'next' | 'newStranger';
  /** One Esc armed Next: the hint says a second one skips. */
  escArmed: boolean;
  /** The Report button: about the current stranger, or the last one (shortly after they left); null: none. */
  report: ReportButton | null;
  onNext: () => void;
  onStop: () => void;
}

/** The conversation's buttons, in a bar at the bottom, where a thumb reaches: Next, Stop, Report. */
export function Controls({ nextLabel, escArmed, report, onNext, onStop }: ControlsProps) {
  const { t } = useTranslation();
  return (
    <div className="controls" role="toolbar" aria-label={t('controls.toolbar')}>
      {/* there before it says anything, so that it is announced */}
      <p className="esc-hint" aria-live="polite" data-testid="esc-hint">
        {escArmed ? t('controls.escAgain') : ''}
      </p>
      <button type="button" className="primary next" onClick={onNext} aria-keyshortcuts="Escape">
        {t(`controls.${nextLabel}`)} <kbd aria-hidden="true">{t('controls.escKey')}</kbd>
      </button>
      <button type="button" className="danger" onClick={onStop}>
        {t('controls.stop')}
      </button>
      {report && (
        <button type="button" className="report" aria-haspopup="dialog" onClick={report.onReport} data-testid="report">
          {t(`controls.${report.label}`)}
        </button>
      )}
    </div>
  );
}
