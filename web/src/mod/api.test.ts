import { describe, expect, it, vi } from 'vitest';
import { ModAPIError, modAPI, readToken, storeToken, TOKEN_STORAGE_KEY } from './api';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function fakeFetch(answer: (path: string, init: RequestInit) => Response) {
  return vi.fn(async (path: string, init: RequestInit) => answer(path, init));
}

const report = {
  id: 'R7F1',
  created: '2026-03-01T10:00:00Z',
  reason: 'nudity',
  note: 'on camera',
  reporter: 'R-0123456789ab',
  reporter_reports: 3,
  reported: 'u-b',
  reporters: 2,
  counts: false,
  why: ['short'],
  conversation_s: 4.2,
  shared_address: false,
  shared: 'none',
  reported_users: 1,
  evidence: 'kept',
  frame: 'data:image/jpeg;base64,AAAA',
  chat: [{ from: 'stranger', text: 'hi' }],
};
const ban = { id: 'B1', until: '2026-03-02T10:00:00Z', reason: 'Nudity', source: 'moderator', created: '2026-03-01T10:00:00Z' };

describe('modAPI', () => {
  it('sends the token as a Bearer header on every request, to the contract paths', async () => {
    const fetch = fakeFetch((path, init) => {
      if (path === '/mod/api/reports?status=open') return json(200, { reports: [report] });
      if (path === '/mod/api/bans' && init.method === 'GET') return json(200, { bans: [ban] });
      if (path === '/mod/api/reports/R7F1/ban') return json(200, { ban });
      return new Response(null, { status: 204 });
    });
    const api = modAPI('s3cret', fetch);
    expect(await api.reports()).toEqual([report]);
    expect(await api.bans()).toEqual([ban]);
    expect(await api.ban('R7F1', '24h', 'Nudity')).toEqual(ban);
    await api.dismiss('R7F1');
    await api.lift('B 1/x');

    expect(fetch.mock.calls.map(([path, init]) => `${init.method} ${path}`)).toEqual([
      'GET /mod/api/reports?status=open',
      'GET /mod/api/bans',
      'POST /mod/api/reports/R7F1/ban',
      'POST /mod/api/reports/R7F1/dismiss',
      'DELETE /mod/api/bans/B%201%2Fx', // ids are path segments, escaped
    ]);
    for (const [, init] of fetch.mock.calls) {
      expect((init.headers as Record<string, string>).Authorization).toBe('Bearer s3cret');
      expect(init.cache).toBe('no-store');
    }
    const banCall = fetch.mock.calls[2][1];
    expect(JSON.parse(String(banCall.body))).toEqual({ duration: '24h', reason: 'Nudity' });
    expect((banCall.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(fetch.mock.calls[3][1].body).toBeUndefined();
  });

  it('fills in what an older server may leave out (null lists, missing note, frame or chat)', async () => {
    const api = modAPI('t', fakeFetch((path) => (path.startsWith('/mod/api/reports') ? json(200, { reports: [{ ...report, note: undefined, frame: undefined, chat: null }] }) : json(200, { bans: null }))));
    expect(await api.reports()).toEqual([{ ...report, note: '', frame: '', chat: [], evidence: 'kept' }]);
    const older = modAPI('t', fakeFetch(() => json(200, { reports: [{ ...report, frame: '', why: undefined, evidence: undefined }] })));
    expect(await older.reports()).toEqual([{ ...report, frame: '', why: [], evidence: 'none' }]);
    expect(await api.bans()).toEqual([]);
  });

  it.each([
    ['a wrong or missing token (401)', json(401, { error: 'bad token' }), 'list', 'unauthorized'],
    ['no MOD_TOKEN on the server (404 for the list)', json(404, { error: 'not found' }), 'list', 'disabled'],
    ['a server without the API (the app page, 200 text/html)', new Response('<!doctype html>', { status: 200, headers: { 'Content-Type': 'text/html' } }), 'list', 'disabled'],
    ['rate limited (429)', json(429, { error: 'slow down' }), 'list', 'rate_limited'],
    ['an unknown report (404 on an action)', json(404, { error: 'no such report' }), 'action', 'not_found'],
    ['a bad body (400)', json(400, { error: 'bad duration' }), 'action', 'bad_request'],
    ['a server error (500)', new Response('oops', { status: 500 }), 'action', 'failed'],
  ] as const)('%s → %s', async (_name, response, call, kind) => {
    const api = modAPI('t', fakeFetch(() => response));
    const request = call === 'list' ? api.reports() : api.ban('R1', '1h', 'x');
    await expect(request).rejects.toMatchObject({ kind, status: response.status });
    await expect(request).rejects.toBeInstanceOf(ModAPIError);
  });

  it("keeps the server's error text for the logs", async () => {
    const api = modAPI('t', fakeFetch(() => json(401, { error: 'bad token' })));
    await expect(api.bans()).rejects.toThrow('bad token');
  });

  it('no answer at all is a network error', async () => {
    const api = modAPI('t', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(api.reports()).rejects.toMatchObject({ kind: 'network', status: 0 });
  });
});

describe('issue 21: reporters, cursors, every ban', () => {
  it('pages reports with the cursor as given, all of them or one reporter\'s', async () => {
    const fetch = fakeFetch(() => json(200, { reports: [report], total: 9, next_before: '1700000000000.AB' }));
    const api = modAPI('t', fetch);
    expect(await api.reportPage()).toMatchObject({ total: 9, next: '1700000000000.AB' });
    await api.reportPage('1700000000000.AB', 'R-0123456789ab');
    expect(fetch.mock.calls.map(([path]) => path)).toEqual([
      '/mod/api/reports?status=open',
      '/mod/api/reports?status=open&reporter=R-0123456789ab&before=1700000000000.AB',
    ]);
  });

  it('lists the busiest reporters, and dismisses one reporter\'s reports with or without a restriction', async () => {
    const fetch = fakeFetch((path, init) => {
      if (path === '/mod/api/reporters') return json(200, { reporters: [{ reporter: 'R-0123456789ab', reports: 12 }] });
      const restrict = (JSON.parse(String(init.body)) as { restrict?: string }).restrict;
      return json(200, { dismissed: 12, ...(restrict ? { restricted_until: '2031-01-08T00:00:00Z' } : {}) });
    });
    const api = modAPI('t', fetch);
    expect(await api.reporters()).toEqual([{ reporter: 'R-0123456789ab', reports: 12 }]);
    expect(await api.dismissReporter('R-0123456789ab', '168h')).toEqual({ dismissed: 12, restrictedUntil: '2031-01-08T00:00:00Z' });
    expect(await api.dismissReporter('R-0123456789ab', '')).toEqual({ dismissed: 12, restrictedUntil: '' });
    expect(fetch.mock.calls.slice(1).map(([path, init]) => [init.method, path, init.body])).toEqual([
      ['POST', '/mod/api/reporters/R-0123456789ab/dismiss', '{"restrict":"168h"}'],
      ['POST', '/mod/api/reporters/R-0123456789ab/dismiss', '{}'],
    ]);
  });

  it('pages and finds bans', async () => {
    const fetch = fakeFetch(() => json(200, { bans: [ban], total: 120, next: '1700000000000.B1' }));
    const api = modAPI('t', fetch);
    expect(await api.banPage()).toEqual({ bans: [ban], total: 120, next: '1700000000000.B1' });
    await api.banPage({ source: 'auto', q: 'nudity & more', after: '1700000000000.B1' });
    expect(fetch.mock.calls.map(([path]) => path)).toEqual([
      '/mod/api/bans',
      '/mod/api/bans?source=auto&q=nudity+%26+more&after=1700000000000.B1',
    ]);
  });
});

describe('the token', () => {
  it('lives in sessionStorage, never localStorage', () => {
    storeToken('abc');
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('abc');
    expect(readToken()).toBe('abc');
    expect(Object.keys(window.localStorage)).toEqual([]);
    storeToken(null);
    expect(readToken()).toBeNull();
  });
});
