import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '../i18n';
import { isConsolePath } from '../routes';
import { modAPI, TOKEN_STORAGE_KEY, type ModAppeal, type ModBan, type ModReport, type ReporterLoad } from './api';
import { loadConsoleStrings, ModConsole } from './index';

const TOKEN = 'mod-token-1';

/** An in-memory moderator API behind a fake fetch: the contract's answers, and every request. */
class FakeServer {
  reports: ModReport[] = [];
  bans: ModBan[] = [];
  appeals: ModAppeal[] = [];
  enabled = true;
  requests: { method: string; path: string; auth: string | undefined; body: unknown }[] = [];
  /** The next answer to give instead of the normal one. */
  next: Response | null = null;
  /** Reports (and bans) per page (0: all on one). */
  pageSize = 0;
  /** Reporters whose reports are not stored, and until when. */
  restricted = new Map<string, string>();

  fetch = vi.fn(async (path: string, init: RequestInit): Promise<Response> => {
    const method = init.method ?? 'GET';
    const auth = (init.headers as Record<string, string> | undefined)?.Authorization;
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    this.requests.push({ method, path, auth, body });
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json' } });
    if (!this.enabled) return json(404, { error: 'not found' });
    if (auth !== `Bearer ${TOKEN}`) return json(401, { error: 'unauthorized' });
    if (this.next) {
      const answer = this.next;
      this.next = null;
      return answer;
    }
    const url = new URL(path, 'http://console');
    // a page of a list, with a cursor "<n>.<id>" after the nth item
    const paged = <T,>(items: T[], cursor: string | null, name: string, next: string) => {
      const from = cursor ? Number(cursor.split('.')[0]) : 0;
      const size = this.pageSize || items.length;
      const page = items.slice(from, from + size);
      const more = from + size < items.length ? { [next]: `${from + size}.x` } : {};
      return json(200, { [name]: page, total: items.length, ...more });
    };
    if (method === 'GET' && url.pathname === '/mod/api/reports') {
      const reporter = url.searchParams.get('reporter');
      const reports = this.reports.filter((report) => !reporter || report.reporter === reporter);
      return paged(reports, url.searchParams.get('before'), 'reports', 'next_before');
    }
    if (method === 'GET' && url.pathname === '/mod/api/reporters') {
      const counts = new Map<string, number>();
      for (const report of this.reports) counts.set(report.reporter, (counts.get(report.reporter) ?? 0) + 1);
      const reporters: ReporterLoad[] = [...counts].map(([reporter, reports]) => ({ reporter, reports })).sort((a, b) => b.reports - a.reports);
      return json(200, { reporters });
    }
    const dismissAll = /^\/mod\/api\/reporters\/([^/]+)\/dismiss$/.exec(url.pathname);
    if (method === 'POST' && dismissAll) {
      const label = decodeURIComponent(dismissAll[1]);
      const before = this.reports.length;
      this.reports = this.reports.filter((report) => report.reporter !== label);
      const restrict = (body as { restrict?: string }).restrict;
      if (restrict) this.restricted.set(label, '2031-01-08T00:00:00Z');
      return json(200, { dismissed: before - this.reports.length, ...(restrict ? { restricted_until: '2031-01-08T00:00:00Z' } : {}) });
    }
    if (method === 'GET' && url.pathname === '/mod/api/bans') {
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const source = url.searchParams.get('source');
      const bans = this.bans.filter((ban) => (!source || ban.source === source) && (!q || ban.reason.toLowerCase().includes(q) || ban.id.toLowerCase() === q));
      return paged(bans, url.searchParams.get('after'), 'bans', 'next');
    }
    const action = /^\/mod\/api\/reports\/([^/]+)\/(ban|dismiss)$/.exec(path);
    if (method === 'POST' && action) {
      const id = decodeURIComponent(action[1]);
      if (!this.reports.some((report) => report.id === id)) return json(404, { error: 'no such report' });
      this.reports = this.reports.filter((report) => report.id !== id);
      if (action[2] === 'dismiss') return new Response(null, { status: 204 });
      const { reason } = body as { duration: string; reason: string };
      const ban: ModBan = { id: `B-${id}`, until: '2031-01-02T03:04:05Z', reason, source: 'moderator', created: '2031-01-01T03:04:05Z' };
      this.bans.push(ban);
      return json(200, { ban });
    }
    if (method === 'GET' && url.pathname === '/mod/api/appeals') {
      return paged(this.appeals, url.searchParams.get('after'), 'appeals', 'next');
    }
    const decided = /^\/mod\/api\/appeals\/([^/]+)\/(uphold|lift)$/.exec(path);
    if (method === 'POST' && decided) {
      const id = decodeURIComponent(decided[1]);
      if (!this.appeals.some((appeal) => appeal.ban.id === id)) return json(404, { error: 'no such report or ban' });
      this.appeals = this.appeals.filter((appeal) => appeal.ban.id !== id);
      if (decided[2] === 'lift') this.bans = this.bans.filter((ban) => ban.id !== id);
      return new Response(null, { status: 204 });
    }
    const lift = /^\/mod\/api\/bans\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && lift) {
      this.bans = this.bans.filter((ban) => ban.id !== decodeURIComponent(lift[1]));
      return new Response(null, { status: 204 });
    }
    return json(404, { error: 'not found' });
  });
}

