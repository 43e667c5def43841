import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { REPORT_REASONS, type ReportReason } from '../protocol';
import { EvidenceView } from './EvidenceView';
import { BAN_DURATIONS, WHY_CODES, type BanDuration, type ModReport, type ModWatch, type WhyCode } from './api';
import { useDateTime, useSeconds } from './useDateTime';

export interface ReportCardProps {
  report: ModReport;
  /** Its position in the list (element ids). */
  index: number;
  busy: boolean;
  onBan: (duration: BanDuration, reason: string) => void;
  onDismiss: () => void;
  /** Shows only this report's reporter's reports (absent: they are shown already). */
  onOnlyReporter?: () => void;
}

/** The most a ban reason may be here (it is shown on the banned user's page). */
export const MAX_BAN_REASON_LENGTH = 200;

const isReason = (value: string): value is ReportReason => (REPORT_REASONS as readonly string[]).includes(value);
const isWhy = (value: string): value is WhyCode => (WHY_CODES as readonly string[]).includes(value);
const isWatchWhy = (value: string): value is 'reports' | 'ban' => value === 'reports' || value === 'ban';

/** Whether the reported address is watched now, why, and until when. */
function WatchFacts({ watch }: { watch?: ModWatch }) {
  const { t } = useTranslation('mod');
  const formatDateTime = useDateTime();
  if (!watch) return null;
  const why = watch.why.map((code) => (isWatchWhy(code) ? t(`reports.watchedWhy.${code}`) : code)).join(', ');
  return (
    <>
      <dt>{t('reports.watched')}</dt>
      <dd data-testid="watched" className={watch.now ? 'warn' : 'muted'}>
        {watch.now && watch.until ? t('reports.watchedYes', { until: formatDateTime(watch.until), why }) : t('reports.watchedNo')}
      </dd>
    </>
  );
}

