import { useTranslation } from 'react-i18next';
import type { ModBan } from './api';
import { useDateTime } from './useDateTime';

export interface BansListProps {
  bans: ModBan[];
  busy: string | null;
  onLift: (banID: string) => void;
}

const knownSource = (source: string): source is 'auto' | 'moderator' => source === 'auto' || source === 'moderator';

/** The active bans, each with a Lift button. */
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
            </dl>
            <button type="button" onClick={() => onLift(ban.id)} disabled={busy === ban.id} aria-describedby={`${id}-facts`}>
              {t('bans.lift')}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
