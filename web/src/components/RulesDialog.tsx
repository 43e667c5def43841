import { useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useModal } from './useModal';

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

  // Shift+Tab from the heading (where focus starts) goes round to the last stop too
  const onKeyDown = useModal({
    dialogRef,
    initialFocus: headingRef,
    fallback: FOCUS_FALLBACK,
    onCancel,
    atFirst: (active, first) => active === first || active === headingRef.current,
  });

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
