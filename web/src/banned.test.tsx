import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { BannedNotice } from './components/BannedNotice';
import { toBan } from './hooks/useBan';
import { i18n } from './i18n';
import type { MatchInfo } from './protocol';
import { agreeToRules, fakeCameraStream, FakeMediaStream, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const until = '2031-01-02T03:04:05Z';
const longDate = (language: string, iso = until) =>
  new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short' }).format(new Date(iso));

describe('the ban notice', () => {
  it('says until when, in the page language and time zone, and why', () => {
    render(<BannedNotice ban={toBan({ until, reason: 'Nudity on camera' })} />);
    const heading = screen.getByRole('heading', { level: 1 });
    expect(heading).toHaveTextContent(`You are banned until ${longDate('en')}`);
    expect(heading.textContent).toContain('2031');
    expect(heading).toHaveFocus();
    expect(screen.getByText('Nudity on camera')).toHaveAttribute('dir', 'auto');
    expect(screen.getByTestId('banned')).toHaveTextContent('Reason: Nudity on camera');
  });

  it.each([
    ['de', (date: string) => `Du bist bis ${date} gesperrt`],
    ['ru', (date: string) => `Вы заблокированы до ${date}`],
    ['ar', (date: string) => `أنت محظور حتى ${date}`],
  ])('in %s: a localized date in the sentence', async (language, sentence) => {
    await act(async () => {
      await i18n.changeLanguage(language);
    });
    render(<BannedNotice ban={toBan({ until, reason: 'spam' })} />);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(sentence(longDate(language)));
    expect(longDate(language)).not.toBe(longDate('en'));
  });

  it('without a readable date or a reason: just banned', () => {
    render(<BannedNotice ban={toBan({ until: 'soon', reason: '' })} />);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(/^You are banned$/);
    expect(screen.queryByText('Reason:')).not.toBeInTheDocument();
  });
});

describe('App, banned', () => {
  let camera: FakeMediaStream;
  beforeEach(() => {
    camera = fakeCameraStream();
    installBrowserFakes(vi.fn(async () => camera));
    agreeToRules();
  });

  it('banned then 4003: the whole page says so, the camera goes off, and it never reconnects', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      render(<App />, { reactStrictMode: true });
      const socket = FakeWebSocket.latest();
      act(() => {
        socket.serverOpen();
        socket.serverSend(hello('me'));
      });
      await user.click(screen.getByRole('button', { name: 'Start' }));
      const match: MatchInfo = { partner_id: 'p', match_id: 'm1', initiator: true, mode: 'video', common_interests: [] };
      act(() => socket.serverSend({ event: 'match_found', data: match }));
      expect(screen.getByRole('status')).toHaveTextContent('Connected');

      act(() => {
        socket.serverSend({ event: 'banned', data: { until, reason: 'Nudity on camera' } });
        socket.serverClose(4003);
      });
      expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(`You are banned until ${longDate('en')}`);
      expect(screen.getByTestId('banned')).toHaveTextContent('Nudity on camera');
      expect(screen.queryByRole('button', { name: /Next|Start|Report/ })).not.toBeInTheDocument();
      expect(camera.getTracks().every((track) => track.stopped)).toBe(true);

      // Esc is not Next any more, and nothing reconnects.
      await user.keyboard('{Escape}');
      expect(socket.sentEvents('find_match')).toHaveLength(1);
      act(() => vi.advanceTimersByTime(120_000));
      expect(FakeWebSocket.instances.filter((s) => s.readyState !== FakeWebSocket.CLOSED)).toHaveLength(0);
      expect(FakeWebSocket.instances.filter((s) => s !== socket && s.url.includes('resume'))).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a page loaded while banned shows it at once (the server repeats it on every connection)', () => {
    render(<App />);
    const socket = FakeWebSocket.latest();
    act(() => {
      socket.serverOpen();
      socket.serverSend({ event: 'banned', data: { until, reason: 'Harassment' } });
      socket.serverClose(4003);
    });
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('You are banned until');
    expect(screen.getByTestId('banned')).toHaveTextContent('Harassment');
    // no hello comes to a banned page, and nothing more will: it never says "Connecting…"
    expect(screen.queryByText('Connecting…')).not.toBeInTheDocument();
    expect(screen.queryByTestId('online')).not.toBeInTheDocument();
  });
});
