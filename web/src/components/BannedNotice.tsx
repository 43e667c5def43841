import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { Ban } from '../hooks/useBan';
import { AppealClaim } from './AppealClaim';
import { AppealPanel } from './AppealPanel';

export interface BannedNoticeProps {
  ban: Ban;
}

/**
 * The whole page while this address is banned: until when (in the page's language and time zone), why,
 * and for the banned page itself the appeal (its own evidence, the form, the state).
 */
export function BannedNotice({ ban }: BannedNoticeProps) {
  const { t, i18n } = useTranslation();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const until = ban.until
    ? new Intl.DateTimeFormat(i18n.language, { dateStyle: 'long', timeStyle: 'short' }).format(ban.until)
    : null;

  // The page changed under the user: take focus (and a screen reader) to what it says now.
  useEffect(() => headingRef.current?.focus(), []);

  return (
    <main className="banned" data-testid="banned">
      <h1 ref={headingRef} tabIndex={-1}>
        {until ? t('banned.until', { until }) : t('banned.heading')}
      </h1>
      {ban.reason && (
        <p className="banned-reason">
          <strong>{t('banned.reason')}</strong> <span dir="auto">{ban.reason}</span>
        </p>
      )}
      <p>{t('banned.explain')}</p>
      {ban.appeal ? <AppealPanel token={ban.appeal} /> : ban.until && <AppealClaim />}
    </main>
  );
}
