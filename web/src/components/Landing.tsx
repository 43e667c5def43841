import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Mode } from '../protocol';
import type { MediaError } from '../hooks/useUserMedia';
import type { SignalingStatus } from '../hooks/useSignaling';
import type { ReportButton } from './Controls';
import { errorKey } from './errors';
import { InterestsInput } from './InterestsInput';

export interface LandingProps {
  interests: string[];
  mode: Mode;
  busy: boolean;
  /** The first Start checks the user's own camera for nudity before searching. */
  checking: boolean;
  /** That check scored the camera unsafe: the warning, and no search until Start is pressed again. */
  selfWarning: boolean;
  mediaError: MediaError | null;
  /** An error code from the server to tell the user about. */
  notice: string | null;
  /** The socket's state: a lost or superseded socket is worth a word. */
  connection: SignalingStatus;
  /** Reporting the stranger of the chat that was just stopped (for a short while after); null: nothing to report. */
  report: ReportButton | null;
  onInterests: (tags: string[]) => void;
  onMode: (mode: Mode) => void;
  onStart: (mode: Mode) => void;
}

export function Landing({ interests, mode, busy, checking, selfWarning, mediaError, notice, connection, report, onInterests, onMode, onStart }: LandingProps) {
  const { t } = useTranslation();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onStart(mode);
  };
  return (
    <main className="landing">
      <h1>{t('landing.heading')}</h1>
      <p className="tagline">{t('landing.tagline')}</p>

      {mediaError && (
        <div className="notice notice-warn" role="alert" data-testid="media-error">
          <p>
            {t(`media.${mediaError}`)} {t('landing.textStillPossible')}
          </p>
          <div className="notice-actions">
            <button type="button" className="primary" onClick={() => onStart('text')}>
              {t('landing.continueText')}
            </button>
            <button type="button" onClick={() => onStart('video')}>
              {t('landing.retryCamera')}
            </button>
          </div>
        </div>
      )}
      {selfWarning && (
        <div className="notice notice-warn" role="alert" data-testid="self-warning">
          <p>
            <strong>{t('nudity.selfWarning')}</strong>
          </p>
          <p>
            {t('nudity.selfFlagged')} {t('nudity.selfStartAgain')}
          </p>
        </div>
      )}
      {(notice || connection === 'reconnecting' || connection === 'replaced') && (
        <p className="notice notice-warn" role="alert">
          {notice ? t(errorKey(notice)) : t(connection === 'replaced' ? 'status.replaced' : 'status.reconnecting')}
        </p>
      )}

      {report && (
        <p className="report-last">
          <button type="button" className="report" aria-haspopup="dialog" onClick={report.onReport} data-testid="report">
            {t(`controls.${report.label}`)}
          </button>
        </p>
      )}

      <form className="start-form" onSubmit={submit} aria-busy={busy}>
        <InterestsInput value={interests} onChange={onInterests} />
        <fieldset className="modes">
          <legend>{t('landing.chatWith')}</legend>
          <label>
            <input type="radio" name="mode" value="video" checked={mode === 'video'} onChange={() => onMode('video')} />
            {t('landing.modeVideo')}
          </label>
          <label>
            <input type="radio" name="mode" value="text" checked={mode === 'text'} onChange={() => onMode('text')} />
            {t('landing.modeText')}
          </label>
        </fieldset>
        <button type="submit" className="primary start" disabled={busy}>
          {checking ? t('landing.checking') : busy ? t('landing.starting') : t('landing.start')}
        </button>
      </form>
      <p className="fineprint">{t('landing.fineprint')}</p>
    </main>
  );
}
