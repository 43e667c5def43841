import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { LanguageSelect } from '../components/LanguageSelect';
import { useLanguage } from '../hooks/useLanguage';
import { AppealsQueue } from './AppealsQueue';
import { BanFinder } from './BanFinder';
import { BansList } from './BansList';
import { ReportCard } from './ReportCard';
import { ReporterActions, TopReporters } from './ReporterPanel';
import { TokenForm } from './TokenForm';
import { useDateTime } from './useDateTime';
import { useModConsole, type ConsoleMessage, type ModConsoleOptions } from './useModConsole';
import './console.css';

export type ModConsoleProps = ModConsoleOptions;

function MessageText({ message }: { message: ConsoleMessage }) {
  const { t } = useTranslation('mod');
  const formatDateTime = useDateTime();
  switch (message.kind) {
    case 'banned':
      return <>{t('done.banned', { until: formatDateTime(message.until) })}</>;
    case 'dismissed':
      return <>{t('done.dismissed')}</>;
    case 'reporter_dismissed':
      return (
        <>
          {message.until
            ? t('done.reporterRestricted', { count: message.count, until: formatDateTime(message.until) })
            : t('done.reporterDismissed', { count: message.count })}
        </>
      );
    case 'lifted':
      return <>{t('done.lifted')}</>;
    case 'error':
      return <>{t(`errors.${message.error}`)}</>;
  }
}

/**
 * The moderator console at /mod: the token, then the open reports (newest
 * first; everyone's or one reporter's) with their evidence, whether each
 * counts towards an automatic ban, and a Ban form and a Dismiss button each;
 * the busiest reporters, and for one reporter a way to dismiss all its reports
 * and restrict it; and every ban in force, found and paged, with Lift. A chunk
 * of its own: strangers never download it.
 */
export function ModConsole(options: ModConsoleProps) {
  const { t } = useTranslation('mod');
  const language = useLanguage();
  const mod = useModConsole(options);
  const { phase, message } = mod;
  const headingRef = useRef<HTMLHeadingElement>(null);
  const reportsRef = useRef<HTMLHeadingElement>(null);
  const bansRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = t('title');
  }, [t]);

  // Focus follows the page: to the heading once signed in, to the list whose item
  // just went away (its buttons went with it).
  const previousPhase = useRef(phase);
  useEffect(() => {
    if (phase === 'ready' && previousPhase.current !== 'ready') headingRef.current?.focus();
    previousPhase.current = phase;
  }, [phase]);
  useEffect(() => {
    if (message?.kind === 'banned' || message?.kind === 'dismissed' || message?.kind === 'reporter_dismissed') reportsRef.current?.focus();
    if (message?.kind === 'lifted') bansRef.current?.focus();
  }, [message]);

  return (
    <div className="app console">
      <header className="topbar">
        <span className="brand">{t('title')}</span>
        <div className="settings">
          <LanguageSelect language={language.language} languages={language.languages} onLanguage={language.setLanguage} />
          {(phase === 'ready' || phase === 'loading') && (
            <button type="button" onClick={mod.signOut}>
              {t('signOut')}
            </button>
          )}
        </div>
      </header>
      <main className="console-main">
        <h1 ref={headingRef} tabIndex={-1}>
          {t('heading')}
        </h1>
        <p className="console-message" aria-live="polite" data-testid="console-message">
          {message && <MessageText message={message} />}
        </p>
        {phase === 'disabled' && (
          <p className="notice notice-warn" data-testid="console-disabled">
            {t('disabled')}
          </p>
        )}
        {phase === 'signed_out' && <TokenForm wrong={mod.wrongToken} onSubmit={mod.signIn} />}
        {phase === 'loading' && <p aria-busy="true">{t('loading')}</p>}
        {phase === 'ready' && (
          <>
            <section className="console-section" aria-labelledby="reports-heading">
              <div className="section-head">
                <h2 id="reports-heading" ref={reportsRef} tabIndex={-1}>
                  {mod.reporter ? t('reports.headingFrom', { reporter: mod.reporter }) : t('reports.heading')}{' '}
                  <span className="count">({mod.total})</span>
                </h2>
                <div className="section-actions">
                  {mod.reporter && (
                    <button type="button" onClick={() => mod.showReporter(null)}>
                      {t('reports.showAll')}
                    </button>
                  )}
                  <button type="button" onClick={mod.refresh}>
                    {t('refresh')}
                  </button>
                </div>
              </div>
              {mod.reporter ? (
                <ReporterActions
                  key={mod.reporter}
                  reporter={mod.reporter}
                  busy={mod.busy === mod.reporter}
                  onDismissAll={(restrict) => mod.dismissReporter(mod.reporter!, restrict)}
                />
              ) : (
                <TopReporters reporters={mod.topReporters} onShow={mod.showReporter} />
              )}
              {mod.reports.length === 0 ? (
                <p className="muted">{t('reports.none')}</p>
              ) : (
                <ol className="reports">
                  {mod.reports.map((report, index) => (
                    <li key={report.id}>
                      <ReportCard
                        report={report}
                        index={index}
                        busy={mod.busy === report.id}
                        onBan={(duration, reason) => mod.ban(report.id, duration, reason)}
                        onDismiss={() => mod.dismiss(report.id)}
                        onOnlyReporter={mod.reporter ? undefined : () => mod.showReporter(report.reporter)}
                      />
                    </li>
                  ))}
                </ol>
              )}
              {mod.more && (
                <button type="button" onClick={mod.loadOlder}>
                  {t('reports.older')}
                </button>
              )}
            </section>
            {mod.api && <AppealsQueue api={mod.api} />}
            <section className="console-section" aria-labelledby="bans-heading">
              <h2 id="bans-heading" ref={bansRef} tabIndex={-1}>
                {t('bans.heading')} <span className="count">({mod.bansTotal})</span>
              </h2>
              <BanFinder filter={mod.banFilter} onFind={mod.findBans} />
              <BansList bans={mod.bans} busy={mod.busy} onLift={mod.lift} />
              {mod.moreBans && (
                <button type="button" onClick={mod.loadMoreBans}>
                  {t('bans.more')}
                </button>
              )}
            </section>
          </>
        )}
      </main>
    </div>
  );
}
