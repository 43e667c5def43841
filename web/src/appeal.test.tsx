import { act, cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { BannedNotice } from './components/BannedNotice';
import { appealKeys, readAppealToken, rememberAppealKey } from './hooks/useAppeal';
import { toBan } from './hooks/useBan';
import { MAX_APPEAL_LENGTH } from './protocol';
import { agreeToRules, fakeCameraStream, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const until = '2031-01-02T03:04:05Z';
const TOKEN = 'BAN1.secret';
const frame = 'data:image/jpeg;base64,/9j/AAAA';

/** /api/appeal behind a fake fetch: the server's answers for one ban, and every request. */
class FakeAppeals {
  state: 'none' | 'open' | 'upheld' = 'none';
  text = '';
  gone = false;
  /** The next status to answer with instead. */
  next: number | null = null;
  requests: { method: string; auth: string | undefined; contentType: string | undefined; body: unknown }[] = [];
  withReport = true;
  claims: unknown[] = [];

  fetch = vi.fn(async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    this.requests.push({ method, auth: headers.Authorization, contentType: headers['Content-Type'], body });
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json' } });
    if (path === '/api/appeal/claim') {
      this.claims.push((body as { keys: unknown[] }).keys);
      return this.gone ? json(404, { error: 'no ban' }) : json(200, { appeal: TOKEN, until });
    }
    if (path !== '/api/appeal') return json(404, { error: 'no such endpoint' });
    if (this.next) {
      const status = this.next;
      this.next = null;
      return json(status, { error: 'x' });
    }
    if (this.gone || headers.Authorization !== `Bearer ${TOKEN}`) return json(404, { error: 'no ban in force for this appeal token' });
    if (method === 'POST') {
      if (this.state !== 'none') return json(409, { error: 'appealed already' });
      this.state = 'open';
      this.text = (body as { text: string }).text;
      return new Response(null, { status: 204 });
    }
    return json(200, {
      until,
      reason: 'Nudity on camera',
      state: this.state,
      ...(this.text ? { text: this.text } : {}),
      ...(this.withReport && this.state !== 'upheld' ? { report: { reason: 'nudity', frame, lines: ['my own line'] } } : {}),
    });
  });
}

let server: FakeAppeals;
beforeEach(() => {
  server = new FakeAppeals();
  vi.stubGlobal('fetch', server.fetch);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the ban page appeal', () => {
  it('shows only the user\'s own still and lines, then takes one appeal and says it is open', async () => {
    const user = userEvent.setup();
    render(<BannedNotice ban={toBan({ until, reason: 'Nudity on camera', appeal: TOKEN })} />);
    const panel = await screen.findByTestId('appeal');
    const evidence = await within(panel).findByTestId('appeal-evidence');
    expect(evidence).toHaveTextContent('Reported for: Nudity');
    expect(within(evidence).getByRole('img', { name: 'Your video when you were reported' })).toHaveAttribute('src', frame);
    expect(within(evidence).getByTestId('own-lines')).toHaveTextContent('my own line');
    expect(server.requests[0]).toMatchObject({ method: 'GET', auth: `Bearer ${TOKEN}` });

    // empty: a clear message, nothing sent
    await user.click(within(panel).getByRole('button', { name: 'Send appeal' }));
    expect(within(panel).getByRole('alert')).toHaveTextContent('Write a few words first.');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(0);

    const box = within(panel).getByRole('textbox', { name: 'Why should the ban be lifted?' });
    expect(box).toHaveAttribute('maxLength', String(MAX_APPEAL_LENGTH));
    await user.type(box, 'It was a painting behind me');
    expect(within(panel).getByText(`27/${MAX_APPEAL_LENGTH} characters`)).toBeInTheDocument();
    await user.click(within(panel).getByRole('button', { name: 'Send appeal' }));
    expect(await within(panel).findByText('Your appeal was sent. A moderator will read it.')).toBeInTheDocument();
    expect(within(panel).getByTestId('appeal-sent')).toHaveTextContent('It was a painting behind me');
    expect(within(panel).queryByRole('textbox')).not.toBeInTheDocument();
    expect(server.requests.find((r) => r.method === 'POST')).toMatchObject({
      auth: `Bearer ${TOKEN}`,
      contentType: 'application/json',
      body: { text: 'It was a painting behind me' },
    });
  });

  it('upheld: says so, and shows no evidence any more', async () => {
    server.state = 'upheld';
    render(<BannedNotice ban={toBan({ until, reason: 'Nudity on camera', appeal: TOKEN })} />);
    expect(await screen.findByText('A moderator read your appeal and kept the ban.')).toBeInTheDocument();
    expect(screen.queryByTestId('appeal-evidence')).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
  });

  it('lifted or ended (404): says so, forgets the token, and offers to start again', async () => {
    const user = userEvent.setup();
    server.state = 'open';
    server.text = 'please';
    window.localStorage.setItem('gomegle.appeal', JSON.stringify({ token: TOKEN, until }));
    render(<BannedNotice ban={toBan({ until, reason: 'Nudity on camera', appeal: TOKEN })} />);
    await screen.findByText('Your appeal was sent. A moderator will read it.');
    server.gone = true;
    await user.click(screen.getByRole('button', { name: 'Check again' }));
    expect(await screen.findByText('This ban is no longer in force.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Start again' })).toBeInTheDocument();
    expect(readAppealToken(until)).toBeNull();
  });

  it('a token another tab replaced by a claim: the newer kept one takes over', async () => {
    render(<BannedNotice ban={toBan({ until, reason: 'spam', appeal: 'BAN1.older' })} />);
    expect(await screen.findByText('This ban is no longer in force.')).toBeInTheDocument(); // nothing newer kept
    cleanup();
    window.localStorage.setItem('gomegle.appeal', JSON.stringify({ token: TOKEN, until }));
    render(<BannedNotice ban={toBan({ until, reason: 'spam', appeal: 'BAN1.older' })} />);
    expect(await screen.findByRole('textbox')).toBeInTheDocument();
    expect(server.requests.map((r) => r.auth)).toContain(`Bearer ${TOKEN}`);
  });

  it('a refusal (429) keeps the text typed, and it can be sent again', async () => {
    const user = userEvent.setup();
    render(<BannedNotice ban={toBan({ until, reason: 'spam', appeal: TOKEN })} />);
    const box = await screen.findByRole('textbox');
    await user.type(box, 'not spam');
    server.next = 429;
    await user.click(screen.getByRole('button', { name: 'Send appeal' }));
    expect(await screen.findByText('Too many tries. Wait a minute and try again.')).toBeInTheDocument();
    expect(screen.getByRole('textbox')).toHaveValue('not spam');
    await user.click(screen.getByRole('button', { name: 'Send appeal' }));
    expect(await screen.findByText('Your appeal was sent. A moderator will read it.')).toBeInTheDocument();
  });

  it('an automatic ban: the reason and the form, no evidence', async () => {
    server.withReport = false;
    render(<BannedNotice ban={toBan({ until, reason: 'reported by 3 people', appeal: TOKEN })} />);
    expect(await screen.findByRole('textbox')).toBeInTheDocument();
    expect(screen.queryByTestId('appeal-evidence')).not.toBeInTheDocument();
  });

  it('without a token, in a browser that never had the banned identity: no form, and no request', async () => {
    render(<BannedNotice ban={toBan({ until, reason: 'spam' })} />);
    expect(await screen.findByTestId('no-appeal')).toHaveTextContent('No appeal can be made from this browser');
    expect(server.fetch).not.toHaveBeenCalled();
  });

  it('without a token, in the browser of the banned identity: claims the appeal with the kept keys, then shows it', async () => {
    rememberAppealKey('old-id', 'old-key', window.localStorage, Date.now() - 31 * 24 * 3600 * 1000); // past the longest ban: dropped
    rememberAppealKey('me-1', 'key-1');
    rememberAppealKey('me-2', 'key-2');
    render(<BannedNotice ban={toBan({ until, reason: 'Nudity on camera' })} />);
    expect(await screen.findByTestId('appeal-evidence')).toHaveTextContent('my own line');
    expect(server.claims).toEqual([[{ id: 'me-2', key: 'key-2' }, { id: 'me-1', key: 'key-1' }]]);
    expect(readAppealToken(until)).toBe(TOKEN); // kept for the next reload
  });

  it('a claim nobody matches: an appeal is not possible from here', async () => {
    rememberAppealKey('someone', 'not-banned');
    server.gone = true;
    render(<BannedNotice ban={toBan({ until, reason: 'spam' })} />);
    expect(await screen.findByTestId('no-appeal')).toBeInTheDocument();
  });
});

