import { useTranslation } from 'react-i18next';
import type { Transcript } from '../hooks/useTranscript';

export interface TranscriptActionsProps {
  transcript: Transcript;
}

/** Save chat and Copy for the conversation that just ended; what Copy did, in a polite live region. */
export function TranscriptActions({ transcript }: TranscriptActionsProps) {
  const { t } = useTranslation();
  return (
    <div className="transcript" data-testid="transcript">
      <span className="transcript-label">{t('chat.lastChat')}</span>
      <button type="button" onClick={transcript.save} data-testid="save-chat">
        {t('chat.save')}
      </button>
      <button type="button" onClick={() => void transcript.copy()} data-testid="copy-chat">
        {t('chat.copy')}
      </button>
      <span className="transcript-result" aria-live="polite" data-testid="copy-result">
        {transcript.copied === 'copied' ? t('chat.copied') : transcript.copied === 'failed' ? t('chat.copyFailed') : ''}
      </span>
    </div>
  );
}
