import { useEffect, useRef, useState, type FormEvent } from 'react';
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

const speaker: Record<ChatLine['from'], string> = { me: 'You', stranger: 'Stranger', system: '' };

export function ChatPanel({ lines, partnerTyping, commonInterests, canSend, onSend, onTyping }: ChatPanelProps) {
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [lines, partnerTyping]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim()) return;
    onSend(draft);
    setDraft('');
  };

  return (
    <section className="chat" aria-label="Text chat">
      {commonInterests.length > 0 && (
        <p className="common" data-testid="common-interests">
          You both like: {commonInterests.map((tag) => <span className="tag" key={tag}>{tag}</span>)}
        </p>
      )}
      <ol className="chat-log" ref={logRef} aria-live="polite" aria-label="Messages" data-testid="chat-log">
        {lines.map((line) => (
          <li key={line.id} className={`line line-${line.from}`}>
            {line.from !== 'system' && <strong>{speaker[line.from]}: </strong>}
            <span>{line.text}</span>
          </li>
        ))}
      </ol>
      <p className="typing" aria-live="polite" data-testid="typing">
        {partnerTyping ? 'Stranger is typing…' : ''}
      </p>
      <form className="chat-form" onSubmit={submit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Message
        </label>
        <input
          id="chat-input"
          type="text"
          autoComplete="off"
          placeholder={canSend ? 'Type a message' : 'Waiting for a stranger…'}
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
          Send
        </button>
      </form>
    </section>
  );
}
