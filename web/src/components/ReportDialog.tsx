import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_REPORT_NOTE_LENGTH, REPORT_REASONS, type ReportReason } from '../protocol';
import type { ReportChoice } from '../hooks/useReport';
import { useModal } from './useModal';

export interface ReportDialogProps {
  /** A still of the stranger's video goes with the report. */
  hasFrame: boolean;
  /** How many chat lines go with it. */
  chatLines: number;
  onSubmit: (choice: ReportChoice) => void;
  onCancel: () => void;
}

// Where focus goes when the dialog closes and the button that opened it is gone
// (a report was sent: that stranger cannot be reported again): Next, or Start.
const FOCUS_FALLBACK = '.controls .primary, .start-form .start';

/**
 * The report dialog: a modal (focus stays inside until it closes, then returns
 * to where it was), Esc cancels. A reason is required; the note is optional and
 * at most MAX_REPORT_NOTE_LENGTH characters, with a counter.
 */
export function ReportDialog({ hasFrame, chatLines, onSubmit, onCancel }: ReportDialogProps) {
  const { t } = useTranslation();
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [note, setNote] = useState('');
  const [missingReason, setMissingReason] = useState(false);
  const dialogRef = useRef<HTMLDivElement>(null);
  const firstReasonRef = useRef<HTMLInputElement>(null);

  const onKeyDown = useModal({
    dialogRef,
    initialFocus: firstReasonRef,
    fallback: FOCUS_FALLBACK,
    onCancel,
    // Shift+Tab leaves the reasons from any of them (a radio group is one stop)
    atFirst: (active, first) =>
      active === first || (first instanceof HTMLInputElement && active instanceof HTMLInputElement && active.name === first.name && first.name !== ''),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!reason) {
      setMissingReason(true);
      firstReasonRef.current?.focus();
      return;
    }
    onSubmit({ reason, note: note.slice(0, MAX_REPORT_NOTE_LENGTH) });
  };

  const attached = hasFrame ? (chatLines > 0 ? 'frameAndChat' : 'frame') : chatLines > 0 ? 'chat' : 'nothing';

  return (
    <div className="modal-backdrop">
      <div
        ref={dialogRef}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="report-title"
        aria-describedby="report-attached"
        onKeyDown={onKeyDown}
        data-testid="report-dialog"
      >
        <h2 id="report-title">{t('report.title')}</h2>
        <p id="report-attached" className="help">
          {t(`report.attached.${attached}`)}
        </p>
        <form onSubmit={submit} noValidate>
          <fieldset className="report-reasons" aria-describedby={missingReason ? 'report-reason-error' : undefined}>
            <legend>{t('report.reason')}</legend>
            {missingReason && (
              <p id="report-reason-error" className="field-error" role="alert">
                {t('report.reasonRequired')}
              </p>
            )}
            {REPORT_REASONS.map((value, index) => (
              <label key={value}>
                <input
                  ref={index === 0 ? firstReasonRef : undefined}
                  type="radio"
                  name="report-reason"
                  value={value}
                  checked={reason === value}
                  onChange={() => {
                    setReason(value);
                    setMissingReason(false);
                  }}
                />
                {t(`report.reasons.${value}`)}
              </label>
            ))}
          </fieldset>
          <label htmlFor="report-note" className="field-label">
            {t('report.note')}
          </label>
          <textarea
            id="report-note"
            dir="auto"
            rows={3}
            maxLength={MAX_REPORT_NOTE_LENGTH}
            value={note}
            aria-describedby="report-note-count"
            onChange={(event) => setNote(event.target.value.slice(0, MAX_REPORT_NOTE_LENGTH))}
          />
          <p id="report-note-count" className="help" data-testid="report-note-count">
            {t('report.noteCount', { used: note.length, max: MAX_REPORT_NOTE_LENGTH })}
          </p>
          <div className="modal-actions">
            <button type="submit" className="primary">
              {t('report.send')}
            </button>
            <button type="button" onClick={onCancel}>
              {t('report.cancel')}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
