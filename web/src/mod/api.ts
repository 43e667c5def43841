// The moderator API (same origin, JSON, `Authorization: Bearer <MOD_TOKEN>`),
// as the moderator console uses it. A server without MOD_TOKEN answers 404 for
// all of it; one without the API at all serves the app's index.html instead.
import type { ReportChatLine, ReportReason } from '../protocol';

/** An open report, as GET /mod/api/reports lists it (newest first). */
export interface ModReport {
  id: string;
  /** RFC 3339. */
  created: string;
  reason: ReportReason | (string & {});
  note: string;
  /** Opaque labels the server gives the two users. */
  reporter: string;
  reported: string;
  /** Distinct addresses that reported the same user within the server's window. */
  reporters: number;
  /** A data:image/jpeg;base64 URL, or "" when there is none. */
  frame: string;
  /** As the reporter saw it: "stranger" is the reported user. */
  chat: ReportChatLine[];
}

export interface ModBan {
  id: string;
  /** RFC 3339. */
  until: string;
  reason: string;
  source: 'auto' | 'moderator' | (string & {});
  created: string;
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

/** One page of open reports: newest first; next is the `before` of the page after it (0: none). */
export interface ReportPage {
  reports: ModReport[];
  total: number;
  next: number;
}

export interface ModAPI {
  reports: () => Promise<ModReport[]>;
  reportPage: (before?: number) => Promise<ReportPage>;
  ban: (reportID: string, duration: BanDuration, reason: string) => Promise<ModBan>;
  dismiss: (reportID: string) => Promise<void>;
  bans: () => Promise<ModBan[]>;
  lift: (banID: string) => Promise<void>;
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
    async reportPage(before) {
      const path = `/mod/api/reports?status=open${before ? `&before=${before}` : ''}`;
      const body = (await call('GET', path, 'list')) as { reports?: ModReport[] | null; total?: number; next_before?: number };
      const reports = (body.reports ?? []).map((report) => ({ ...report, note: report.note ?? '', frame: report.frame ?? '', chat: report.chat ?? [] }));
      return { reports, total: body.total ?? reports.length, next: body.next_before ?? 0 };
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
    async bans() {
      const body = (await call('GET', '/mod/api/bans', 'list')) as { bans?: ModBan[] | null };
      return body.bans ?? [];
    },
    async lift(banID) {
      await call('DELETE', `/mod/api/bans/${record(banID)}`, 'action');
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
