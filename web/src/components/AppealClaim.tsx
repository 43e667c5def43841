import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { claimAppeal } from '../hooks/useAppeal';
import { AppealPanel } from './AppealPanel';

/**
 * The ban page without a token (the ban was made after this page's earlier visit was gone, or
 * this is another browser behind the same address): claims the appeal with the identities this
 * browser had, and shows it; else says an appeal is not possible from here.
 */
export function AppealClaim() {
  const { t } = useTranslation();
  const [claim, setClaim] = useState<{ phase: 'claiming' } | { phase: 'none' } | { phase: 'error' } | { phase: 'claimed'; token: string }>({
    phase: 'claiming',
  });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    claimAppeal().then(
      (token) => live && setClaim(token ? { phase: 'claimed', token } : { phase: 'none' }),
      () => live && setClaim({ phase: 'error' }),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  switch (claim.phase) {
    case 'claimed':
      return <AppealPanel token={claim.token} />;
    case 'claiming':
      return <p aria-busy="true">{t('banned.appeal.loading')}</p>;
    case 'error':
      return (
        <>
          <p className="field-error" role="alert">
            {t('banned.appeal.error')}
          </p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            {t('banned.appeal.check')}
          </button>
        </>
      );
    case 'none':
      return (
        <p className="muted" data-testid="no-appeal">
          {t('banned.appeal.noToken')}
        </p>
      );
  }
}
