import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { REPORT_REASONS, type ReportReason } from '../protocol';
import { ModAPIError, type ModAPI, type ModAppeal, type ModErrorKind } from './api';
import { BanWhy } from './BansList';
import { EvidenceView } from './EvidenceView';
import { useDateTime, useSeconds } from './useDateTime';

export interface AppealsQueueProps {
  api: ModAPI;
}

type Outcome = { kind: 'upheld' | 'lifted' } | { kind: 'error'; error: Exclude<ModErrorKind, 'unauthorized' | 'disabled'> | 'failed' };

const knownSource = (source: string): source is 'auto' | 'moderator' => source === 'auto' || source === 'moderator';
const isReason = (value: string): value is ReportReason => (REPORT_REASONS as readonly string[]).includes(value);
const errorOf = (error: unknown): Extract<Outcome, { kind: 'error' }>['error'] =>
  error instanceof ModAPIError && error.kind !== 'unauthorized' && error.kind !== 'disabled' ? error.kind : 'failed';

/** One appeal: the ban, the user's words, and the report the ban was made from beside them. */
function AppealCard({ appeal, index, busy, onUphold, onLift }: { appeal: ModAppeal; index: number; busy: boolean; onUphold: () => void; onLift: () => void }) {
  const { t } = useTranslation('mod');
  const formatDateTime = useDateTime();
  const formatSeconds = useSeconds();
  const id = `appeal-${index}`;
  const { ban, report } = appeal;
  const source = knownSource(ban.source) ? t(`bans.sources.${ban.source}`) : ban.source;
  return (
    <article className="report-card appeal-card" aria-labelledby={`${id}-title`} data-testid="appeal-card">
      <h3 id={`${id}-title`}>{t('appeals.title', { reason: ban.reason })}</h3>
      <dl className="facts">
        <dt>{t('appeals.opened')}</dt>
        <dd>
          <time dateTime={appeal.opened}>{formatDateTime(appeal.opened)}</time>
        </dd>
        <dt>{t('bans.until')}</dt>
        <dd>
          <time dateTime={ban.until}>{formatDateTime(ban.until)}</time>
        </dd>
        <dt>{t('bans.source')}</dt>
        <dd>{source}</dd>
        <dt>{t('appeals.text')}</dt>
        <dd dir="auto" className="appeal-text" data-testid="appeal-text">
          {appeal.text}
        </dd>
      </dl>
      {report ? (
        <section className="appeal-report" aria-labelledby={`${id}-report`} data-testid="appeal-report">
          <h4 id={`${id}-report`}>{t('appeals.report')}</h4>
          <dl className="facts">
            <dt>{t('bans.reason')}</dt>
            <dd>{isReason(report.reason) ? t(`report.reasons.${report.reason}`, { ns: 'translation' }) : report.reason}</dd>
            <dt>{t('reports.created')}</dt>
            <dd>
              <time dateTime={report.created}>{formatDateTime(report.created)}</time>
            </dd>
            {report.reporter && (
              <>
                <dt>{t('reports.reporter')}</dt>
                <dd>
                  <code>{report.reporter}</code>
                </dd>
              </>
            )}
            <dt>{t('reports.conversation')}</dt>
            <dd>{formatSeconds(report.conversation_s)}</dd>
            {report.reporter && (
              <>
                <dt>{t('reports.note')}</dt>
                <dd dir="auto" className={report.note ? undefined : 'muted'}>
                  {report.note || t('reports.noNote')}
                </dd>
              </>
            )}
          </dl>
          {!report.reporter && (
            <p className="muted" data-testid="reporter-gone">
              {t('appeals.reporterGone')}
            </p>
          )}
          <EvidenceView frame={report.frame} chat={report.chat} noFrame={t('reports.noFrame')} />
        </section>
      ) : (
        <>
          <p className="muted">{t('appeals.noReport')}</p>
          <BanWhy ban={ban} id={id} />
        </>
      )}
      <div className="actions">
        <button type="button" onClick={onUphold} disabled={busy} aria-describedby={`${id}-title`}>
          {t('appeals.uphold')}
        </button>
        <button type="button" className="danger" onClick={onLift} disabled={busy} aria-describedby={`${id}-title`}>
          {t('appeals.lift')}
        </button>
      </div>
    </article>
  );
}

/**
 * The appeals queue: open appeals, oldest first, a page at a time, each beside
 * the report its ban was made from; Uphold keeps the ban, Lift ends it, and
 * both delete the kept evidence and the appeal.
 */
export function AppealsQueue({ api }: AppealsQueueProps) {
  const { t } = useTranslation('mod');
  const [appeals, setAppeals] = useState<ModAppeal[]>([]);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const load = useCallback(
    async (after = '') => {
      try {
        const page = await api.appealPage(after || undefined);
        setAppeals((list) => (after ? [...list, ...page.appeals] : page.appeals));
        setTotal(page.total);
        setNext(page.next);
      } catch (error) {
        setOutcome({ kind: 'error', error: errorOf(error) });
      }
    },
    [api],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const decide = async (banID: string, kind: 'upheld' | 'lifted') => {
    setBusy(banID);
    setOutcome(null);
    try {
      await (kind === 'upheld' ? api.uphold(banID) : api.liftAppealed(banID));
      setAppeals((list) => list.filter((appeal) => appeal.ban.id !== banID));
      setTotal((n) => Math.max(0, n - 1));
      setOutcome({ kind });
    } catch (error) {
      setOutcome({ kind: 'error', error: errorOf(error) });
      if (error instanceof ModAPIError && error.kind === 'not_found') void load();
    } finally {
      setBusy(null);
      headingRef.current?.focus();
    }
  };

  return (
    <section className="console-section" aria-labelledby="appeals-heading" data-testid="appeals">
      <div className="section-head">
        <h2 id="appeals-heading" ref={headingRef} tabIndex={-1}>
          {t('appeals.heading')} <span className="count">({total})</span>
        </h2>
        <div className="section-actions">
          <button type="button" onClick={() => void load()}>
            {t('appeals.refresh')}
          </button>
        </div>
      </div>
      <p className="console-message" aria-live="polite" data-testid="appeals-message">
        {outcome && (outcome.kind === 'error' ? t(`errors.${outcome.error}`) : t(`appeals.done.${outcome.kind}`))}
      </p>
      {appeals.length === 0 ? (
        <p className="muted">{t('appeals.none')}</p>
      ) : (
        <ol className="reports">
          {appeals.map((appeal, index) => (
            <li key={appeal.ban.id}>
              <AppealCard
                appeal={appeal}
                index={index}
                busy={busy === appeal.ban.id}
                onUphold={() => void decide(appeal.ban.id, 'upheld')}
                onLift={() => void decide(appeal.ban.id, 'lifted')}
              />
            </li>
          ))}
        </ol>
      )}
      {next && (
        <button type="button" onClick={() => void load(next)}>
          {t('appeals.more')}
        </button>
      )}
    </section>
  );
}
