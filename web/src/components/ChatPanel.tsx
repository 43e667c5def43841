import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_CHAT_LENGTH } from '../protocol';
import type { ChatLine } from '../hooks/useMatch';

export interface ChatPanelProps {
  lines: ChatLine[];
  partnerTyping: boolean;
  commonInterests: string[];
  canSend: boolean;
  onSend: (text: string) => void;
  onTyping: (typing: boolean) => void;
}

const systemText = { matched: 'chat.matched', partner_left: 'chat.partnerLeft' } as const;

export function ChatPanel({ lines, partnerTyping, commonInterests, canSend, onSend, onTyping }: ChatPanelProps) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [lines, partnerTyping]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim()) return;
    onSend(draft);
    setDraft('');
    inputRef.current?.focus(); // the Send button is disabled now: keep the keyboard user in the message box
  };

  return (
    <section className="chat" aria-label={t('chat.region')}>
      {commonInterests.length > 0 && (
        <p className="common" data-testid="common-interests">
          {t('chat.bothLike')}{' '}
          {commonInterests.map((tag) => (
            <span className="tag" key={tag} dir="auto">
              {tag}
            </span>
          ))}
        </p>
      )}
      {/* A log: screen readers read out each new line, politely. */}
      <div className="chat-log" ref={logRef} role="log" aria-live="polite" aria-label={t('chat.messages')} data-testid="chat-log">
        <ol>
          {lines.map((line) =>
            line.from === 'system' ? (
              <li key={line.id} className="line line-system">
                {t(systemText[line.notice])}
              </li>
            ) : (
              <li key={line.id} className={`line line-${line.from}`}>
                <strong>{t('chat.speaker', { name: line.from === 'me' ? t('chat.you') : t('chat.stranger') })} </strong>
                <span dir="auto">{line.text}</span>
              </li>
            ),
          )}
        </ol>
      </div>
      <p className="typing" aria-live="polite" data-testid="typing">
        {partnerTyping ? t('chat.typing') : ''}
      </p>
      <form className="chat-form" onSubmit={submit}>
        <label htmlFor="chat-input" className="visually-hidden">
          {t('chat.message')}
        </label>
        <input
          id="chat-input"
          ref={inputRef}
          type="text"
          dir="auto"
          autoComplete="off"
          placeholder={canSend ? t('chat.placeholder') : t('chat.placeholderWaiting')}
          maxLength={MAX_CHAT_LENGTH}
          value={draft}
          disabled={!canSend}
          onChange={(event) => {
            setDraft(event.target.value);
            onTyping(event.target.value.length > 0);
          }}
          onBlur={() => onTyping(false)}
        />
        <button type="submit" disabled={!canSend || !draft.trim()}>
          {t('chat.send')}
        </button>
      </form>
    </section>
  );
}
