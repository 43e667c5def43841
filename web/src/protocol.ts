// Wire protocol of the Go server (README "Wire protocol"). Every type here mirrors a Go
// struct in internal/wire; protocol_ts_test.go fails when the two differ.

export type Mode = 'video' | 'text';

export interface ICEServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * The languages a search may ask for (find_match.languages, at most MAX_LANGUAGES, most
 * preferred first): BCP 47 primary tags, the server's fixed list.
 */
export type Language = 'en' | 'es' | 'pt' | 'fr' | 'de' | 'ru' | 'hi' | 'ar' | 'it' | 'tr' | 'ja' | 'zh';
export const LANGUAGES: readonly Language[] = ['en', 'es', 'pt', 'fr', 'de', 'ru', 'hi', 'ar', 'it', 'tr', 'ja', 'zh'];
export const MAX_LANGUAGES = 3;

export interface MatchInfo {
  partner_id: string;
  match_id: string;
  initiator: boolean;
  mode: Mode;
  common_interests?: string[] | null;
  /** the first of the initiator's languages the two share (absent: none) */
  language?: Language;
}

/**
 * match_found's data: the match, and, when the server has TURN, every ICE server for its
 * call with a fresh TURN credential (hello carries the STUN servers only: TURN comes with a
 * match, after the proof of work).
 */
export interface MatchFoundData {
  partner_id: string;
  match_id: string;
  initiator: boolean;
  mode: Mode;
  common_interests?: string[] | null;
  language?: Language;
  ice_servers?: ICEServer[];
}

export type SignalType = 'offer' | 'answer' | 'candidate';

/** How many users search for a partner, cluster-wide, by mode. */
export interface Searching {
  video: number;
  text: number;
}

/** media_state's data, both ways: whether the sender's camera and microphone are on. */
export interface MediaState {
  camera: boolean;
  mic: boolean;
}

/**
 * waiting's data. searching: users searching in this mode, the recipient included (absent:
 * not known); met_recently: the only strangers the search found were met recently, so it
 * waits for someone new (comes again, once, when another search passes this one over).
 */
export interface WaitingData {
  message: string;
  interests: string[] | null;
  mode: Mode;
  searching?: number;
  met_recently?: boolean;
}

export type PartnerLeftReason = 'left' | 'next' | 'disconnected';

export type ErrorCode =
  | 'bad_json'
  | 'unknown_event'
  | 'bad_request'
  | 'not_matched'
  | 'rate_limited'
  | 'unavailable'
  | 'pow_required';

/**
 * A proof-of-work challenge in the ALTCHA format: find n in [0, maxnumber] with
 * SHA-256(salt + n) = challenge; find_match.pow is base64 of the JSON
 * {algorithm, challenge, number, salt, signature}.
 */
export interface PowChallenge {
  algorithm: 'SHA-256';
  challenge: string;
  maxnumber: number;
  salt: string;
  signature: string;
}

/** Server → client. */
export type ServerMessage =
  | {
      event: 'hello';
      data: {
        id: string;
        resume_token: string;
        online: number;
        /** STUN only; TURN too after a resume into a match (otherwise it comes with match_found). */
        /** Absent from a server older than this page. */
        searching?: Searching;
        ice_servers: ICEServer[] | null;
        resumed?: boolean;
        match?: MatchInfo | null;
        /** Solve it before the first find_match (absent: no proof of work needed). */
        pow?: PowChallenge;
        /**
         * The server has a TURN relay (absent: it has none, or it is older than this page), so
         * the page can offer to hide the user's address behind it; the credentials still come
         * with match_found only.
         */
        turn?: boolean;
        /**
         * This identity's appeal key: kept by the page, it claims the appeal of a ban made on
         * this identity after the page was gone (POST /api/appeal/claim). Absent from an older server.
         */
        appeal_key?: string;
      };
    }
  | { event: 'waiting'; data: WaitingData }
  | { event: 'match_found'; data: MatchFoundData }
  // The server relays any signal type (up to 32 chars); this client sends the three below.
  | { event: 'signal'; data: { sender_id: string; type: SignalType | (string & {}); payload: unknown } }
  | { event: 'chat'; data: { text: string } }
  | { event: 'typing'; data: { typing: boolean } }
  | { event: 'media_state'; data: MediaState }
  | { event: 'partner_left'; data: { from: string; reason: PartnerLeftReason } }
  | { event: 'online'; data: { count: number; searching?: Searching } }
  | { event: 'error'; data: { code: ErrorCode; message: string; pow?: PowChallenge } }
  // A Stop makes the last resume token worthless; this is the next one.
  | { event: 'token'; data: { resume_token: string } }
  | { event: 'reported'; data: ReportedData }
  // Followed by a close with CLOSE_BANNED; repeated on every new connection while the ban lasts.
  | { event: 'banned'; data: BannedData };

