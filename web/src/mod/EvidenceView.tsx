import { useTranslation } from 'react-i18next';
import type { ReportChatLine } from '../protocol';

const JPEG = 'data:image/jpeg;base64,';

export interface EvidenceViewProps {
  /** A data:image/jpeg;base64 URL, or '' (anything else is not shown). */
  frame: string;
  /** As the reporter saw it: "stranger" is the reported user. */
  chat: ReportChatLine[];
  /** What to say when there is no still. */
  noFrame: string;
}

/** A report's evidence as a moderator sees it: the still of the reported user's video and both sides' lines. */
export function EvidenceView({ frame, chat, noFrame }: EvidenceViewProps) {
  const { t } = useTranslation('mod');
  return (
    <div className="evidence">
      {frame.startsWith(JPEG) ? (
        <img className="frame" src={frame} alt={t('reports.frameAlt')} data-testid="report-frame" />
      ) : (
        <p className="no-frame" data-testid="no-frame">
          {noFrame}
        </p>
      )}
      <div className="transcript">
        <h4>{t('reports.chat')}</h4>
        {chat.length > 0 ? (
          <ol data-testid="report-chat">
            {chat.map((line, n) => (
              <li key={n} className={line.from === 'you' ? 'from-reporter' : 'from-reported'}>
                <strong>{line.from === 'you' ? t('reports.fromReporter') : t('reports.fromReported')}</strong>{' '}
                <span dir="auto">{line.text}</span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">{t('reports.noChat')}</p>
        )}
      </div>
    </div>
  );
}
