import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';

/** Formats an RFC 3339 timestamp as a date and time in the page's language (and the browser's time zone). */
export function useDateTime(): (iso: string) => string {
  const { i18n } = useTranslation();
  const language = i18n.language;
  return useCallback(
    (iso: string) => {
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) return iso;
      return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
    },
    [language],
  );
}

/** Formats a duration in seconds in the page's language ("42 sec"). */
export function useSeconds(): (seconds: number) => string {
  const { i18n } = useTranslation();
  const language = i18n.language;
  return useCallback(
    (seconds: number) => new Intl.NumberFormat(language, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 0 }).format(seconds),
    [language],
  );
}