/** How a video call's setup ended: connected peer to peer, or given up on. */
export type CallOutcome = 'connected' | 'failed';

/** The local ICE candidate type of the selected candidate pair (RTCIceCandidateType). */
export type CandidateType = 'host' | 'srflx' | 'relay' | 'prflx';

/**
 * rtc_stats's data: sent once per video match, when the call connected or the
 * page gave up on it. setup_ms counts from match_found; candidate is there only
 * when the call connected.
 */
export interface RTCStatsRequest {
  outcome: CallOutcome;
  setup_ms: number;
  candidate?: CandidateType;
}

/** Why a user reports the stranger (the order the report dialog lists them in). */
export const REPORT_REASONS = ['nudity', 'sexual', 'harassment', 'spam', 'underage', 'other'] as const;

export type ReportReason = (typeof REPORT_REASONS)[number];

/** One chat line of the reported conversation, as the reporter saw it ("stranger" is the reported user). */
export interface ReportChatLine {
  from: 'you' | 'stranger';
  text: string;
}

/**
 * report's data: about the current partner, or the last one for REPORT_WINDOW_MS after
 * the match ended; one per match. The evidence is what the browser already holds: a
 * still of the stranger's video (a JPEG data: URL of at most MAX_REPORT_FRAME_BYTES
 * decoded, MAX_REPORT_FRAME_WIDTH wide) and the last chat lines.
 */
export interface ReportRequest {
  reason: ReportReason;
  note?: string;
  frame?: string;
  chat?: ReportChatLine[];
  /** The match reported: the server refuses (not_matched) a report that would land on another. */
  match_id?: string;
}

/** reported's data: the report about this match is stored. */
export interface ReportedData {
  match_id: string;
}

/**
 * banned's data: until is an RFC 3339 UTC timestamp; reason is the moderator's words;
 * appeal, only on the banned user's own socket as the ban is made, is the secret that
 * lets it see its own evidence and appeal (GET/POST /api/appeal).
 */
export interface BannedData {
  until: string;
  reason: string;
  appeal?: string;
}

/** Client → server. */
export type ClientMessage =
  | {
      event: 'find_match';
      data: { interests?: string[]; mode?: Mode; languages?: Language[]; only_language?: boolean; pow?: string };
    }
  | { event: 'signal'; data: { type: SignalType; payload: unknown } }
  | { event: 'chat'; data: { text: string } }
  | { event: 'typing'; data: { typing: boolean } }
  | { event: 'media_state'; data: MediaState }
  | { event: 'leave'; data: Record<string, never> }
  | { event: 'rtc_stats'; data: RTCStatsRequest }
  | { event: 'report'; data: ReportRequest };

export type ServerEvent = ServerMessage['event'];

/** Close code of a socket whose identity was resumed on a newer connection: never resume it. */
export const CLOSE_REPLACED = 4001;
/** Close code after banned: this address may not chat until the ban ends; never reconnect. */
export const CLOSE_BANNED = 4003;

export const MAX_INTERESTS = 10;
export const MAX_INTEREST_LENGTH = 32;
export const MAX_CHAT_LENGTH = 2000;

/** A report is accepted while matched and for this long after the match ended. */
export const REPORT_WINDOW_MS = 60_000;
export const MAX_REPORT_NOTE_LENGTH = 500;
/** The longest appeal of a ban (characters); wire.MaxAppealText. */
export const MAX_APPEAL_LENGTH = 1000;
export const MAX_REPORT_CHAT_LINES = 20;
export const MAX_REPORT_FRAME_WIDTH = 640;
/** The frame's JPEG bytes (base64-decoded): 150 kB, counted as 150 000 so it is within 150 KiB too. */
export const MAX_REPORT_FRAME_BYTES = 150_000;

const serverEvents: ReadonlySet<string> = new Set<ServerEvent>([
  'hello',
  'waiting',
  'match_found',
  'signal',
  'chat',
  'typing',
  'media_state',
  'partner_left',
  'online',
  'error',
  'token',
  'reported',
  'banned',
]);

/** Parses one text frame; returns null for anything that is not a known server event. */
export function parseServerMessage(raw: unknown): ServerMessage | null {
  if (typeof raw !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { event, data } = value as { event?: unknown; data?: unknown };
  if (typeof event !== 'string' || !serverEvents.has(event)) return null;
  if (typeof data !== 'object' || data === null) return null;
  return value as ServerMessage;
}

/** Normalises one interest the way the server does: trimmed, lowercase, 1–32 chars. */
export function normaliseInterest(raw: string): string | null {
  const tag = raw.trim().toLowerCase();
  if (tag.length === 0) return null;
  return tag.slice(0, MAX_INTEREST_LENGTH);
}

/** Exhaustiveness guard for switches over discriminated unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
