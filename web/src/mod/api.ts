// The moderator API (same origin, JSON, `Authorization: Bearer <MOD_TOKEN>`),
// as the moderator console uses it. A server without MOD_TOKEN answers 404 for
// all of it; one without the API at all serves the app's index.html instead.
import type { ReportChatLine, ReportReason } from '../protocol';

/** Why a report does not count towards an automatic ban (report.lua's codes). */
export const WHY_CODES = [
  'shared_address',
  'banned_reporter',
  'new_reporter',
  'reported_reporter',
  'short',
  'no_exchange',
  'no_evidence',
  'no_address',
] as const;
export type WhyCode = (typeof WHY_CODES)[number];

/** What became of a report's evidence: kept, none sent, no room in its reporter's share, given to a later report. */
export type EvidenceState = 'kept' | 'none' | 'no_room' | 'trimmed';

/** An open report, as GET /mod/api/reports lists it (newest first). */
export interface ModReport {
  id: string;
  /** RFC 3339. */
  created: string;
  reason: ReportReason | (string & {});
  note: string;
  /** The reporter's label: the same in all its reports (never an address). */
  reporter: string;
  /** Open reports from that reporter. */
  reporter_reports: number;
  /** An opaque label of the reported user, new in every report. */
  reported: string;
  /** Distinct networks whose reports against the same user count, within the server's window. */
  reporters: number;
  /** This report counts towards an automatic ban. */
  counts: boolean;
  /** Why it does not. */
  why: (WhyCode | (string & {}))[];
  /** How long the two talked, in seconds. */
  conversation_s: number;
  /** The reporter is on the reported user's network (or its very address). */
  shared_address: boolean;
  /** What of the reported user's address the reporter shares: the very address (IPv4, IPv6 /64), its network (IPv6 /48), or nothing. */
  shared: 'address' | 'network' | 'none';
  /** Distinct users the reported address had in the last hour (an estimate, about 1 % off). */
  reported_users: number;
  evidence: EvidenceState | (string & {});
  /** A data:image/jpeg;base64 URL, or "" when there is none. */
  frame: string;
  /** As the reporter saw it: "stranger" is the reported user. */
  chat: ReportChatLine[];
  /** The reported address's standing now (absent from a server before watched users). */
  watched?: ModWatch;
}

/**
 * Whether an address is watched (matched with other watched users first, with everyone
 * else only after a longer wait), why, and until when what is there now keeps it so.
 * The user is never told.
 */
export interface ModWatch {
  now: boolean;
  why: ('reports' | 'ban' | (string & {}))[];
  /** RFC 3339; absent when not watched. */
  until?: string;
}

/** A report that counted towards an automatic ban, as it was then. */
export interface BanWhyReport {
  id: string;
  reporter: string;
  reason: ReportReason | (string & {});
  created: string;
  conversation_s: number;
  evidence: EvidenceState | (string & {});
}

export interface ModBan {
  id: string;
  /** RFC 3339. */
  until: string;
  reason: string;
  source: 'auto' | 'moderator' | (string & {});
  created: string;
  /** An automatic ban: the networks whose reports counted, and those reports. */
  why?: { reporters: number; reports: BanWhyReport[] };
  /** RFC 3339: after the ban ends its address stays watched until then (absent: not). */
  watched_until?: string;
}

/** The report a ban was made from, kept with the ban for its appeal: as the moderator saw it. */
export interface AppealReport {
  reason: ReportReason | (string & {});
  note: string;
  reporter: string;
  created: string;
  conversation_s: number;
  evidence: EvidenceState | (string & {});
  frame: string;
  chat: ReportChatLine[];
}

/** An open appeal, as GET /mod/api/appeals lists them (oldest first). */
export interface ModAppeal {
  ban: ModBan;
  /** The banned user's words. */
  text: string;
  /** RFC 3339. */
  opened: string;
  /** The report the ban was made from (none for an automatic ban). */
  report?: AppealReport;
}