describe('App: the appeal token', () => {
  beforeEach(() => {
    installBrowserFakes(vi.fn(async () => fakeCameraStream()));
    agreeToRules();
    vi.stubGlobal('fetch', server.fetch); // installBrowserFakes may stub fetch too
  });

  it("remembers each hello's identity and appeal key, for a ban made after the page is gone", () => {
    render(<App />);
    const socket = FakeWebSocket.latest();
    act(() => {
      socket.serverOpen();
      socket.serverSend(hello('me', { appeal_key: 'my-appeal-key' }));
    });
    expect(appealKeys().map(({ id, key }) => ({ id, key }))).toEqual([{ id: 'me', key: 'my-appeal-key' }]);
  });

  it('is kept with its ban, so the page after a reload (banned again, without the token) can still appeal', async () => {
    const first = render(<App />);
    let socket = FakeWebSocket.latest();
    act(() => {
      socket.serverOpen();
      socket.serverSend({ event: 'banned', data: { until, reason: 'Nudity on camera', appeal: TOKEN } });
      socket.serverClose(4003);
    });
    await screen.findByTestId('appeal-evidence');
    first.unmount();

    expect(readAppealToken(until)).toBe(TOKEN);
    render(<App />); // the reload: the server repeats the ban, without a token
    socket = FakeWebSocket.latest();
    act(() => {
      socket.serverOpen();
      socket.serverSend({ event: 'banned', data: { until, reason: 'Nudity on camera' } });
      socket.serverClose(4003);
    });
    await screen.findByTestId('appeal-evidence');
    await waitFor(() => expect(server.requests.filter((r) => r.auth === `Bearer ${TOKEN}`).length).toBeGreaterThanOrEqual(2));

    // another ban (another end): the old token is not its
    expect(readAppealToken('2031-02-01T00:00:00Z')).toBeNull();
  });
});
