import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Mode } from './protocol';
import { useAttention } from './hooks/useAttention';
import { useCallOutcome, type CallStatus, type CallTimeouts } from './hooks/useCallOutcome';
import { useLanguage } from './hooks/useLanguage';
import { useMatch, type MatchState } from './hooks/useMatch';
import { usePeerConnection } from './hooks/usePeerConnection';
import { usePersistentFlag } from './hooks/usePersistentFlag';
import { useSignaling, type SignalingOptions, type SignalingStatus } from './hooks/useSignaling';
import { useUserMedia } from './hooks/useUserMedia';
import { ChatView } from './components/ChatView';
import { Landing } from './components/Landing';
import type { StatusBarProps } from './components/StatusBar';
import { TopBar } from './components/TopBar';

export interface AppProps {
  signaling?: SignalingOptions;
  /** How long a video call may take to connect or to recover (tests shorten them). */
  callTimeouts?: Partial<CallTimeouts>;
  /** Plays the background-tab alert sound (tests). */
  playAlert?: () => void;
}

export const SOUNDS_STORAGE_KEY = 'gomegle.sounds';

/** The status line: what the user most needs to know right now. */
export function describeStatus(socket: SignalingStatus, match: Pick<MatchState, 'phase' | 'mode'>, call: CallStatus): StatusBarProps {
  if (socket === 'reconnecting') return { text: 'reconnecting', detail: null, tone: 'warn' };
  if (socket === 'replaced') return { text: 'replaced', detail: null, tone: 'warn' };
  switch (match.phase) {
    case 'idle':
    case 'searching':
      return { text: 'searching', detail: null, tone: 'info' };
    case 'partner_left':
      return { text: 'partnerLeft', detail: null, tone: 'warn' };
    case 'matched': {
      if (match.mode === 'text') return { text: 'connected', detail: 'textChat', tone: 'ok' };
      switch (call) {
        case 'failed':
          return { text: 'videoFailed', detail: 'videoFailedDetail', tone: 'warn' };
        case 'recovering':
          return { text: 'connected', detail: 'recoveringVideo', tone: 'warn' };
        case 'connected':
          return { text: 'connected', detail: null, tone: 'ok' };
        case 'none':
        case 'connecting':
          return { text: 'connected', detail: 'startingVideo', tone: 'ok' };
      }
    }
  }
}

export function App({ signaling: signalingOptions, callTimeouts, playAlert }: AppProps = {}) {
  const { t } = useTranslation();
  const language = useLanguage();
  const signaling = useSignaling(signalingOptions);
  const [autoNext, setAutoNext] = useState(false);
  const match = useMatch(signaling, { autoNext });
  const media = useUserMedia();
  const peer = usePeerConnection({
    signaling,
    match: match.match,
    iceServers: match.iceServers,
    localStream: media.stream,
  });
  const call = useCallOutcome({ signaling, match: match.match, peer, timeouts: callTimeouts });
  const [sounds, setSounds] = usePersistentFlag(SOUNDS_STORAGE_KEY, true);
  useAttention({
    title: t('app.title'),
    alertTitles: { connected: t('attention.connected'), message: t('attention.message') },
    matchID: match.match?.match_id ?? null,
    lastStrangerLine: match.lines.findLast((line) => line.from === 'stranger')?.id ?? null,
    sound: sounds,
    play: playAlert,
  });
  const [interests, setInterests] = useState<string[]>([]);
  const [mode, setMode] = useState<Mode>('video');
  const [starting, setStarting] = useState(false);
  const [remoteVolume, setRemoteVolume] = useState(1);
  const { start: startMatch, stop: stopMatch, next, phase } = match;
  const { request: requestMedia, release: releaseMedia, switchCamera: openOtherCamera } = media;
  const { replaceVideoTrack } = peer;

  const start = useCallback(
    async (wanted: Mode) => {
      setMode(wanted);
      if (wanted === 'video') {
        setStarting(true);
        const stream = await requestMedia();
        setStarting(false);
        if (!stream) return; // Landing shows why and offers text only
      } else {
        releaseMedia();
      }
      startMatch({ interests, mode: wanted });
    },
    [interests, requestMedia, releaseMedia, startMatch],
  );

  const stop = useCallback(() => {
    stopMatch();
    releaseMedia();
  }, [stopMatch, releaseMedia]);

  const switchCamera = useCallback(async () => {
    const track = await openOtherCamera();
    if (track) await replaceVideoTrack(track);
  }, [openOtherCamera, replaceVideoTrack]);

  useEffect(() => {
    if (phase === 'idle') return;
    const listeners = new AbortController();
    window.addEventListener(
      'keydown',
      (event) => {
        if (event.key !== 'Escape' || event.defaultPrevented) return;
        event.preventDefault();
        next();
      },
      { signal: listeners.signal },
    );
    return () => listeners.abort();
  }, [phase, next]);

  return (
    <div className="app">
      <TopBar
        online={match.online}
        language={language.language}
        languages={language.languages}
        sounds={sounds}
        onLanguage={language.setLanguage}
        onSounds={setSounds}
      />
      {phase === 'idle' ? (
        <Landing
          interests={interests}
          mode={mode}
          busy={starting}
          mediaError={media.error}
          notice={match.notice}
          connection={signaling.status}
          onInterests={setInterests}
          onMode={setMode}
          onStart={(wanted) => void start(wanted)}
        />
      ) : (
        <ChatView
          phase={phase}
          mode={match.mode}
          status={describeStatus(signaling.status, match, call)}
          call={call}
          notice={match.notice}
          localStream={media.stream}
          remoteStream={peer.remoteStream}
          mirrorLocal={media.facingMode === 'user'}
          remoteVolume={remoteVolume}
          lines={match.lines}
          partnerTyping={match.partnerTyping}
          commonInterests={match.match?.common_interests ?? []}
          audioEnabled={media.audioEnabled}
          videoEnabled={media.videoEnabled}
          canSwitchCamera={media.canSwitchCamera}
          autoNext={autoNext}
          onNext={next}
          onStop={stop}
          onSend={match.sendChat}
          onTyping={match.setTyping}
          onToggleAudio={media.toggleAudio}
          onToggleVideo={media.toggleVideo}
          onSwitchCamera={() => void switchCamera()}
          onRemoteVolume={setRemoteVolume}
          onAutoNext={setAutoNext}
        />
      )}
    </div>
  );
}
