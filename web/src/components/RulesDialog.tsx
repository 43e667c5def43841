import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { tabStops } from './ReportDialog';

export interface RulesDialogProps {
  onAgree: () => void;
  /** Closed without agreeing (Esc, Cancel): nothing starts. */
  onCancel: () => void;
}

const RULES = ['adults', 'nudity', 'harassment', 'minors', 'reports'] as const;
const STORED = ['media', 'session', 'address', 'reports', 'bans'] as const;

// Where focus goes when the dialog closes and the button that opened it is gone.
const FOCUS_FALLBACK = '.start-form .start';

/**
 * The rules before a browser's first Start: 18+ only, what is not allowed, what
 * is stored and for how long. A modal: focus moves to its heading (the rules are
 * read from the top), stays inside, and returns where it was; Esc closes it
 * without agreeing.
 */
export function RulesDialog({ onAgree, onCancel }: RulesDialogProps) {
  const { t } = useTranslation();
  const dialogRef = useRef<HTMLDivElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    headingRef.current?.focus();
    const listeners = new AbortController();
    document.addEventListener(
      'focusin',
      (event) => {
        const dialog = dialogRef.current;
        if (dialog && event.target instanceof Node && !dialog.contains(event.target)) tabStops(dialog)[0]?.focus();
      },
      { signal: listeners.signal },
    );
    return () => {
      listeners.abort();
      const back = opener?.isConnected ? opener : document.querySelector<HTMLElement>(FOCUS_FALLBACK);
      back?.focus();
    };
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
      return;
    }
    if (event.key !== 'Tab' || !dialogRef.current) return;
    const stops = tabStops(dialogRef.current);
    if (stops.length === 0) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    const active = document.activeElement;
    if (event.shiftKey && (active === first || active === headingRef.current)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <div className="modal-backdrop">
      <div
        ref={dialogRef}
        className="modal rules"
        role="dialog"
        aria-modal="true"
        aria-labelledby="rules-title"
        aria-describedby="rules-intro"
        onKeyDown={onKeyDown}
        data-testid="rules-dialog"
      >
        <h2 id="rules-title" ref={headingRef} tabIndex={-1}>
          {t('rules.title')}
        </h2>
        <p id="rules-intro">{t('rules.intro')}</p>
        <ul className="rules-list">
          {RULES.map((rule) => (
            <li key={rule}>{t(`rules.rule.${rule}`)}</li>
          ))}
        </ul>
        <h3>{t('rules.storedHeading')}</h3>
        <ul className="rules-stored">
          {STORED.map((item) => (
            <li key={item}>{t(`rules.stored.${item}`)}</li>
          ))}
        </ul>
        <div className="modal-actions">
          <button type="button" className="primary" onClick={onAgree} data-testid="rules-agree">
            {t('rules.agree')}
          </button>
          <button type="button" onClick={onCancel}>
            {t('rules.cancel')}
          </button>
        </div>
      </div>
    </div>
  );
}
