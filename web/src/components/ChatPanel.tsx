import { useRef, useState, type FormEvent, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_CHAT_LENGTH } from '../protocol';
import type { ChatLine } from '../hooks/useMatch';
import type { Transcript } from '../hooks/useTranscript';
import { TranscriptActions } from './TranscriptActions';
import { languageName } from '../hooks/useSpokenLanguages';
import { useFollowLog } from './useFollowLog';

export interface ChatPanelProps {
  lines: ChatLine[];
  partnerTyping: boolean;
  commonInterests: string[];
  /** The language the two share (match_found.language); null: none, or not known. */
  sharedLanguage?: string | null;
  /** A stranger is there to send to; without one the box still takes a draft. */
  canSend: boolean;
  /** The chat that just ended, to save or copy; null: none. */
  transcript?: Transcript | null;
  /** Gets the message box (the view moves focus to it). */
  inputRef?: RefObject<HTMLInputElement | null>;
  onSend: (text: string) => void;
  onTyping: (typing: boolean) => void;
}

const systemText = {
  matched: 'chat.matched',
  matchedRandom: 'chat.matchedRandom',
  matchedLanguage: 'chat.matchedLanguage',
  partner_left: 'chat.partnerLeft',
} as const;

export function ChatPanel({ lines, partnerTyping, commonInterests, sharedLanguage = null, canSend, transcript = null, inputRef: outerInputRef, onSend, onTyping }: ChatPanelProps) {
  const { t, i18n } = useTranslation();
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  const ownInputRef = useRef<HTMLInputElement>(null);
  const inputRef = outerInputRef ?? ownInputRef;
  const follow = useFollowLog(logRef, lines);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!canSend || !draft.trim()) return; // kept for the stranger to come
    onSend(draft);
    setDraft('');
    follow.toEnd(); // one's own message is always seen
    inputRef.current?.focus(); // the Send button is disabled now: keep the keyboard user in the message box
  };

  return (
    <section className="chat" aria-label={t('chat.region')}>
      {sharedLanguage && (
        <p className="common" data-testid="shared-language">
          {t('chat.bothSpeak', { language: languageName(sharedLanguage, i18n.resolvedLanguage ?? i18n.language) })}
        </p>
      )}
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
      <div className="chat-log-box">
        {/* A log: screen readers read out each new line, politely. Focusable, so the keyboard can scroll it. */}
        <div className="chat-log" ref={logRef} role="log" aria-live="polite" aria-label={t('chat.messages')} tabIndex={0} data-testid="chat-log">
          <ol>
            {lines.map((line) =>
              line.from === 'system' ? (
                <li key={line.id} className={`line line-system line-${line.notice}`}>
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
        {follow.behind && (
          <button type="button" className="new-messages" onClick={follow.toEnd} data-testid="new-messages">
            {t('chat.newMessages')} <span aria-hidden="true">↓</span>
          </button>
        )}
      </div>
      <p className="typing" aria-live="polite" data-testid="typing">
        {partnerTyping ? t('chat.typing') : ''}
      </p>
      {transcript && <TranscriptActions transcript={transcript} />}
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
          enterKeyHint="send"
          placeholder={canSend ? t('chat.placeholder') : t('chat.placeholderWaiting')}
          maxLength={MAX_CHAT_LENGTH}
          value={draft}
          onChange={(event) => {
            setDraft(event.target.value);
            if (canSend) onTyping(event.target.value.length > 0);
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
