import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

export interface TokenFormProps {
  /** The last token was refused. */
  wrong: boolean;
  onSubmit: (token: string) => void;
}

/** Asks for the moderator token (a password field; the console keeps it for this tab only). */
export function TokenForm({ wrong, onSubmit }: TokenFormProps) {
  const { t } = useTranslation('mod');
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) onSubmit(token);
  };
  return (
    <form className="token-form" onSubmit={submit} aria-labelledby="sign-in-heading">
      <h2 id="sign-in-heading">{t('signIn.heading')}</h2>
      {wrong && (
        <p className="notice notice-warn" role="alert" data-testid="wrong-token">
          {t('signIn.wrong')}
        </p>
      )}
      <label htmlFor="mod-token">{t('signIn.token')}</label>
      <input
        id="mod-token"
        type="password"
        autoComplete="off"
        spellCheck={false}
        autoFocus
        required
        value={token}
        aria-describedby="mod-token-help"
        aria-invalid={wrong || undefined}
        onChange={(event) => setToken(event.target.value)}
      />
      <p id="mod-token-help" className="help">
        {t('signIn.help')}
      </p>
      <button type="submit" className="primary" disabled={!token.trim()}>
        {t('signIn.submit')}
      </button>
    </form>
  );
}
