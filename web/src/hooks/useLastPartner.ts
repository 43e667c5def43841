import { useEffect, useMemo, useState } from 'react';
import { REPORT_WINDOW_MS, type MatchInfo, type Mode, type ReportChatLine } from '../protocol';
import { reportChat } from '../evidence';
import type { ChatLine } from './useMatch';

/** Who a report would be about now, and the conversation it would carry. */
export interface ReportTarget {
  matchID: string;
  mode: Mode;
  /** Still talking: the stranger's video is on the page to be captured. False: it ended less than the window ago. */
  current: boolean;
  /** That conversation's last chat lines, as a report sends them. */
  chat: ReportChatLine[];
}

export interface LastPartnerOptions {
  /** The current match (null between matches). */
  match: MatchInfo | null;
  /** The chat lines the page shows (useMatch clears them on Next and Stop). */
  lines: readonly ChatLine[];
  /** How long after a match ended its partner can still be reported (the server's rule). */
  windowMs?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

export interface Conversation {
  matchID: string;
  /** The interests the two shared. */
  common: string[];
  /** The id of the conversation's first line (its "You're now chatting" notice); null until it has one. */
  firstLineID: number | null;
  lines: readonly ChatLine[];
}

interface Ended {
  matchID: string;
  mode: Mode;
  endedAt: number;
}

export interface Tracked {
  match: MatchInfo | null;
  /** The chat of the current match, or of the last one. */
  conversation: Conversation | null;
  /** The last match that ended, until the window after it closes. */
  ended: Ended | null;
}

/**
 * One step of what the page has seen: a match that is no longer current ended now;
 * a new match starts a conversation; lines that follow the conversation's first line
 * are still its lines (the page keeps showing them after the partner left, and clears
 * them on Next or Stop, which must not clear the report's copy). Returns state itself
 * when nothing changed.
 */
export function track(state: Tracked, match: MatchInfo | null, lines: readonly ChatLine[], now: () => number): Tracked {
  let { conversation, ended } = state;
  const matchChanged = (state.match?.match_id ?? null) !== (match?.match_id ?? null);
  if (matchChanged && state.match) ended = { matchID: state.match.match_id, mode: state.match.mode, endedAt: now() };
  if (match && conversation?.matchID !== match.match_id) {
    conversation = { matchID: match.match_id, common: match.common_interests ?? [], firstLineID: lines[0]?.id ?? null, lines };
  } else if (
    conversation &&
    conversation.lines !== lines &&
    lines.length > 0 &&
    (conversation.firstLineID === null ? match?.match_id === conversation.matchID : lines[0].id === conversation.firstLineID)
  ) {
    conversation = { ...conversation, firstLineID: conversation.firstLineID ?? lines[0].id, lines };
  }
  if (state.match === match && conversation === state.conversation && ended === state.ended) return state;
  return { match, conversation, ended };
}

/**
 * The partner a report is about: the current one, or the last one for
 * windowMs after that match ended (by partner_left, Next or Stop), never an
 * earlier one. Keeps that conversation's chat lines, so a report made after
 * moving on still carries them.
 */
export function useLastPartner({ match, lines, windowMs = REPORT_WINDOW_MS, now = Date.now }: LastPartnerOptions): ReportTarget | null {
  const [tracked, setTracked] = useState<Tracked>(() => track({ match: null, conversation: null, ended: null }, match, lines, now));
  // Derived during render (React's "information from previous renders"), so the
  // Report button never blinks out between a match ending and the effect noticing.
  const current = track(tracked, match, lines, now);
  if (current !== tracked) setTracked(current);

  const { ended, conversation } = current;
  useEffect(() => {
    if (!ended) return;
    const expire = () => setTracked((state) => (state.ended === ended ? { ...state, ended: null } : state));
    const timer = setTimeout(expire, Math.max(0, windowMs - (now() - ended.endedAt)));
    return () => clearTimeout(timer);
  }, [ended, windowMs, now]);

  const conversationLines = conversation?.lines;
  const chat = useMemo(() => reportChat(conversationLines ?? []), [conversationLines]);
  const chatOf = (matchID: string) => (conversation?.matchID === matchID ? chat : []);

  if (match) return { matchID: match.match_id, mode: match.mode, current: true, chat: chatOf(match.match_id) };
  if (ended) return { matchID: ended.matchID, mode: ended.mode, current: false, chat: chatOf(ended.matchID) };
  return null;
}
