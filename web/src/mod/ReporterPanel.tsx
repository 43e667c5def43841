import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { RESTRICT_DURATIONS, type ReporterLoad, type RestrictDuration } from './api';

export interface TopReportersProps {
  reporters: ReporterLoad[];
  onShow: (reporter: string) => void;
}

/** The reporters with the most open reports, each a way to its reports alone. */
export function TopReporters({ reporters, onShow }: TopReportersProps) {
  const { t, i18n } = useTranslation('mod');
  if (reporters.length === 0) return null;
  const number = new Intl.NumberFormat(i18n.language);
  return (
    <table className="top-reporters" data-testid="top-reporters">
      <caption>{t('reporter.top')}</caption>
      <thead>
        <tr>
          <th>{t('reporter.label')}</th>
          <th>{t('reporter.reports')}</th>
          <th>
            <span className="visually-hidden">{t('reporter.show')}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {reporters.map((item) => (
          <tr key={item.reporter}>
            <td>
              <code>{item.reporter}</code>
            </td>
            <td>{number.format(item.reports)}</td>
            <td>
              <button type="button" onClick={() => onShow(item.reporter)} aria-label={t('reporter.showLabel', { reporter: item.reporter })}>
                {t('reporter.show')}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface ReporterActionsProps {
  reporter: string;
  busy: boolean;
  onDismissAll: (restrict: RestrictDuration) => void;
}

/** Dismisses every open report of one reporter, and restricts it if the moderator says so. */
export function ReporterActions({ reporter, busy, onDismissAll }: ReporterActionsProps) {
  const { t } = useTranslation('mod');
  const [restrict, setRestrict] = useState<RestrictDuration>('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onDismissAll(restrict);
  };
  return (
    <form className="reporter-actions" onSubmit={submit} data-testid="reporter-actions">
      <fieldset disabled={busy}>
        <legend>
          {t('reporter.legend')} <code>{reporter}</code>
        </legend>
        <p className="help" id="reporter-help">
          {t('reporter.help')}
        </p>
        <label htmlFor="reporter-restrict">{t('reporter.restrict')}</label>
        <select id="reporter-restrict" value={restrict} onChange={(event) => setRestrict(event.target.value as RestrictDuration)}>
          {RESTRICT_DURATIONS.map((value) => (
            <option key={value} value={value}>
              {value ? t(`ban.durations.${value}`) : t('reporter.restrictNone')}
            </option>
          ))}
        </select>
        <button type="submit" className="danger" aria-describedby="reporter-help">
          {t('reporter.submit')}
        </button>
      </fieldset>
    </form>
  );
}
