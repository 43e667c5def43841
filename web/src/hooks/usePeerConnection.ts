import { useCallback, useEffect, useRef, useState } from 'react';
import type { CandidateType, MatchInfo, ServerMessage } from '../protocol';
import type { Signaling } from './useSignaling';

type SignalMessage = Extract<ServerMessage, { event: 'signal' }>['data'];

export interface PeerConnectionOptions {
  signaling: Signaling;
  /** The current video match; null (or a text match) means no peer connection. */
  match: MatchInfo | null;
  iceServers: RTCIceServer[];
  localStream: MediaStream | null;
  /**
   * "Hide my address from strangers": the call uses relayed candidates only, so the stranger's
   * browser never learns this user's address (README: the address and what it protects).
   * Read when a call starts: a change applies to the next one.
   */
  relayOnly?: boolean;
}

export interface PeerConnection {
  remoteStream: MediaStream | null;
  connectionState: RTCPeerConnectionState | 'none';
  /** The local candidate type of the selected candidate pair (getStats), or null. */
  localCandidateType: () => Promise<CandidateType | null>;
  /**
   * Sends this track instead of the current one of its kind (another camera or microphone),
   * on the same sender: no renegotiation, the call goes on. False when there is no call.
   */
  replaceTrack: (track: MediaStreamTrack) => Promise<boolean>;
}

const LOG_LIMIT = 500;

/** What selectedLocalCandidateType reads: an RTCStatsReport, or a Map of reports by id in tests. */
export interface StatsReports {
  forEach(callback: (report: any, id: string) => void): void;
}

/** The local candidate type of the selected candidate pair in a getStats() report, or null. */
export function selectedLocalCandidateType(stats: StatsReports): CandidateType | null {
  const reports = new Map<string, Record<string, unknown>>();
  stats.forEach((report: Record<string, unknown>, id: string) => reports.set(id, report));
  const all = [...reports.values()];
  const selectedID = all.find((report) => report.type === 'transport' && report.selectedCandidatePairId)?.selectedCandidatePairId;
  const pair =
    (typeof selectedID === 'string' ? reports.get(selectedID) : undefined) ??
    all.find((report) => report.type === 'candidate-pair' && report.selected === true) ??
    all.find((report) => report.type === 'candidate-pair' && report.nominated === true && report.state === 'succeeded');
  if (!pair || typeof pair.localCandidateId !== 'string') return null;
  const type = reports.get(pair.localCandidateId)?.candidateType;
  return type === 'host' || type === 'srflx' || type === 'relay' || type === 'prflx' ? type : null;
}

/** The type of an ICE candidate line ("candidate:… typ relay …"), or null when it names none. */
export function candidateType(candidate: string): string | null {
  return / typ (\S+)/.exec(candidate)?.[1] ?? null;
}

/**
 * An SDP without the candidates that are not relayed (a=candidate lines of any other type).
 * With iceTransportPolicy 'relay' the browser gathers no others; this keeps that promise in
 * what the page itself sends, whatever a browser (or a bug in one) gathered.
 */
export function relayCandidatesOnly(sdp: string): string {
  return sdp
    .split(/(?<=\n)/) // each line with its own ending
    .filter((line) => !line.startsWith('a=candidate:') || candidateType(line) === 'relay')
    .join('');
}

/** The plain {type, sdp} the other browser's setRemoteDescription takes (only relayed candidates in it when relayOnly). */
function sessionInit(description: RTCSessionDescriptionInit, relayOnly: boolean): RTCSessionDescriptionInit {
  return { type: description.type, sdp: relayOnly && description.sdp ? relayCandidatesOnly(description.sdp) : description.sdp };
}

/**
 * One RTCPeerConnection per video match, created and closed in an effect keyed
 * by the match id (a resumed match keeps its connection; a new stream or new
 * ICE servers do not tear it down). The initiator offers, the other answers;
 * ICE candidates that arrive before the remote description are queued.
 */
