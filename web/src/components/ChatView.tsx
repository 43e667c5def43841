import { useEffect, useRef, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { Mode } from '../protocol';
import type { CallStatus } from '../hooks/useCallOutcome';
import type { ChatLine, Phase } from '../hooks/useMatch';
import { ChatPanel } from './ChatPanel';
import { Controls, type ReportButton } from './Controls';
import { errorKey } from './errors';
import { StatusBar, type StatusBarProps } from './StatusBar';
import { VideoTile } from './VideoTile';
import type { Verdict } from '../nsfw/policy';

/** The nudity protection of the stranger's video, as the page shows it. */
export interface RemoteShield {
  blurred: boolean;
  verdict: Verdict;
  onShow: () => void;
}

export interface ChatViewProps {
  phase: Exclude<Phase, 'idle'>;
  mode: Mode;
  status: StatusBarProps;
  call: CallStatus;
  /** An error code from the server to tell the user about. */
  notice: string | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  /** The local picture is mirrored only for the front camera. */
  mirrorLocal: boolean;
  remoteVolume: number;
  lines: ChatLine[];
  partnerTyping: boolean;
  commonInterests: string[];
  audioEnabled: boolean;
  videoEnabled: boolean;
  canSwitchCamera: boolean;
  autoNext: boolean;
  report: ReportButton | null;
  /** Gets the stranger's <video> element. */
  remoteVideoRef?: RefObject<HTMLVideoElement | null>;
  /** The stranger's video screened for nudity; null: not screened ("Blur unsafe video" off). */
  remoteShield?: RemoteShield | null;
  /** The one-click nudity report after repeatedly flagged stills; null: not offered. */
  onReportNudity?: (() => void) | null;
  /** The user's own camera scored unsafe: the warning, and its dismissal; null: no warning. */
  onDismissSelfWarning?: (() => void) | null;
  onNext: () => void;
  onStop: () => void;
  onSend: (text: string) => void;
  onTyping: (typing: boolean) => void;
  onToggleAudio: () => void;
  onToggleVideo: () => void;
  onSwitchCamera: () => void;
  onRemoteVolume: (value: number) => void;
  onAutoNext: (value: boolean) => void;
}

export function ChatView(props: ChatViewProps) {
  const { t } = useTranslation();
  const { phase, mode, status } = props;
  const video = mode === 'video';
  const viewRef = useRef<HTMLElement>(null);

  // Move focus to where the user will act next: the message box once a
  // stranger is there, the Next button once they are gone.
  useEffect(() => {
    const root = viewRef.current;
    if (!root) return;
    if (phase === 'matched') root.querySelector<HTMLInputElement>('#chat-input')?.focus();
    if (phase === 'partner_left') root.querySelector<HTMLButtonElement>('.controls .primary')?.focus();
  }, [phase]);

  const remotePlaceholder =
    phase === 'searching'
      ? t('video.searching')
      : phase === 'partner_left'
        ? t('video.nobody')
        : props.call === 'failed'
          ? t('video.failed')
          : t('video.connecting');

  return (
    <main className={`chat-view ${video ? 'mode-video' : 'mode-text'}`} ref={viewRef} data-phase={phase} data-call={props.call}>
      <div className="chat-head">
        <h1 className="visually-hidden">{t('chat.heading')}</h1>
        <StatusBar text={status.text} detail={status.detail} tone={status.tone} />
        {props.notice && (
          <p className="notice notice-warn" role="alert">
            {t(errorKey(props.notice))}
          </p>
        )}
        {props.onDismissSelfWarning && (
          <div className="notice notice-warn notice-row" role="alert" data-testid="self-warning">
            <p>
              <strong>{t('nudity.selfWarning')}</strong> {t('nudity.selfFlagged')}
            </p>
            <button type="button" className="notice-close" onClick={props.onDismissSelfWarning} aria-label={t('nudity.dismiss')}>
              ×
            </button>
          </div>
        )}
        <div className="nudity-offer" aria-live="polite" data-testid="nudity-offer">
          {props.onReportNudity && (
            <div className="notice notice-warn notice-row">
              <p>{t('nudity.offer')}</p>
              <button type="button" className="report" onClick={props.onReportNudity} data-testid="report-nudity">
                {t('nudity.report')}
              </button>
            </div>
          )}
        </div>
      </div>
      {video && (
        <section className="videos" aria-label={t('video.region')}>
          <VideoTile
            stream={props.call === 'failed' ? null : props.remoteStream}
            label={t('video.stranger')}
            videoLabel={t('video.strangerVideo')}
            placeholder={remotePlaceholder}
            testID="remote-video"
            videoRef={props.remoteVideoRef}
            volume={{ value: props.remoteVolume, label: t('video.volume'), onChange: props.onRemoteVolume }}
            shield={
              props.remoteShield
                ? {
                    ...props.remoteShield,
                    message: t(`nudity.${props.remoteShield.verdict === 'safe' ? 'pending' : props.remoteShield.verdict}`),
                    showLabel: t('nudity.showAnyway'),
                  }
                : null
            }
          />
          <VideoTile
            stream={props.localStream}
            label={t('video.you')}
            videoLabel={t('video.yourVideo')}
            self
            mirrored={props.mirrorLocal}
            placeholder={props.videoEnabled ? t('video.noCamera') : t('video.cameraOff')}
            testID="local-video"
          />
        </section>
      )}
      <ChatPanel
        lines={props.lines}
        partnerTyping={props.partnerTyping}
        commonInterests={props.commonInterests}
        canSend={phase === 'matched'}
        onSend={props.onSend}
        onTyping={props.onTyping}
      />
      <Controls
        video={video}
        audioEnabled={props.audioEnabled}
        videoEnabled={props.videoEnabled}
        canSwitchCamera={props.canSwitchCamera}
        autoNext={props.autoNext}
        report={props.report}
        nextLabel={phase === 'partner_left' ? 'newStranger' : 'next'}
        onNext={props.onNext}
        onStop={props.onStop}
        onToggleAudio={props.onToggleAudio}
        onToggleVideo={props.onToggleVideo}
        onSwitchCamera={props.onSwitchCamera}
        onAutoNext={props.onAutoNext}
      />
    </main>
  );
}
