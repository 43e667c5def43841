import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { BanFilter } from './useModConsole';

export interface BanFinderProps {
  filter: BanFilter;
  onFind: (filter: BanFilter) => void;
}

const SOURCES = ['', 'auto', 'moderator'] as const;

/** Finds bans by a text in their reason (or their id) and by source. */
export function BanFinder({ filter, onFind }: BanFinderProps) {
  const { t } = useTranslation('mod');
  const [q, setQ] = useState(filter.q);
  const [source, setSource] = useState<BanFilter['source']>(filter.source);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onFind({ q: q.trim(), source });
  };
  return (
    <form className="ban-finder" onSubmit={submit} role="search" aria-label={t('bans.find')}>
      <label htmlFor="ban-query">{t('bans.query')}</label>
      <input id="ban-query" type="search" dir="auto" maxLength={200} value={q} onChange={(event) => setQ(event.target.value)} />
      <label htmlFor="ban-source">{t('bans.source')}</label>
      <select id="ban-source" value={source} onChange={(event) => setSource(event.target.value as BanFilter['source'])}>
        {SOURCES.map((value) => (
          <option key={value} value={value}>
            {value ? t(`bans.sources.${value}`) : t('bans.sourceAll')}
          </option>
        ))}
      </select>
      <button type="submit">{t('bans.search')}</button>
    </form>
  );
}