/** One page of open appeals, oldest first; next is the cursor of the page after it ('': none). */
export interface AppealPage {
  appeals: ModAppeal[];
  total: number;
  next: string;
}

/** A reporter and its open reports, as GET /mod/api/reporters lists the busiest. */
export interface ReporterLoad {
  reporter: string;
  reports: number;
}

/** How long a ban lasts, as Go duration strings: 1 h, 24 h, 7 d, 30 d. */
export const BAN_DURATIONS = ['1h', '24h', '168h', '720h'] as const;
export type BanDuration = (typeof BAN_DURATIONS)[number];

/**
 * unauthorized: wrong or missing token (401); disabled: the console is not on
 * (a 404 for the lists, or no JSON API at all); not_found: that report or ban is
 * gone; rate_limited: 429; bad_request: 400; network: no answer; failed: anything else.
 */
export type ModErrorKind = 'unauthorized' | 'disabled' | 'not_found' | 'rate_limited' | 'bad_request' | 'network' | 'failed';

export class ModAPIError extends Error {
  constructor(
    readonly kind: ModErrorKind,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How long a reporter's reports are not stored after a moderator dismissed them all ('' : not restricted). */
export const RESTRICT_DURATIONS = ['', ...BAN_DURATIONS] as const;
export type RestrictDuration = (typeof RESTRICT_DURATIONS)[number];

/** One page of open reports: newest first; next is the cursor of the page after it ('': none). */
export interface ReportPage {
  reports: ModReport[];
  total: number;
  next: string;
}

/** Which bans to list: from a page's cursor on, of one source, whose reason (or id) holds a text. */
export interface BanQuery {
  after?: string;
  source?: '' | 'auto' | 'moderator';
  q?: string;
}

/** One page of bans in force, soonest to end first; next is the cursor of the page after it ('': none). */
export interface BanPage {
  bans: ModBan[];
  total: number;
  next: string;
}

export interface ModAPI {
  reports: () => Promise<ModReport[]>;
  /** A page of all open reports, or of one reporter's. */
  reportPage: (before?: string, reporter?: string) => Promise<ReportPage>;
  ban: (reportID: string, duration: BanDuration, reason: string) => Promise<ModBan>;
  dismiss: (reportID: string) => Promise<void>;
  reporters: () => Promise<ReporterLoad[]>;
  /** Dismisses every open report of one reporter, and restricts it for a while. */
  dismissReporter: (reporter: string, restrict: RestrictDuration) => Promise<{ dismissed: number; restrictedUntil: string }>;
  bans: () => Promise<ModBan[]>;
  banPage: (query?: BanQuery) => Promise<BanPage>;
  lift: (banID: string) => Promise<void>;
  /** A page of open appeals, oldest first. */
  appealPage: (after?: string) => Promise<AppealPage>;
  /** Keeps an appealed ban; its kept report and the appeal are deleted. */
  uphold: (banID: string) => Promise<void>;
  /** Lifts an appealed ban; its kept report and the appeal are deleted. */
  liftAppealed: (banID: string) => Promise<void>;
}

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** A list call (404: the console is off) or an action on one record (404: that record is gone). */
type CallKind = 'list' | 'action';

function errorKind(status: number, call: CallKind): ModErrorKind {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 404:
      return call === 'list' ? 'disabled' : 'not_found';
    case 429:
      return 'rate_limited';
    case 400:
      return 'bad_request';
    default:
      return 'failed';
  }
}

async function serverMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function isJSON(response: Response): boolean {
  return (response.headers.get('Content-Type') ?? '').toLowerCase().includes('application/json');
}

/** The API with this token; fetch is injectable (tests). */
export function modAPI(token: string, fetchImpl: Fetch = (input, init) => fetch(input, init)): ModAPI {
  async function call(method: string, path: string, kind: CallKind, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ModAPIError('network', 0, error instanceof Error ? error.message : String(error));
    }
    if (!response.ok) throw new ModAPIError(errorKind(response.status, kind), response.status, await serverMessage(response));
    if (response.status === 204) return null;
    // A server that has no moderator API serves the app's page for any path.
    if (!isJSON(response)) throw new ModAPIError(kind === 'list' ? 'disabled' : 'failed', response.status, 'not a JSON answer');
    return response.json();
  }