const report = (id: string, extra: Partial<ModReport> = {}): ModReport => ({
  id,
  created: '2031-01-01T12:00:00Z',
  reason: 'nudity',
  note: 'showed nudity on camera',
  reporter: `reporter-${id}`,
  reporter_reports: 1,
  reported: `reported-${id}`,
  reporters: 2,
  counts: true,
  why: [],
  conversation_s: 42,
  shared_address: false,
  shared: 'none',
  reported_users: 3,
  watched: { now: false, why: [] },
  evidence: 'kept',
  frame: 'data:image/jpeg;base64,/9j/AAAA',
  chat: [
    { from: 'you', text: 'hello' },
    { from: 'stranger', text: 'hi there' },
  ],
  ...extra,
});

let server: FakeServer;

function renderConsole() {
  const user = userEvent.setup();
  render(<ModConsole api={(token) => modAPI(token, server.fetch)} />, { reactStrictMode: true });
  return user;
}

async function signIn(user: ReturnType<typeof userEvent.setup>, token = TOKEN) {
  await user.type(screen.getByLabelText('Moderator token'), token);
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('the moderator console', { timeout: 20_000 }, () => {
  beforeAll(async () => {
    await loadConsoleStrings();
  });
  beforeEach(() => {
    server = new FakeServer();
    server.reports = [
      report('R2'),
      report('R1', { reason: 'spam', note: '', frame: '', chat: [], reporters: 1, counts: false, why: ['new_reporter', 'short'], evidence: 'none' }),
    ];
    server.bans = [{ id: 'B0', until: '2031-02-01T00:00:00Z', reason: 'Spam', source: 'auto', created: '2031-01-01T00:00:00Z' }];
  });

  it('is at /mod and under it, nowhere else', () => {
    expect(['/mod', '/mod/', '/mod/reports'].map(isConsolePath)).toEqual([true, true, true]);
    expect(['/', '/moderator', '/x/mod'].map(isConsolePath)).toEqual([false, false, false]);
  });

  it('pages through the open reports: the count is of all of them, older ones come on request', async () => {
    server.reports.push(report('R0', { reason: 'underage' }));
    server.pageSize = 2;
    const user = renderConsole();
    await signIn(user);
    expect(await screen.findAllByTestId('report-card')).toHaveLength(2);
    expect(screen.getByRole('heading', { level: 2, name: /Open reports \(3\)/ })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Older reports' }));
    await waitFor(() => expect(screen.getAllByTestId('report-card')).toHaveLength(3));
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/mod/api/reports?status=open&before=2.x' });
    expect(screen.queryByRole('button', { name: 'Older reports' })).not.toBeInTheDocument();
  });

  it('asks for the token in a password field, then lists the open reports newest first and the bans', async () => {
    const user = renderConsole();
    expect(document.title).toBe('Go-Megle moderation');
    const field = screen.getByLabelText('Moderator token');
    expect(field).toHaveAttribute('type', 'password');
    expect(field).toHaveFocus();
    // Before the token, only a probe without one (is the console on here?).
    // (StrictMode runs that effect twice in tests, so there may be two.)
    await waitFor(() => expect(server.requests.length).toBeGreaterThan(0));
    const probes = server.requests.length;
    for (const probe of server.requests) expect(probe).toMatchObject({ method: 'GET', path: '/mod/api/reports?status=open', auth: 'Bearer ' });
    expect(screen.queryByTestId('wrong-token')).not.toBeInTheDocument();
    await signIn(user);

    const cards = await screen.findAllByTestId('report-card');
    expect(cards.map((card) => within(card).getByRole('heading', { level: 3 }).textContent)).toEqual(['Report: Nudity', 'Report: Spam, scams or advertising']);
    expect(screen.getByRole('heading', { level: 1, name: 'Moderator console' })).toHaveFocus();
    for (const request of server.requests.slice(probes)) expect(request.auth).toBe(`Bearer ${TOKEN}`);

    const first = within(cards[0]);
    expect(first.getByText('reported-R2')).toBeInTheDocument();
    expect(first.getByText('reporter-R2')).toBeInTheDocument();
    expect(first.getByTestId('reporters')).toHaveTextContent('2');
    expect(first.getByTestId('counts')).toHaveTextContent('Yes');
    expect(first.getByTestId('conversation')).toHaveTextContent('42 sec');
    expect(first.getByTestId('reporter-reports')).toHaveTextContent('1');
    expect(first.getByTestId('shared-address')).toHaveTextContent('No: another network');
    expect(first.getByTestId('shared-address')).not.toHaveClass('warn');
    expect(first.getByTestId('reported-users')).toHaveTextContent('3');
    expect(first.getByTestId('watched')).toHaveTextContent('No');
    // nothing to confirm: the ban goes at once
    expect(first.queryByRole('checkbox', { name: /ban everyone on this address anyway/ })).not.toBeInTheDocument();
    expect(first.getByText('showed nudity on camera')).toHaveAttribute('dir', 'auto');
    const frame = first.getByRole('img', { name: "Still of the reported user's video when the report was made" });
    expect(frame).toHaveAttribute('src', 'data:image/jpeg;base64,/9j/AAAA');
    expect(first.getByTestId('report-chat')).toHaveTextContent('Reporter: hello');
    expect(first.getByTestId('report-chat')).toHaveTextContent('Reported user: hi there');
    expect(first.getByText(new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date('2031-01-01T12:00:00Z')))).toHaveAttribute(
      'dateTime',
      '2031-01-01T12:00:00Z',
    );

    const second = within(cards[1]);
    expect(second.queryByRole('img')).not.toBeInTheDocument();
    expect(second.getByText('No video still (text chat, or no picture)')).toBeInTheDocument();
    expect(second.getByText('No messages')).toBeInTheDocument();
    expect(second.getByText('No note')).toBeInTheDocument();
    expect(second.getByTestId('counts')).toHaveTextContent("No: the reporter's network is new here, the conversation was short");

    const bans = within(screen.getByTestId('bans'));
    expect(bans.getByText('Spam')).toBeInTheDocument();
    expect(bans.getByText('Automatic')).toBeInTheDocument();

    // The token is kept for this tab only.
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe(TOKEN);
    expect(Object.keys(window.localStorage)).toEqual([]);
  });

  it('a wrong token: says so and asks again; nothing is kept', async () => {
    const user = renderConsole();
    await signIn(user, 'not-it');
    expect(await screen.findByTestId('wrong-token')).toHaveTextContent('Wrong token. Please try again.');
    expect(screen.getByLabelText('Moderator token')).toHaveValue('');
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    await signIn(user);
    expect(await screen.findAllByTestId('report-card')).toHaveLength(2);
    expect(screen.queryByTestId('wrong-token')).not.toBeInTheDocument();
  });

  it('a token kept from earlier in this tab signs in by itself; a 401 later (rotated token) asks again', async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, TOKEN);
    const user = renderConsole();
    expect(await screen.findAllByTestId('report-card')).toHaveLength(2);
    server.next = new Response(JSON.stringify({ error: 'unauthorized' }), { status: 401, headers: { 'Content-Type': 'application/json' } });
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByTestId('wrong-token')).toBeInTheDocument();
    expect(screen.getByLabelText('Moderator token')).toBeInTheDocument();
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
  });

  it('ban: a duration and a reason the user will see; the report leaves the list and the ban appears', async () => {
    const user = renderConsole();
    await signIn(user);
    const card = within((await screen.findAllByTestId('report-card'))[0]);
    const duration = card.getByRole('combobox', { name: 'Ban for' });
    expect([...(duration as HTMLSelectElement).options].map((option) => [option.value, option.text])).toEqual([
      ['1h', '1 hour'],
      ['24h', '24 hours'],
      ['168h', '7 days'],
      ['720h', '30 days'],
    ]);
    expect(duration).toHaveValue('24h');

    // The reason is required.
    await user.click(card.getByRole('button', { name: 'Ban' }));
    expect(card.getByRole('alert')).toHaveTextContent('Write the reason the user will see.');
    expect(server.requests.filter((request) => request.method === 'POST')).toEqual([]);

    await user.selectOptions(duration, '168h');
    await user.type(card.getByRole('textbox', { name: 'Reason shown to the user' }), 'Nudity on camera');
    await user.click(card.getByRole('button', { name: 'Ban' }));

    await waitFor(() => expect(screen.getAllByTestId('report-card')).toHaveLength(1));
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/mod/api/reports/R2/ban', body: { duration: '168h', reason: 'Nudity on camera' } });
    expect(within(screen.getByTestId('bans')).getByText('Nudity on camera')).toBeInTheDocument();
    expect(screen.getByTestId('console-message')).toHaveTextContent(/^Banned until /);
    expect(screen.getByRole('heading', { level: 2, name: /Open reports/ })).toHaveFocus();
  });

  it('dismiss: the report leaves the list', async () => {
    const user = renderConsole();
    await signIn(user);
    const cards = await screen.findAllByTestId('report-card');
    await user.click(within(cards[1]).getByRole('button', { name: 'Dismiss report' }));
    await waitFor(() => expect(screen.getAllByTestId('report-card')).toHaveLength(1));
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/mod/api/reports/R1/dismiss' });
    expect(screen.getByTestId('console-message')).toHaveTextContent('Report dismissed.');
  });

  it('lift: the ban leaves the list', async () => {
    const user = renderConsole();
    await signIn(user);
    await screen.findAllByTestId('report-card');
    await user.click(within(screen.getByTestId('bans')).getByRole('button', { name: 'Lift ban' }));
    expect(await screen.findByText('No active bans.')).toBeInTheDocument();
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/mod/api/bans/B0' });
    expect(screen.getByTestId('console-message')).toHaveTextContent('Ban lifted.');
  });

  it('a report another moderator handled meanwhile (404): says so and reloads the lists', async () => {
    const user = renderConsole();
    await signIn(user);
    const cards = await screen.findAllByTestId('report-card');
    server.reports = server.reports.filter((item) => item.id !== 'R1'); // gone on the server
    await user.click(within(cards[1]).getByRole('button', { name: 'Dismiss report' }));
    expect(await screen.findByText('That report or ban is gone; the lists are up to date again.')).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('report-card')).toHaveLength(1));
  });

  it('rate limited (429): says so, the lists stay', async () => {
    const user = renderConsole();
    await signIn(user);
    await screen.findAllByTestId('report-card');
    server.next = new Response(JSON.stringify({ error: 'slow down' }), { status: 429, headers: { 'Content-Type': 'application/json' } });
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByText('Too many requests. Wait a moment and try again.')).toBeInTheDocument();
    expect(screen.getAllByTestId('report-card')).toHaveLength(2);
  });

  it('a server without MOD_TOKEN (404): the console is not enabled', async () => {
    server.enabled = false;
    renderConsole();
    expect(await screen.findByTestId('console-disabled')).toHaveTextContent('The moderator console is not enabled on this server.');
    expect(screen.queryByLabelText('Moderator token')).not.toBeInTheDocument();
  });

  it('sign out forgets the token', async () => {
    const user = renderConsole();
    await signIn(user);
    await screen.findAllByTestId('report-card');
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(screen.getByLabelText('Moderator token')).toBeInTheDocument();
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
  });

  it("one reporter: its reports alone, all of them dismissed at once and the reporter restricted", async () => {
    server.reports.push(report('R3', { reporter: 'reporter-R1', note: 'again' }), report('R4', { reporter: 'reporter-R1', note: 'and again' }));
    const user = renderConsole();
    await signIn(user);
    const top = within(await screen.findByTestId('top-reporters'));
    expect(top.getAllByRole('row').slice(1).map((row) => row.textContent)).toEqual(['reporter-R13Show', 'reporter-R21Show']);
    await user.click(top.getByRole('button', { name: 'Show the reports from reporter-R1' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Reports from reporter-R1 (3)' })).toBeInTheDocument();
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/mod/api/reports?status=open&reporter=reporter-R1' });
    expect(screen.getAllByTestId('report-card')).toHaveLength(3);
    expect(screen.queryByRole('button', { name: "Show only this reporter's reports" })).not.toBeInTheDocument();

    const form = within(screen.getByTestId('reporter-actions'));
    const restrict = form.getByRole('combobox', { name: 'Then stop storing its reports for' });
    expect([...(restrict as HTMLSelectElement).options].map((option) => option.text)).toEqual(['Do not restrict', '1 hour', '24 hours', '7 days', '30 days']);
    await user.selectOptions(restrict, '168h');
    await user.click(form.getByRole('button', { name: 'Dismiss all its reports' }));
    await waitFor(() => expect(screen.getByTestId('console-message')).toHaveTextContent(/^Reports dismissed: 3\. This reporter's reports are not stored until /));
    expect(server.requests.find((request) => request.method === 'POST')).toMatchObject({ path: '/mod/api/reporters/reporter-R1/dismiss', body: { restrict: '168h' } });
    // everyone's reports again: the other reporter's
    expect(await screen.findByRole('heading', { level: 2, name: 'Open reports (1)' })).toHaveFocus();
    expect(screen.getAllByTestId('report-card')).toHaveLength(1);
    expect(server.restricted.has('reporter-R1')).toBe(true);
  });

  it("a report's reporter is a way to its other reports; why a report does not count, and evidence not kept", async () => {
    server.reports = [report('R5', { counts: false, why: ['no_exchange', 'no_evidence'], evidence: 'no_room', frame: '', reporter_reports: 4 })];
    const user = renderConsole();
    await signIn(user);
    const card = within((await screen.findAllByTestId('report-card'))[0]);
    expect(card.getByTestId('counts')).toHaveTextContent('No: the reported user took no part, no evidence');
    expect(card.getByTestId('no-frame')).toHaveTextContent("Evidence not kept: this reporter's share of the evidence space was used up.");
    expect(card.getByTestId('reporter-reports')).toHaveTextContent('4');
    await user.click(card.getByRole('button', { name: "Show only this reporter's reports" }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Reports from reporter-R5 (1)' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Show all reports' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Open reports (1)' })).toBeInTheDocument();
  });

  it("banning a user the reporter shares an address with asks to confirm first", async () => {
    server.reports = [
      report('R6', { shared_address: true, shared: 'network', counts: false, why: ['shared_address'] }),
      report('R7', { shared_address: true, shared: 'address', counts: false, why: ['shared_address'], reported_users: 212 }),
    ];
    const user = renderConsole();
    await signIn(user);
    const [card, sameAddress] = (await screen.findAllByTestId('report-card')).map((element) => within(element));
    expect(card.getByTestId('shared-address')).toHaveTextContent("The reporter is on the reported user's network");
    expect(sameAddress.getByTestId('shared-address')).toHaveTextContent('The reporter is on the very address of the reported user');
    expect(sameAddress.getByTestId('shared-address')).toHaveClass('warn');
    expect(sameAddress.getByTestId('reported-users')).toHaveTextContent('212');
    expect(sameAddress.getByRole('checkbox', { name: /ban everyone on this address anyway/ })).not.toBeChecked();
    await user.type(card.getByRole('textbox', { name: 'Reason shown to the user' }), 'Harassment');
    await user.click(card.getByRole('button', { name: 'Ban' }));
    expect(card.getByRole('alert')).toHaveTextContent('Confirm first: the reporter shares this address.');
    expect(server.requests.filter((request) => request.method === 'POST')).toEqual([]);
    await user.click(card.getByRole('checkbox', { name: /ban everyone on this address anyway/ }));
    await user.click(card.getByRole('button', { name: 'Ban' }));
    await waitFor(() => expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/mod/api/reports/R6/ban' }));
  });

  it("a report shows whether its reported address is watched, why and until when; a ban, until when its address stays watched after it", async () => {
    server.reports = [
      report('R1', { watched: { now: true, why: ['reports', 'ban'], until: '2031-01-08T12:00:00Z' } }),
      report('R0', { watched: { now: false, why: [] } }),
    ];
    server.bans = [
      { id: 'B1', until: '2031-01-02T00:00:00Z', reason: 'insults', source: 'moderator', created: '2031-01-01T00:00:00Z', watched_until: '2031-02-01T00:00:00Z' },
      { id: 'B2', until: '2031-01-03T00:00:00Z', reason: 'spam', source: 'moderator', created: '2031-01-01T00:00:00Z' },
    ];
    const user = renderConsole();
    await signIn(user);
    const cards = await screen.findAllByTestId('report-card');
    const format = (iso: string) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
    const watched = within(cards[0]).getByTestId('watched');
    expect(watched).toHaveTextContent(`Yes, until ${format('2031-01-08T12:00:00Z')}: open reports that count, a recent ban`);
    expect(watched).toHaveClass('warn');
    expect(within(cards[1]).getByTestId('watched')).toHaveTextContent('No');
    const bans = screen.getAllByTestId('ban');
    expect(within(bans[0]).getByTestId('watched-until')).toHaveTextContent(format('2031-02-01T00:00:00Z'));
    expect(within(bans[0]).getByText('Watched after it ends, until')).toBeInTheDocument();
    expect(within(bans[1]).queryByTestId('watched-until')).not.toBeInTheDocument();
  });

  it('every ban: found by reason and source, a page at a time; an automatic one shows the reports that made it', async () => {
    server.bans = [
      {
        id: 'B0',
        until: '2031-02-01T00:00:00Z',
        reason: 'reported by 3 people',
        source: 'auto',
        created: '2031-01-01T00:00:00Z',
        why: {
          reporters: 3,
          reports: ['a', 'b', 'c'].map((n) => ({ id: `W${n}`, reporter: `R-${n}`, reason: 'harassment', created: '2031-01-01T00:00:00Z', conversation_s: 61, evidence: 'kept' })),
        },
      },
      ...[1, 2, 3].map((n): ModBan => ({ id: `B${n}`, until: '2031-03-01T00:00:00Z', reason: `Spam ${n}`, source: 'moderator', created: '2031-01-01T00:00:00Z' })),
    ];
    server.pageSize = 2;
    const user = renderConsole();
    await signIn(user);
    expect(await screen.findByRole('heading', { level: 2, name: 'Active bans (4)' })).toBeInTheDocument();
    expect(screen.getAllByTestId('ban')).toHaveLength(2);
    const why = within(screen.getByTestId('ban-why'));
    await user.click(why.getByText('Why: networks whose reports counted: 3'));
    expect(why.getAllByRole('row').slice(1).map((row) => within(row).getAllByRole('cell')[0].textContent)).toEqual(['R-a', 'R-b', 'R-c']);
    expect(why.getAllByRole('row')[1]).toHaveTextContent('Harassment');
    expect(why.getAllByRole('row')[1]).toHaveTextContent('61 sec');
    await user.click(screen.getByRole('button', { name: 'More bans' }));
    await waitFor(() => expect(screen.getAllByTestId('ban')).toHaveLength(4));
    expect(screen.queryByRole('button', { name: 'More bans' })).not.toBeInTheDocument();

    const finder = within(screen.getByRole('search', { name: 'Find bans' }));
    await user.type(finder.getByRole('searchbox', { name: 'Reason or ban id' }), 'spam 2');
    await user.selectOptions(finder.getByRole('combobox', { name: 'Source' }), 'moderator');
    await user.click(finder.getByRole('button', { name: 'Find' }));
    await waitFor(() => expect(screen.getAllByTestId('ban')).toHaveLength(1));
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/mod/api/bans?source=moderator&q=spam+2' });
    expect(within(screen.getByTestId('bans')).getByText('Spam 2')).toBeInTheDocument();
  });

  it('speaks the page language (German), reasons included', async () => {
    await act(async () => {
      await i18n.changeLanguage('de');
    });
    const user = renderConsole();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Moderationskonsole');
    await user.type(screen.getByLabelText('Moderations-Token'), TOKEN);
    await user.click(screen.getByRole('button', { name: 'Anmelden' }));
    const cards = await screen.findAllByTestId('report-card');
    expect(within(cards[0]).getByRole('heading', { level: 3 })).toHaveTextContent('Meldung: Nacktheit');
    expect(within(cards[0]).getByRole('combobox', { name: 'Sperren für' })).toBeInTheDocument();
  });
});

describe('the appeals queue', { timeout: 20_000 }, () => {
  const appeal = (id: string, extra: Partial<ModAppeal> = {}): ModAppeal => ({
    ban: { id, until: '2031-01-02T03:04:05Z', reason: `Nudity on camera ${id}`, source: 'moderator', created: '2031-01-01T03:04:05Z' },
    text: `It was a painting (${id})`,
    opened: '2031-01-01T09:00:00Z',
    report: {
      reason: 'nudity',
      note: 'the note the reporter wrote',
      reporter: 'R-0123456789ab',
      created: '2031-01-01T02:00:00Z',
      conversation_s: 30,
      evidence: 'kept',
      frame: 'data:image/jpeg;base64,/9j/AAAA',
      chat: [
        { from: 'you', text: 'the reporter said this' },
        { from: 'stranger', text: 'the banned user said this' },
      ],
    },
    ...extra,
  });

  beforeAll(async () => {
    await loadConsoleStrings();
  });
  beforeEach(async () => {
    window.sessionStorage.clear();
    await i18n.changeLanguage('en');
    server = new FakeServer();
    server.appeals = [appeal('B1'), appeal('B2', { report: undefined, ban: { id: 'B2', until: '2031-01-03T00:00:00Z', reason: 'reported by 3 people', source: 'auto', created: '2031-01-01T00:00:00Z',
      why: { reporters: 3, reports: [{ id: 'r1', reporter: 'R-aaaaaaaaaaaa', reason: 'harassment', created: '2031-01-01T00:00:00Z', conversation_s: 20, evidence: 'kept' }] } } })];
    server.bans = server.appeals.map((a) => a.ban);
  });

  it('each appeal beside the whole report the moderator saw; lift ends the ban, uphold keeps it', async () => {
    const user = renderConsole();
    await signIn(user);
    const queue = await screen.findByTestId('appeals');
    const cards = await within(queue).findAllByTestId('appeal-card');
    expect(cards).toHaveLength(2);
    expect(within(queue).getByRole('heading', { level: 2 })).toHaveTextContent('Appeals (2)');
    const first = cards[0];
    expect(within(first).getByTestId('appeal-text')).toHaveTextContent('It was a painting (B1)');
    expect(within(first).getByText('the note the reporter wrote')).toBeInTheDocument();
    expect(within(first).getByTestId('report-chat')).toHaveTextContent('the reporter said this');
    expect(within(first).getByTestId('report-chat')).toHaveTextContent('the banned user said this');
    expect(within(first).getByTestId('report-frame')).toHaveAttribute('src', 'data:image/jpeg;base64,/9j/AAAA');
    expect(within(cards[1]).queryByTestId('appeal-report')).not.toBeInTheDocument();
    expect(within(cards[1]).getByText('An automatic ban: no single report was kept.')).toBeInTheDocument();
    expect(within(cards[1]).getByTestId('ban-why')).toHaveTextContent('R-aaaaaaaaaaaa'); // the reports that made it

    await user.click(within(first).getByRole('button', { name: 'Lift the ban' }));
    await waitFor(() => expect(within(queue).getAllByTestId('appeal-card')).toHaveLength(1));
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/mod/api/appeals/B1/lift' });
    expect(within(queue).getByTestId('appeals-message')).toHaveTextContent('Ban lifted; the evidence and the appeal are deleted.');
    expect(within(queue).getByRole('heading', { level: 2 })).toHaveFocus();

    await user.click(within(queue).getByRole('button', { name: 'Uphold the ban' }));
    expect(await within(queue).findByText('No open appeals.')).toBeInTheDocument();
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/mod/api/appeals/B2/uphold' });
    expect(within(queue).getByTestId('appeals-message')).toHaveTextContent('Ban upheld; the evidence and the appeal are deleted.');
  });

  it("past REPORT_TTL the report shows the banned user's part only, and says why the reporter's is gone", async () => {
    const own = { ...appeal('B1').report!, note: '', reporter: '', chat: [{ from: 'stranger' as const, text: 'the banned user said this' }] };
    server.appeals = [appeal('B1', { report: own })];
    const user = renderConsole();
    await signIn(user);
    const card = await within(await screen.findByTestId('appeals')).findByTestId('appeal-card');
    expect(within(card).getByTestId('reporter-gone')).toHaveTextContent("The reporter's note, label and own lines are no longer kept");
    expect(within(card).queryByText('No note')).not.toBeInTheDocument();
    expect(within(card).queryByText('Reporter')).not.toBeInTheDocument();
    expect(within(card).getByTestId('report-chat')).toHaveTextContent('the banned user said this');
    expect(within(card).getByTestId('report-frame')).toBeInTheDocument();
  });

  it('an appeal another moderator decided meanwhile (404): says so and reloads the queue', async () => {
    const user = renderConsole();
    await signIn(user);
    const queue = await screen.findByTestId('appeals');
    await within(queue).findAllByTestId('appeal-card');
    server.appeals = server.appeals.slice(1); // decided elsewhere
    await user.click(within(queue).getAllByRole('button', { name: 'Uphold the ban' })[0]);
    expect(await within(queue).findByText('That report or ban is gone; the lists are up to date again.')).toBeInTheDocument();
    await waitFor(() => expect(within(queue).getAllByTestId('appeal-card')).toHaveLength(1));
  });

  it('pages: older appeals come on request', async () => {
    server.pageSize = 1;
    const user = renderConsole();
    await signIn(user);
    const queue = await screen.findByTestId('appeals');
    await within(queue).findByTestId('appeal-card');
    await user.click(within(queue).getByRole('button', { name: 'More appeals' }));
    await waitFor(() => expect(within(queue).getAllByTestId('appeal-card')).toHaveLength(2));
    expect(server.requests.some((request) => request.path === '/mod/api/appeals?after=1.x')).toBe(true);
  });
});
