import { useTranslation } from 'react-i18next';
import { REPORT_REASONS, type ReportReason } from '../protocol';
import type { ModBan } from './api';
import { useDateTime, useSeconds } from './useDateTime';

export interface BansListProps {
  bans: ModBan[];
  busy: string | null;
  onLift: (banID: string) => void;
}

const knownSource = (source: string): source is 'auto' | 'moderator' => source === 'auto' || source === 'moderator';
const isReason = (value: string): value is ReportReason => (REPORT_REASONS as readonly string[]).includes(value);
const evidenceStates = ['kept', 'none', 'no_room', 'trimmed'] as const;
const isEvidence = (value: string): value is (typeof evidenceStates)[number] => (evidenceStates as readonly string[]).includes(value);

/** Why an automatic ban happened: the reports that counted, as they were then. */
export function BanWhy({ ban, id }: { ban: ModBan; id: string }) {
  const { t } = useTranslation('mod');
  const formatDateTime = useDateTime();
  const formatSeconds = useSeconds();
  if (!ban.why) return null;
  return (
    <details className="ban-why" data-testid="ban-why">
      <summary>{t('bans.why', { count: ban.why.reporters })}</summary>
      <table aria-describedby={`${id}-undo`}>
        <thead>
          <tr>
            <th>{t('bans.whyColumns.reporter')}</th>
            <th>{t('bans.whyColumns.reason')}</th>
            <th>{t('bans.whyColumns.created')}</th>
            <th>{t('bans.whyColumns.conversation')}</th>
            <th>{t('bans.whyColumns.evidence')}</th>
          </tr>
        </thead>
        <tbody>
          {ban.why.reports.map((report) => (
            <tr key={report.id}>
              <td>
                <code>{report.reporter}</code>
              </td>
              <td>{isReason(report.reason) ? t(`report.reasons.${report.reason}`, { ns: 'translation' }) : report.reason}</td>
              <td>
                <time dateTime={report.created}>{formatDateTime(report.created)}</time>
              </td>
              <td>{formatSeconds(report.conversation_s)}</td>
              <td>{isEvidence(report.evidence) ? t(`bans.evidence.${report.evidence}`) : report.evidence}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p id={`${id}-undo`} className="help">
        {t('bans.liftUndoes')}
      </p>
    </details>
  );
}

/** The bans in force, each with a Lift button; an automatic one with the reports that made it. */
export function BansList({ bans, busy, onLift }: BansListProps) {
  const { t } = useTranslation('mod');
  const formatDateTime = useDateTime();
  if (bans.length === 0) return <p className="muted">{t('bans.none')}</p>;
  return (
    <ul className="bans" data-testid="bans">
      {bans.map((ban, index) => {
        const id = `ban-${index}`;
        const source = knownSource(ban.source) ? t(`bans.sources.${ban.source}`) : ban.source;
        return (
          <li key={ban.id} className="ban" data-testid="ban">
            <dl className="facts" id={`${id}-facts`}>
              <dt>{t('bans.until')}</dt>
              <dd>
                <time dateTime={ban.until}>{formatDateTime(ban.until)}</time>
              </dd>
              <dt>{t('bans.reason')}</dt>
              <dd dir="auto">{ban.reason}</dd>
              <dt>{t('bans.source')}</dt>
              <dd>{source}</dd>
              <dt>{t('bans.created')}</dt>
              <dd>
                <time dateTime={ban.created}>{formatDateTime(ban.created)}</time>
              </dd>
              {ban.watched_until && (
                <>
                  <dt>{t('bans.watchedUntil')}</dt>
                  <dd data-testid="watched-until">
                    <time dateTime={ban.watched_until}>{formatDateTime(ban.watched_until)}</time>
                  </dd>
                </>
              )}
            </dl>
            <button type="button" onClick={() => onLift(ban.id)} disabled={busy === ban.id} aria-describedby={`${id}-facts`}>
              {t('bans.lift')}
            </button>
            <BanWhy ban={ban} id={id} />
          </li>
        );
      })}
    </ul>
  );
}
