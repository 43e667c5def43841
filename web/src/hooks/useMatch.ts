import { useCallback, useEffect, useRef, useState } from 'react';
import {
  assertNever,
  MAX_CHAT_LENGTH,
  type ErrorCode,
  type ICEServer,
  type Language,
  type MatchInfo,
  type MediaState,
  type Mode,
  type Searching,
  type ServerMessage,
} from '../protocol';
import type { Signaling } from './useSignaling';

/** idle → searching → matched → (partner_left | searching via Next) → … */
export type Phase = 'idle' | 'searching' | 'matched' | 'partner_left';

/**
 * What the page itself says in the chat log (the components word it): matched, or matched
 * with a random stranger although the user gave interests (nobody shared one: the
 * server's interest fallback), and partner_left.
 */
export type SystemNotice = 'matched' | 'matchedRandom' | 'matchedLanguage' | 'partner_left';

export type ChatLine =
  | { id: number; from: 'me' | 'stranger'; text: string }
  | { id: number; from: 'system'; notice: SystemNotice };

export interface Preferences {
  interests: string[];
  mode: Mode;
  /** The languages the user speaks, most preferred first, and whether only they will do. */
  languages: Language[];
  onlyLanguage: boolean;
}

export interface MatchState {
  phase: Phase;
  match: MatchInfo | null;
  mode: Mode;
  online: number | null;
  iceServers: RTCIceServer[];
  /** The server has a TURN relay (hello says so), so the user's address can be hidden from strangers behind it; null before the first hello. */
  turn: boolean | null;
  lines: ChatLine[];
  partnerTyping: boolean;
  /** The stranger's camera and microphone, as its page said (both on until it says otherwise). */
  partnerMedia: MediaState;
  /** Users searching per mode, cluster-wide, as the server last said (null: it never did). */
  searching: Searching | null;
  /** The current search found only strangers met recently: it waits for someone new. */
  metRecently: boolean;
  /** The error code of the last problem the server reported that the user should hear of; null when none. */
  notice: ErrorCode | (string & {}) | null;
  start: (prefs: Preferences) => void;
  next: () => void;
  stop: () => void;
  sendChat: (text: string) => void;
  setTyping: (typing: boolean) => void;
}

export interface MatchOptions {
  /** Look for a new stranger as soon as the current one leaves. */
  autoNext?: boolean;
  /**
   * Offered every server error first: true when it answers another concern's request
   * (a report's, see useReport), which then words it; the match's notice stays as it was.
   */
  claimError?: (code: ErrorCode) => boolean;
}

export function toRTCIceServers(servers: ICEServer[] | null | undefined): RTCIceServer[] {
  return (servers ?? []).map(({ urls, username, credential }) => ({
    urls,
    ...(username ? { username } : {}),
    ...(credential ? { credential } : {}),
  }));
}

const TYPING_PAUSE_MS = 5_000;

export const MEDIA_ON: MediaState = { camera: true, mic: true };

// Errors that are not the user's to act on: not_matched races a partner_left;
// unknown_event answers an event this server does not know yet (rtc_stats,
// before the server that counts it is deployed).
const silentErrors: ReadonlySet<string> = new Set<ErrorCode>(['not_matched', 'unknown_event']);

/**
 * The matchmaking state machine on top of the signaling socket: what the user
 * asked for (start, next, stop), what the server said (waiting, match_found,
 * partner_left, …) and the text chat of the current match.
 */
