import { useEffect, useRef, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { MediaState, Mode } from '../protocol';
import type { CallStatus } from '../hooks/useCallOutcome';
import type { ChatLine, Phase } from '../hooks/useMatch';
import type { Transcript } from '../hooks/useTranscript';
import { ChatPanel } from './ChatPanel';
import { Controls, type ReportButton } from './Controls';
import type { DevicePickerProps } from './DevicePicker';
import { errorKey } from './errors';
import { MediaControls } from './MediaControls';
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
  /** While searching: how many others search in this mode (null: not known). */
  othersSearching: number | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  /** The local picture is mirrored only for a front camera. */
  mirrorLocal: boolean;
  remoteVolume: number;
  lines: ChatLine[];
  partnerTyping: boolean;
  commonInterests: string[];
  sharedLanguage?: string | null;
  audioEnabled: boolean;
  videoEnabled: boolean;
  /** The stranger's camera and microphone, as its page said. */
  partnerMedia: MediaState;
  canSwitchCamera: boolean;
  /** The camera and microphone pickers; null: nothing to choose. */
  devices: DevicePickerProps | null;
  /** One Esc armed Next. */
  escArmed: boolean;
  report: ReportButton | null;
  /** The chat that just ended, to save or copy; null: none. */
  transcript: Transcript | null;
  /** Gets the stranger's <video> element. */
  remoteVideoRef?: RefObject<HTMLVideoElement | null>;
  /** The stranger's video screened for nudity; null: not screened ("Blur unsafe video" off). */
  remoteShield?: RemoteShield | null;
  /** The stranger's picture has been black or frozen for a while (its camera is not off): said on it, with Next. */
  pictureProblem?: 'black' | 'frozen' | null;
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
}

/** A touch screen: focusing a text box there opens the on-screen keyboard over half the page. */
const touchFirst = () => typeof window.matchMedia === 'function' && window.matchMedia('(pointer: coarse)').matches;

export function ChatView(props: ChatViewProps) {
  const { t } = useTranslation();
  const { phase, mode, status } = props;
  const video = mode === 'video';
  const viewRef = useRef<HTMLElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  // Move focus to where the user will act next: the message box once a stranger is there
  // or is being looked for (after Start or Next: it takes a draft meanwhile), the New
  // stranger button once they are gone. On a touch screen the keyboard is not opened
  // unasked: focus stays where the user tapped, or goes to the view's heading.
  useEffect(() => {
    if (phase === 'partner_left') {
      viewRef.current?.querySelector<HTMLButtonElement>('.controls .next')?.focus();
      return;
    }
    if (!touchFirst()) inputRef.current?.focus();
    else if (!viewRef.current?.contains(document.activeElement)) headingRef.current?.focus();
  }, [phase]);

  const remotePlaceholder =
    phase === 'searching'
      ? t('video.searching')
      : phase === 'partner_left'
        ? t('video.nobody')
        : props.call === 'failed'
          ? t('video.failed')
          : t('video.connecting');

  const others = phase === 'searching' ? props.othersSearching : null;
  const waitingText = others === null ? null : others === 0 ? t(`waiting.nobody.${mode}`) : t(`waiting.others.${mode}`, { count: others });

  return (
    <main className={`chat-view ${video ? 'mode-video' : 'mode-text'}`} ref={viewRef} data-phase={phase} data-call={props.call}>
      <div className="chat-head">
        <h1 className="visually-hidden" ref={headingRef} tabIndex={-1}>
          {t('chat.heading')}
        </h1>
        <StatusBar {...status} />
        {waitingText && (
          <p className="waiting-info" data-testid="waiting-info">
            {waitingText}
          </p>
        )}
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
          <div className="tiles">
            <VideoTile
              stream={props.call === 'failed' ? null : props.remoteStream}
              label={t('video.stranger')}
              videoLabel={t('video.strangerVideo')}
              placeholder={remotePlaceholder}
              testID="remote-video"
              videoRef={props.remoteVideoRef}
              volume={{ value: props.remoteVolume, label: t('video.volume'), onChange: props.onRemoteVolume }}
              cameraOff={phase === 'matched' && !props.partnerMedia.camera ? t('video.cameraOff') : null}
              problem={
                phase === 'matched' && props.pictureProblem
                  ? { message: t(`picture.${props.pictureProblem}`), actionLabel: t('controls.next'), onAction: props.onNext }
                  : null
              }
              muted={phase === 'matched' && !props.partnerMedia.mic ? t('video.muted') : null}
              fullscreen={{ enter: t('video.fullscreen'), exit: t('video.exitFullscreen') }}
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
              cameraOff={props.videoEnabled ? null : t('video.cameraOff')}
              muted={props.audioEnabled ? null : t('video.muted')}
              testID="local-video"
            />
          </div>
          <MediaControls
            audioEnabled={props.audioEnabled}
            videoEnabled={props.videoEnabled}
            canSwitchCamera={props.canSwitchCamera}
            devices={props.devices}
            onToggleAudio={props.onToggleAudio}
            onToggleVideo={props.onToggleVideo}
            onSwitchCamera={props.onSwitchCamera}
          />
        </section>
      )}
      <ChatPanel
        lines={props.lines}
        partnerTyping={props.partnerTyping}
        commonInterests={props.commonInterests}
        sharedLanguage={props.sharedLanguage}
        canSend={phase === 'matched'}
        transcript={props.transcript}
        inputRef={inputRef}
        onSend={props.onSend}
        onTyping={props.onTyping}
      />
      <Controls
        nextLabel={phase === 'partner_left' ? 'newStranger' : 'next'}
        escArmed={props.escArmed}
        report={props.report}
        onNext={props.onNext}
        onStop={props.onStop}
      />
    </main>
  );
}