/** One open report: what happened, the evidence, and what the moderator does about it. */
export function ReportCard({ report, index, busy, onBan, onDismiss, onOnlyReporter }: ReportCardProps) {
  const { t, i18n } = useTranslation('mod');
  const formatDateTime = useDateTime();
  const formatSeconds = useSeconds();
  const [duration, setDuration] = useState<BanDuration>('24h');
  const [reason, setReason] = useState('');
  const [missingReason, setMissingReason] = useState(false);
  const [sharedConfirmed, setSharedConfirmed] = useState(false);
  const [missingConfirmation, setMissingConfirmation] = useState(false);
  const id = `report-${index}`;
  const reasonLabel = isReason(report.reason) ? t(`report.reasons.${report.reason}`, { ns: 'translation' }) : report.reason;
  const why = report.why.map((code) => (isWhy(code) ? t(`reports.why.${code}`) : code)).join(', ');
  const number = new Intl.NumberFormat(i18n.language);
  // evidence sent, and not kept: its reporter's share was used up, or a later report took it
  const lost = report.evidence === 'no_room' ? 'no_room' : report.evidence === 'trimmed' ? 'trimmed' : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = reason.trim();
    setMissingReason(!text);
    // banning an address the reporter shares bans the reporter's household or carrier too
    setMissingConfirmation(report.shared_address && !sharedConfirmed);
    if (!text || (report.shared_address && !sharedConfirmed)) return;
    onBan(duration, text);
  };

  return (
    <article className="report-card" aria-labelledby={`${id}-title`} data-testid="report-card">
      <h3 id={`${id}-title`}>{t('reports.title', { reason: reasonLabel })}</h3>
      <dl className="facts">
        <dt>{t('reports.created')}</dt>
        <dd>
          <time dateTime={report.created}>{formatDateTime(report.created)}</time>
        </dd>
        <dt>{t('reports.reported')}</dt>
        <dd>
          <code>{report.reported}</code>
        </dd>
        <dt>{t('reports.reporter')}</dt>
        <dd>
          <code data-testid="reporter">{report.reporter}</code>
          {onOnlyReporter && (
            <button type="button" className="link-button" onClick={onOnlyReporter} aria-describedby={`${id}-title`}>
              {t('reports.onlyReporter')}
            </button>
          )}
        </dd>
        <dt>{t('reports.reporterReports')}</dt>
        <dd data-testid="reporter-reports">{number.format(report.reporter_reports)}</dd>
        <dt>{t('reports.conversation')}</dt>
        <dd data-testid="conversation">{formatSeconds(report.conversation_s)}</dd>
        <dt>{t('reports.counts')}</dt>
        <dd data-testid="counts" className={report.counts ? undefined : 'muted'}>
          {report.counts ? t('reports.countsYes') : t('reports.countsNo', { why })}
        </dd>
        <dt>{t('reports.reporters')}</dt>
        <dd data-testid="reporters">{number.format(report.reporters)}</dd>
        <dt>{t('reports.shared')}</dt>
        <dd className={report.shared_address ? 'warn' : undefined} data-testid="shared-address" data-shared={report.shared}>
          {report.shared === 'address' ? t('reports.sharedAddressText') : report.shared_address ? t('reports.sharedText') : t('reports.sharedNone')}
        </dd>
        <dt>{t('reports.users')}</dt>
        <dd data-testid="reported-users">{number.format(report.reported_users)}</dd>
        <WatchFacts watch={report.watched} />
        <dt>{t('reports.note')}</dt>
        <dd dir="auto" className={report.note ? undefined : 'muted'}>
          {report.note || t('reports.noNote')}
        </dd>
      </dl>
      <EvidenceView
        frame={report.frame}
        chat={report.chat}
        noFrame={lost ? t(`reports.evidenceNotKept.${lost}`) : t('reports.noFrame')}
      />
      <div className="actions">
        <form className="ban-form" onSubmit={submit} noValidate>
          <fieldset disabled={busy}>
            <legend>{t('ban.legend')}</legend>
            <label htmlFor={`${id}-duration`}>{t('ban.duration')}</label>
            <select id={`${id}-duration`} value={duration} onChange={(event) => setDuration(event.target.value as BanDuration)}>
              {BAN_DURATIONS.map((value) => (
                <option key={value} value={value}>
                  {t(`ban.durations.${value}`)}
                </option>
              ))}
            </select>
            <label htmlFor={`${id}-reason`}>{t('ban.reason')}</label>
            <input
              id={`${id}-reason`}
              type="text"
              dir="auto"
              maxLength={MAX_BAN_REASON_LENGTH}
              value={reason}
              aria-invalid={missingReason || undefined}
              aria-describedby={missingReason ? `${id}-reason-error` : undefined}
              onChange={(event) => {
                setReason(event.target.value);
                if (event.target.value.trim()) setMissingReason(false);
              }}
            />
            {missingReason && (
              <p id={`${id}-reason-error`} className="field-error" role="alert">
                {t('ban.reasonRequired')}
              </p>
            )}
            {report.shared_address && (
              <label className="confirm" htmlFor={`${id}-shared`}>
                <input
                  id={`${id}-shared`}
                  type="checkbox"
                  checked={sharedConfirmed}
                  aria-invalid={missingConfirmation || undefined}
                  aria-describedby={missingConfirmation ? `${id}-shared-error` : undefined}
                  onChange={(event) => {
                    setSharedConfirmed(event.target.checked);
                    if (event.target.checked) setMissingConfirmation(false);
                  }}
                />{' '}
                {t('ban.confirmShared')}
              </label>
            )}
            {missingConfirmation && (
              <p id={`${id}-shared-error`} className="field-error" role="alert">
                {t('ban.confirmRequired')}
              </p>
            )}
            <button type="submit" className="danger">
              {t('ban.submit')}
            </button>
          </fieldset>
        </form>
        <button type="button" onClick={onDismiss} disabled={busy}>
          {t('dismiss')}
        </button>
      </div>
    </article>
  );
}