export function useMatch(signaling: Signaling, options: MatchOptions = {}): MatchState {
  const { send, subscribe } = signaling;
  const [phase, setPhaseState] = useState<Phase>('idle');
  const [match, setMatchState] = useState<MatchInfo | null>(null);
  const [mode, setMode] = useState<Mode>('video');
  const [online, setOnline] = useState<number | null>(null);
  const [iceServers, setIceServers] = useState<RTCIceServer[]>([]);
  const [turn, setTurn] = useState<boolean | null>(null);
  const [lines, setLines] = useState<ChatLine[]>([]);
  const [partnerTyping, setPartnerTyping] = useState(false);
  const [partnerMedia, setPartnerMedia] = useState<MediaState>(MEDIA_ON);
  const [searching, setSearching] = useState<Searching | null>(null);
  const [metRecently, setMetRecently] = useState(false);
  const [notice, setNotice] = useState<MatchState['notice']>(null);

  // The socket handler runs outside React's render, so it reads these refs,
  // which every transition below keeps in step with the state.
  const phaseRef = useRef<Phase>('idle');
  const matchRef = useRef<MatchInfo | null>(null);
  const prefsRef = useRef<Preferences>({ interests: [], mode: 'video', languages: [], onlyLanguage: false });
  const selfIDRef = useRef<string | null>(null);
  const autoNextRef = useRef(Boolean(options.autoNext));
  const claimErrorRef = useRef(options.claimError);
  const typingSentRef = useRef(false);
  const lineIDRef = useRef(0);
  autoNextRef.current = Boolean(options.autoNext);
  claimErrorRef.current = options.claimError;

  const setPhase = useCallback((next: Phase) => {
    phaseRef.current = next;
    setPhaseState(next);
  }, []);
  const setMatch = useCallback((next: MatchInfo | null) => {
    matchRef.current = next;
    setMatchState(next);
  }, []);
  const addLine = useCallback((from: 'me' | 'stranger', text: string) => {
    lineIDRef.current += 1;
    const line: ChatLine = { id: lineIDRef.current, from, text };
    setLines((current) => [...current, line]);
  }, []);
  const addNotice = useCallback((notice: SystemNotice) => {
    lineIDRef.current += 1;
    const line: ChatLine = { id: lineIDRef.current, from: 'system', notice };
    setLines((current) => [...current, line]);
  }, []);

  const findMatch = useCallback(() => {
    const { interests, mode: wanted, languages, onlyLanguage } = prefsRef.current;
    send({ event: 'find_match', data: { interests, mode: wanted, languages, ...(onlyLanguage ? { only_language: true } : {}) } });
    setMatch(null);
    setPartnerTyping(false);
    setMetRecently(false);
    typingSentRef.current = false;
    setPhase('searching');
  }, [send, setMatch, setPhase]);

  const partnerGone = useCallback(
    () => {
      setMatch(null);
      setPartnerTyping(false);
      addNotice('partner_left');
      if (autoNextRef.current) {
        findMatch();
      } else {
        setPhase('partner_left');
      }
    },
    [addNotice, findMatch, setMatch, setPhase],
  );

  useEffect(() => {
    const onMessage = (message: ServerMessage) => {
      switch (message.event) {
        case 'hello': {
          const { id, online: count, searching: counts, ice_servers, turn: relay, resumed, match: resumedMatch } = message.data;
          const previous = selfIDRef.current;
          selfIDRef.current = id;
          setOnline(count);
          if (counts) setSearching(counts);
          setIceServers(toRTCIceServers(ice_servers));
          setTurn(Boolean(relay));
          if (resumed) {
            // Same identity: the server kept our match, if any. It never keeps a search
            // (a resume leaves the queues), so a page that was searching searches again.
            if (resumedMatch && phaseRef.current !== 'idle') {
              setMatch(resumedMatch);
              setPhase('matched');
            } else if (!resumedMatch && phaseRef.current === 'matched') {
              partnerGone(); // the match ended while we were away
            } else if (!resumedMatch && phaseRef.current === 'searching') {
              findMatch();
            }
            return;
          }
          if (previous === null || previous === id) return;
          // A fresh identity after a reconnect: the server forgot our queue entry and match.
          if (phaseRef.current === 'searching') findMatch();
          else if (phaseRef.current === 'matched') partnerGone();
          return;
        }
        case 'waiting': {
          // What the server knows of the search: the page shows "searching" from the
          // moment it sends find_match, and a waiting may arrive after the match_found it
          // raced with, which must not undo the match.
          if (phaseRef.current !== 'searching') return;
          const { mode: waitingMode, searching: count, met_recently } = message.data;
          if (count) setSearching((known) => ({ ...(known ?? { video: 0, text: 0 }), [waitingMode]: count }));
          setMetRecently(Boolean(met_recently));
          return;
        }
        case 'match_found':
          if (phaseRef.current === 'idle') return; // stopped meanwhile
          // TURN credentials come with the match, for its call
          if (message.data.ice_servers) setIceServers(toRTCIceServers(message.data.ice_servers));
          setMatch(message.data);
          setMode(message.data.mode);
          setPartnerTyping(false);
          setPartnerMedia(MEDIA_ON);
          typingSentRef.current = false;
          setLines([]);
          // interests given and none shared: a stranger who shares a language (found at once), or
          // the server's interest fallback found a random stranger
          addNotice(
            prefsRef.current.interests.length === 0 || message.data.common_interests?.length
              ? 'matched'
              : message.data.language
                ? 'matchedLanguage'
                : 'matchedRandom',
          );
          setNotice(null);
          setPhase('matched');
          return;
        case 'signal':
          return; // the peer connection's business
        case 'chat':
          if (!matchRef.current) return;
          setPartnerTyping(false);
          addLine('stranger', message.data.text);
          return;
        case 'typing':
          if (matchRef.current) setPartnerTyping(message.data.typing);
          return;
        case 'media_state':
          if (matchRef.current) setPartnerMedia(message.data);
          return;
        case 'partner_left': {
          const current = matchRef.current;
          if (!current || message.data.from !== current.partner_id) return;
          partnerGone();
          return;
        }
        case 'online':
          setOnline(message.data.count);
          if (message.data.searching) setSearching(message.data.searching);
          return;
        case 'token':
          return; // the socket's business (the next resume token)
        case 'reported':
          return; // useReport's business
        case 'banned':
          return; // useBan's and the socket's business
        case 'error': {
          const { code } = message.data;
          if (claimErrorRef.current?.(code)) return;
          if (code === 'unavailable' && phaseRef.current === 'searching') setPhase('idle');
          if (silentErrors.has(code)) return;
          setNotice(code);
          return;
        }
        default:
          assertNever(message);
      }
    };
    return subscribe(onMessage);
  }, [subscribe, addLine, addNotice, findMatch, partnerGone, setMatch, setPhase]);

  const start = useCallback(
    (prefs: Preferences) => {
      prefsRef.current = prefs;
      setMode(prefs.mode);
      setLines([]);
      setNotice(null);
      findMatch();
    },
    [findMatch],
  );

  const next = useCallback(() => {
    if (phaseRef.current === 'idle') return;
    setLines([]);
    findMatch();
  }, [findMatch]);

  const stop = useCallback(() => {
    if (phaseRef.current === 'idle') return;
    send({ event: 'leave', data: {} });
    setMatch(null);
    setPartnerTyping(false);
    setLines([]);
    setPhase('idle');
  }, [send, setMatch, setPhase]);

  const sendChat = useCallback(
    (raw: string) => {
      const text = raw.trim().slice(0, MAX_CHAT_LENGTH);
      if (!text || !matchRef.current) return;
      send({ event: 'chat', data: { text } });
      typingSentRef.current = false;
      addLine('me', text);
    },
    [send, addLine],
  );

  // "typing" lapses by itself after a pause, so a half-written message that
  // is abandoned does not leave "Stranger is typing…" on the other screen.
  const typingTimerRef = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(typingTimerRef.current), []);
  const setTyping = useCallback(
    (typing: boolean) => {
      clearTimeout(typingTimerRef.current);
      if (!matchRef.current) return;
      if (typing) {
        typingTimerRef.current = setTimeout(() => {
          if (!typingSentRef.current || !matchRef.current) return;
          typingSentRef.current = false;
          send({ event: 'typing', data: { typing: false } });
        }, TYPING_PAUSE_MS);
      }
      if (typingSentRef.current === typing) return;
      typingSentRef.current = typing;
      send({ event: 'typing', data: { typing } });
    },
    [send],
  );

  return {
    phase,
    match,
    mode,
    online,
    iceServers,
    turn,
    lines,
    partnerTyping,
    partnerMedia,
    searching,
    metRecently,
    notice,
    start,
    next,
    stop,
    sendChat,
    setTyping,
  };
}
