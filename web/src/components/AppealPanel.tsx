import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppeal, type OwnAppeal } from '../hooks/useAppeal';
import { MAX_APPEAL_LENGTH, REPORT_REASONS, type ReportReason } from '../protocol';

const JPEG = 'data:image/jpeg;base64,';
const isReason = (value: string): value is ReportReason => (REPORT_REASONS as readonly string[]).includes(value);

/** What the report carried about this user: the still of its own video and its own lines, nothing of the reporter. */
function OwnEvidence({ report }: { report: NonNullable<OwnAppeal['report']> }) {
  const { t } = useTranslation();
  const reason = isReason(report.reason) ? t(`report.reasons.${report.reason}`) : report.reason;
  return (
    <div className="appeal-evidence" data-testid="appeal-evidence">
      <h3>{t('banned.appeal.evidence')}</h3>
      <p>{t('banned.appeal.reportReason', { reason })}</p>
      {report.frame?.startsWith(JPEG) && <img className="frame" src={report.frame} alt={t('banned.appeal.frameAlt')} data-testid="own-frame" />}
      <h4>{t('banned.appeal.lines')}</h4>
      {report.lines.length > 0 ? (
        <ol data-testid="own-lines">
          {report.lines.map((line, n) => (
            <li key={n} dir="auto">
              {line}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">{t('banned.appeal.noLines')}</p>
      )}
    </div>
  );
}

/** The form: a short text, once per ban. */
function AppealForm({ sending, onSend }: { sending: boolean; onSend: (text: string) => void }) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [missing, setMissing] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = text.trim();
    setMissing(!trimmed);
    if (trimmed) onSend(trimmed);
  };
  return (
    <form className="appeal-form" onSubmit={submit} noValidate>
      <fieldset disabled={sending}>
        <label htmlFor="appeal-text">{t('banned.appeal.label')}</label>
        <textarea
          id="appeal-text"
          dir="auto"
          rows={5}
          maxLength={MAX_APPEAL_LENGTH}
          value={text}
          aria-invalid={missing || undefined}
          aria-describedby={missing ? 'appeal-count appeal-required' : 'appeal-count'}
          onChange={(event) => {
            setText(event.target.value.slice(0, MAX_APPEAL_LENGTH));
            if (event.target.value.trim()) setMissing(false);
          }}
        />
        <p id="appeal-count" className="help">
          {t('report.noteCount', { used: text.length, max: MAX_APPEAL_LENGTH })}
        </p>
        {missing && (
          <p id="appeal-required" className="field-error" role="alert">
            {t('banned.appeal.required')}
          </p>
        )}
        <button type="submit" aria-busy={sending || undefined}>
          {t('banned.appeal.submit')}
        </button>
      </fieldset>
    </form>
  );
}

/** The ban page's appeal: what the report showed of the user, and the form or the appeal's state. */
export function AppealPanel({ token }: { token: string }) {
  const { t } = useTranslation();
  const { view, send, check } = useAppeal(token);
  const appeal = 'appeal' in view ? view.appeal : undefined;
  const checkAgain = (
    <button type="button" onClick={check}>
      {t('banned.appeal.check')}
    </button>
  );
  return (
    <section className="appeal" aria-labelledby="appeal-heading" data-testid="appeal">
      <h2 id="appeal-heading">{t('banned.appeal.heading')}</h2>
      {view.phase === 'loading' && <p aria-busy="true">{t('banned.appeal.loading')}</p>}
      {view.phase === 'gone' && (
        <>
          <p role="status">{t('banned.appeal.gone')}</p>
          <button type="button" onClick={() => window.location.reload()}>
            {t('banned.appeal.startAgain')}
          </button>
        </>
      )}
      {view.phase === 'error' && (
        <p className="field-error" role="alert">
          {t(view.error === 'rate_limited' ? 'banned.appeal.rateLimited' : 'banned.appeal.error')}
        </p>
      )}
      {appeal?.report && <OwnEvidence report={appeal.report} />}
      {appeal && appeal.state === 'none' && <AppealForm sending={view.phase === 'sending'} onSend={send} />}
      {appeal && appeal.state === 'open' && (
        <>
          <p role="status">{t('banned.appeal.open')}</p>
          <p>{t('banned.appeal.yourText')}</p>
          <blockquote dir="auto" data-testid="appeal-sent">
            {appeal.text}
          </blockquote>
          {checkAgain}
        </>
      )}
      {appeal?.state === 'upheld' && <p role="status">{t('banned.appeal.upheld')}</p>}
      {view.phase === 'error' && (!appeal || appeal.state !== 'none') && checkAgain}
    </section>
  );
}