export function usePeerConnection(options: PeerConnectionOptions): PeerConnection {
  const { signaling, match, iceServers, localStream, relayOnly = false } = options;
  const { send, subscribe } = signaling;
  const [remoteStream, setRemoteStream] = useState<MediaStream | null>(null);
  const [connectionState, setConnectionState] = useState<PeerConnection['connectionState']>('none');

  // Read when a connection is created, so changing them never recreates it.
  const iceServersRef = useRef(iceServers);
  const localStreamRef = useRef(localStream);
  const relayOnlyRef = useRef(relayOnly);
  iceServersRef.current = iceServers;
  localStreamRef.current = localStream;
  relayOnlyRef.current = relayOnly;

  // Every signal of the current match, in order. Signals can arrive between
  // match_found and the effect below running, and StrictMode runs that effect
  // twice: each connection it creates replays this log (from its partner only).
  const logRef = useRef<SignalMessage[]>([]);
  const pcRef = useRef<RTCPeerConnection | null>(null);
  const handlerRef = useRef<((signal: SignalMessage) => void) | null>(null);

  useEffect(
    () =>
      subscribe((message) => {
        if (message.event !== 'signal') return;
        const log = logRef.current;
        log.push(message.data);
        if (log.length > LOG_LIMIT) log.shift();
        handlerRef.current?.(message.data);
      }),
    [subscribe],
  );

  const videoMatch = match && match.mode === 'video' ? match : null;
  const matchID = videoMatch?.match_id ?? null;
  const partnerID = videoMatch?.partner_id ?? null;
  const initiator = videoMatch?.initiator ?? false;

  useEffect(() => {
    if (!matchID || !partnerID) {
      logRef.current = [];
      return;
    }
    const hide = relayOnlyRef.current;
    // 'relay': the browser gathers no host or server-reflexive candidate at all, so none can be sent.
    const pc = new RTCPeerConnection({ iceServers: iceServersRef.current, iceTransportPolicy: hide ? 'relay' : 'all' });
    pcRef.current = pc;
    const listeners = new AbortController();
    const { signal } = listeners;
    let closed = false;
    const candidates: RTCIceCandidateInit[] = [];
    // Signals are applied strictly in order: an answer must not overtake the offer.
    let chain: Promise<void> = Promise.resolve();

    const local = localStreamRef.current;
    if (local && local.getTracks().length > 0) {
      for (const track of local.getTracks()) pc.addTrack(track, local);
    } else {
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
    }

    pc.addEventListener(
      'track',
      (event: RTCTrackEvent) => {
        const [stream] = event.streams;
        setRemoteStream(stream ?? new MediaStream([event.track]));
      },
      { signal },
    );
    pc.addEventListener(
      'icecandidate',
      (event: RTCPeerConnectionIceEvent) => {
        if (!event.candidate) return;
        const candidate = event.candidate.toJSON();
        if (hide && candidateType(candidate.candidate ?? '') !== 'relay') return; // see relayCandidatesOnly
        send({ event: 'signal', data: { type: 'candidate', payload: candidate } });
      },
      { signal },
    );
    pc.addEventListener(
      'connectionstatechange',
      () => {
        setConnectionState(pc.connectionState);
        // The path broke (a network change): the initiator renegotiates with
        // fresh ICE credentials; the other side answers it like any offer.
        if (pc.connectionState === 'failed' && initiator) sendOffer({ iceRestart: true });
      },
      { signal },
    );
    setConnectionState(pc.connectionState);

    function sendOffer(options?: RTCOfferOptions) {
      chain = chain
        .then(async () => {
          const offer = await pc.createOffer(options);
          if (closed) return;
          await pc.setLocalDescription(offer);
          send({ event: 'signal', data: { type: 'offer', payload: sessionInit(pc.localDescription ?? offer, hide) } });
        })
        .catch((err: unknown) => {
          if (!closed) console.warn('offer failed', err);
        });
    }

    const drainCandidates = async () => {
      for (const candidate of candidates.splice(0)) {
        await pc.addIceCandidate(candidate);
      }
    };

    const apply = async (message: SignalMessage) => {
      if (closed) return;
      switch (message.type) {
        case 'offer': {
          await pc.setRemoteDescription(message.payload as RTCSessionDescriptionInit);
          await drainCandidates();
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          send({ event: 'signal', data: { type: 'answer', payload: sessionInit(pc.localDescription ?? answer, hide) } });
          return;
        }
        case 'answer':
          await pc.setRemoteDescription(message.payload as RTCSessionDescriptionInit);
          await drainCandidates();
          return;
        case 'candidate': {
          const candidate = message.payload as RTCIceCandidateInit | null;
          if (!candidate) return;
          if (pc.remoteDescription) await pc.addIceCandidate(candidate);
          else candidates.push(candidate);
          return;
        }
        default:
          return; // unknown signal types from a newer peer are ignored
      }
    };

    const enqueue = (message: SignalMessage) => {
      if (message.sender_id !== partnerID) return; // a late signal from an earlier partner
      chain = chain
        .then(() => apply(message))
        .catch((err: unknown) => {
          if (!closed) console.warn('signal failed', message.type, err);
        });
    };

    if (initiator) sendOffer();

    for (const message of logRef.current) enqueue(message);
    handlerRef.current = enqueue;

    return () => {
      closed = true;
      handlerRef.current = null;
      if (pcRef.current === pc) pcRef.current = null;
      listeners.abort();
      pc.close();
      setRemoteStream(null);
      setConnectionState('none');
    };
  }, [matchID, partnerID, initiator, send]);

  const localCandidateType = useCallback(async () => {
    const pc = pcRef.current;
    if (!pc) return null;
    try {
      return selectedLocalCandidateType(await pc.getStats());
    } catch {
      return null;
    }
  }, []);

  const replaceTrack = useCallback(async (track: MediaStreamTrack) => {
    const pc = pcRef.current;
    if (!pc) return false;
    const sender = pc.getSenders().find((candidate) => candidate.track?.kind === track.kind);
    if (!sender) return false;
    await sender.replaceTrack(track);
    return true;
  }, []);

  return { remoteStream, connectionState, localCandidateType, replaceTrack };
}
