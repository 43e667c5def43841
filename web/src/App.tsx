import { useCallback, useEffect, useState } from 'react';
import type { Mode } from './protocol';
import { useMatch, type MatchState } from './hooks/useMatch';
import { usePeerConnection, type PeerConnection } from './hooks/usePeerConnection';
import { useSignaling, type SignalingOptions, type SignalingStatus } from './hooks/useSignaling';
import { useUserMedia } from './hooks/useUserMedia';
import { ChatView, type ChatViewProps } from './components/ChatView';
import { Landing } from './components/Landing';

export interface AppProps {
  signaling?: SignalingOptions;
}

/** The status line: what the user most needs to know right now. */
export function describeStatus(
  socket: SignalingStatus,
  match: Pick<MatchState, 'phase' | 'mode'>,
  peer: PeerConnection,
): ChatViewProps['status'] {
  if (socket === 'reconnecting') return { text: 'Connection lost. Reconnecting…', detail: null, tone: 'warn' };
  if (socket === 'replaced') return { text: 'This chat continues in another tab or window', detail: null, tone: 'warn' };
  switch (match.phase) {
    case 'idle':
    case 'searching':
      return { text: 'Looking for someone…', detail: null, tone: 'info' };
    case 'partner_left':
      return { text: 'Stranger has disconnected', detail: null, tone: 'warn' };
    case 'matched': {
      if (match.mode === 'text') return { text: 'Connected', detail: 'text chat', tone: 'ok' };
      const detail =
        peer.connectionState === 'connected'
          ? null
          : peer.connectionState === 'failed'
            ? 'video could not connect; try Next'
            : 'starting video…';
      return { text: 'Connected', detail, tone: detail && peer.connectionState === 'failed' ? 'warn' : 'ok' };
    }
  }
}

export function App({ signaling: signalingOptions }: AppProps = {}) {
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
  const [interests, setInterests] = useState<string[]>([]);
  const [mode, setMode] = useState<Mode>('video');
  const [starting, setStarting] = useState(false);
  const { start: startMatch, stop: stopMatch, next, phase } = match;
  const { request: requestMedia, release: releaseMedia } = media;

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
      <header className="topbar">
        <span className="brand">Go-Megle</span>
        <span className="online" aria-live="off" data-testid="online">
          {match.online === null ? 'Connecting…' : `${match.online.toLocaleString()} online`}
        </span>
      </header>
      {phase === 'idle' ? (
        <Landing
          interests={interests}
          mode={mode}
          busy={starting}
          mediaError={media.error}
          notice={
            match.notice ??
            (signaling.status === 'reconnecting'
              ? 'Connection lost. Reconnecting…'
              : signaling.status === 'replaced'
                ? 'This chat continues in another tab or window. Reload to start again here.'
                : null)
          }
          onInterests={setInterests}
          onMode={setMode}
          onStart={(wanted) => void start(wanted)}
        />
      ) : (
        <ChatView
          phase={phase}
          mode={match.mode}
          status={describeStatus(signaling.status, match, peer)}
          notice={match.notice}
          localStream={media.stream}
          remoteStream={peer.remoteStream}
          lines={match.lines}
          partnerTyping={match.partnerTyping}
          commonInterests={match.match?.common_interests ?? []}
          audioEnabled={media.audioEnabled}
          videoEnabled={media.videoEnabled}
          autoNext={autoNext}
          onNext={next}
          onStop={stop}
          onSend={match.sendChat}
          onTyping={match.setTyping}
          onToggleAudio={media.toggleAudio}
          onToggleVideo={media.toggleVideo}
          onAutoNext={setAutoNext}
        />
      )}
    </div>
  );
}