  const record = (id: string) => encodeURIComponent(id);

  return {
    async reportPage(before, reporter) {
      const query = new URLSearchParams({ status: 'open' });
      if (reporter) query.set('reporter', reporter);
      if (before) query.set('before', before);
      const body = (await call('GET', `/mod/api/reports?${query}`, 'list')) as { reports?: ModReport[] | null; total?: number; next_before?: string | number };
      const reports = (body.reports ?? []).map((report) => ({
        ...report,
        note: report.note ?? '',
        frame: report.frame ?? '',
        chat: report.chat ?? [],
        why: report.why ?? [],
        evidence: report.evidence ?? (report.frame ? 'kept' : 'none'),
      }));
      return { reports, total: body.total ?? reports.length, next: body.next_before ? String(body.next_before) : '' };
    },
    async reports() {
      return (await this.reportPage()).reports;
    },
    async ban(reportID, duration, reason) {
      const body = (await call('POST', `/mod/api/reports/${record(reportID)}/ban`, 'action', { duration, reason })) as { ban: ModBan };
      return body.ban;
    },
    async dismiss(reportID) {
      await call('POST', `/mod/api/reports/${record(reportID)}/dismiss`, 'action');
    },
    async reporters() {
      const body = (await call('GET', '/mod/api/reporters', 'list')) as { reporters?: ReporterLoad[] | null };
      return body.reporters ?? [];
    },
    async dismissReporter(reporter, restrict) {
      const body = (await call('POST', `/mod/api/reporters/${record(reporter)}/dismiss`, 'action', restrict ? { restrict } : {})) as {
        dismissed?: number;
        restricted_until?: string;
      };
      return { dismissed: body.dismissed ?? 0, restrictedUntil: body.restricted_until ?? '' };
    },
    async banPage(query = {}) {
      const params = new URLSearchParams();
      if (query.source) params.set('source', query.source);
      if (query.q) params.set('q', query.q);
      if (query.after) params.set('after', query.after);
      const search = params.toString();
      const body = (await call('GET', `/mod/api/bans${search ? `?${search}` : ''}`, 'list')) as { bans?: ModBan[] | null; total?: number; next?: string };
      const bans = body.bans ?? [];
      return { bans, total: body.total ?? bans.length, next: body.next ?? '' };
    },
    async bans() {
      return (await this.banPage()).bans;
    },
    async lift(banID) {
      await call('DELETE', `/mod/api/bans/${record(banID)}`, 'action');
    },
    async appealPage(after) {
      const search = after ? `?${new URLSearchParams({ after })}` : '';
      const body = (await call('GET', `/mod/api/appeals${search}`, 'list')) as { appeals?: ModAppeal[] | null; total?: number; next?: string };
      const appeals = (body.appeals ?? []).map((appeal) =>
        appeal.report ? { ...appeal, report: { ...appeal.report, chat: appeal.report.chat ?? [], frame: appeal.report.frame ?? '' } } : appeal,
      );
      return { appeals, total: body.total ?? appeals.length, next: body.next ?? '' };
    },
    async uphold(banID) {
      await call('POST', `/mod/api/appeals/${record(banID)}/uphold`, 'action');
    },
    async liftAppealed(banID) {
      await call('POST', `/mod/api/appeals/${record(banID)}/lift`, 'action');
    },
  };
}

// The token lives in this tab's sessionStorage only: gone when the tab closes, never in localStorage.
export const TOKEN_STORAGE_KEY = 'gomegle.modToken';

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function readToken(storage: Storage | null = sessionStore()): string | null {
  try {
    return storage?.getItem(TOKEN_STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export function storeToken(token: string | null, storage: Storage | null = sessionStore()): void {
  try {
    if (token) storage?.setItem(TOKEN_STORAGE_KEY, token);
    else storage?.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // not kept: the moderator signs in again after a reload
  }
}
