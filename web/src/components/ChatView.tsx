import { useEffect, useRef } from 'react';
import type { Mode } from '../protocol';
import type { ChatLine, Phase } from '../hooks/useMatch';
import { ChatPanel } from './ChatPanel';
import { Controls } from './Controls';
import { StatusBar } from './StatusBar';
import { VideoTile } from './VideoTile';

export interface ChatViewProps {
  phase: Exclude<Phase, 'idle'>;
  mode: Mode;
  status: { text: string; detail: string | null; tone: 'info' | 'ok' | 'warn' };
  notice: string | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  lines: ChatLine[];
  partnerTyping: boolean;
  commonInterests: string[];
  audioEnabled: boolean;
  videoEnabled: boolean;
  autoNext: boolean;
  onNext: () => void;
  onStop: () => void;
  onSend: (text: string) => void;
  onTyping: (typing: boolean) => void;
  onToggleAudio: () => void;
  onToggleVideo: () => void;
  onAutoNext: (value: boolean) => void;
}

export function ChatView(props: ChatViewProps) {
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

  return (
    <main className={`chat-view ${video ? 'mode-video' : 'mode-text'}`} ref={viewRef} data-phase={phase}>
      <div className="chat-head">
        <StatusBar text={status.text} detail={status.detail} tone={status.tone} />
        {props.notice && (
          <p className="notice notice-warn" role="alert">
            {props.notice}
          </p>
        )}
      </div>
      {video && (
        <section className="videos" aria-label="Video">
          <VideoTile
            stream={props.remoteStream}
            label="Stranger"
            placeholder={phase === 'matched' ? 'Connecting video…' : phase === 'searching' ? 'Looking for someone…' : 'No one here'}
            testID="remote-video"
          />
          <VideoTile
            stream={props.localStream}
            label="You"
            self
            placeholder={props.videoEnabled ? 'No camera' : 'Camera off'}
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
        autoNext={props.autoNext}
        nextLabel={phase === 'partner_left' ? 'New stranger' : 'Next'}
        onNext={props.onNext}
        onStop={props.onStop}
        onToggleAudio={props.onToggleAudio}
        onToggleVideo={props.onToggleVideo}
        onAutoNext={props.onAutoNext}
      />
    </main>
  );
}
