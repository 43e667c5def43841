// Reporting the stranger, through the whole page: the button, the evidence
// taken when it is pressed, the report message, Next, and the server's answer.
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App, type AppProps } from './App';
import type { ClientMessage, ErrorCode, MatchInfo, Mode, ServerMessage } from './protocol';
import { agreeToRules, fakeCameraStream, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const FRAME = 'data:image/jpeg;base64,/9j/AAAA';

const found = (match_id: string, mode: Mode, partner_id = `p-${match_id}`): ServerMessage => ({
  event: 'match_found',
  data: { partner_id, initiator: false, match_id, common_interests: [], mode } satisfies MatchInfo,
});

function setup(props: AppProps = {}, advanceTimers?: (ms: number) => void) {
  const user = userEvent.setup(advanceTimers ? { advanceTimers } : {});
  render(<App {...props} />, { reactStrictMode: true });
  const socket = () => FakeWebSocket.latest();
  act(() => {
    socket().serverOpen();
    socket().serverSend(hello('me'));
  });
  const server = (message: ServerMessage) => act(() => socket().serverSend(message));
  const start = async (mode: Mode) => {
    await user.click(screen.getByRole('radio', { name: mode === 'video' ? 'Video and text' : 'Text only' }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
  };
  const say = async (text: string) => {
    await user.type(screen.getByRole('textbox', { name: 'Message' }), `${text}{Enter}`);
  };
  const report = async (reason: string, note = '') => {
    await user.click(screen.getByRole('radio', { name: reason }));
    if (note) {
      await user.click(screen.getByRole('textbox', { name: 'What happened? (optional)' }));
      await user.paste(note);
    }
    await user.click(screen.getByRole('button', { name: 'Send report' }));
  };
  const sent = (event: ClientMessage['event']) => socket().sentEvents(event);
  const reportNotice = () => screen.getByTestId('report-notice');
  return { user, socket, server, start, say, report, sent, reportNotice };
}

// Whole-page tests with StrictMode and typing: slow on a loaded 2-core machine, so a roomier limit.
describe('Report', { timeout: 20_000 }, () => {
  beforeEach(() => {
    installBrowserFakes(async () => fakeCameraStream());
    agreeToRules();
  });

  it('video: takes the still when pressed, sends the reason, note, still and chat, moves on as Next, and thanks on reported', async () => {
    const captureFrame = vi.fn((_video: HTMLVideoElement | null) => FRAME);
    const { user, server, start, say, report, sent, socket, reportNotice } = setup({ captureFrame });
    await start('video');
    server(found('m1', 'video'));
    server({ event: 'chat', data: { text: 'hi' } });
    await say('hello');

    await user.click(screen.getByRole('button', { name: 'Report' }));
    expect(captureFrame).toHaveBeenCalledTimes(1);
    expect(captureFrame.mock.calls[0][0]).toBe(screen.getByLabelText("Stranger's video"));
    const dialog = screen.getByRole('dialog', { name: 'Report this stranger' });
    expect(dialog).toHaveAccessibleDescription(/a still of the stranger's video, taken just now, and the last messages/);
    await report('Nudity', 'showed nudity on camera');

    expect(sent('report')).toEqual([
      {
        event: 'report',
        data: {
          match_id: 'm1',
          reason: 'nudity',
          note: 'showed nudity on camera',
          frame: FRAME,
          chat: [
            { from: 'stranger', text: 'hi' },
            { from: 'you', text: 'hello' },
          ],
        },
      },
    ]);
    // The report first, then the Next.
    const order = socket().sent.map((message) => message.event).filter((event) => event === 'report' || event === 'find_match');
    expect(order).toEqual(['find_match', 'report', 'find_match']);
    expect(screen.getByRole('status')).toHaveTextContent('Looking for someone…');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Report/ })).not.toBeInTheDocument(); // one report per match
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveFocus(); // as after any Next: ready for the next one
    expect(reportNotice()).toBeEmptyDOMElement();

    server({ event: 'reported', data: { match_id: 'm1' } });
    expect(reportNotice()).toHaveTextContent('Thanks — a moderator will review this');
    expect(reportNotice()).toHaveAttribute('aria-live', 'polite');
    await user.click(within(reportNotice()).getByRole('button', { name: 'Dismiss' }));
    expect(reportNotice()).toBeEmptyDOMElement();
  });

  it('text: no still is taken or sent', async () => {
    const captureFrame = vi.fn(() => FRAME);
    const { user, server, start, say, report, sent } = setup({ captureFrame });
    await start('text');
    server(found('m1', 'text'));
    await say('hello');
    await user.click(screen.getByRole('button', { name: 'Report' }));
    expect(screen.getByRole('dialog')).toHaveAccessibleDescription('Your report includes the last messages of this chat.');
    await report('Spam, scams or advertising');
    expect(captureFrame).not.toHaveBeenCalled();
    expect(sent('report')).toEqual([{ event: 'report', data: { reason: 'spam', match_id: 'm1', chat: [{ from: 'you', text: 'hello' }] } }]);
  });

  it('video without a picture yet: no still, and the dialog says so', async () => {
    const { user, server, start, report, sent } = setup({ captureFrame: () => null });
    await start('video');
    server(found('m1', 'video'));
    await user.click(screen.getByRole('button', { name: 'Report' }));
    expect(screen.getByRole('dialog')).toHaveAccessibleDescription('Your report includes only the reason and your note.');
    await report('Something else');
    expect(sent('report')).toEqual([{ event: 'report', data: { reason: 'other', match_id: 'm1' } }]);
  });

  it('Cancel sends nothing, keeps the chat, and the button stays', async () => {
    const { user, server, start, sent } = setup();
    await start('text');
    server(found('m1', 'text'));
    const button = screen.getByRole('button', { name: 'Report' });
    await user.click(button);
    await user.keyboard('{Escape}'); // closes the dialog, and is not Next
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(sent('report')).toEqual([]);
    expect(sent('find_match')).toHaveLength(1);
    expect(screen.getByRole('status')).toHaveTextContent('Connected');
    expect(button).toHaveFocus();
  });

  it.each<[ErrorCode, string]>([
    ['not_matched', 'That chat ended too long ago to report it.'],
    ['rate_limited', 'You have sent too many reports. Please try again later.'],
    ['bad_request', 'The server could not accept this report.'],
    ['unavailable', 'The report could not be stored right now. Please try again shortly.'],
    ['unknown_event', "Reporting isn't available on this server right now."],
  ])('the server answers %s: said in words of its own, not as a chat error', async (code, words) => {
    const { user, server, start, report, reportNotice } = setup();
    await start('text');
    server(found('m1', 'text'));
    await user.click(screen.getByRole('button', { name: 'Report' }));
    await report('Harassment, threats or hate');
    server({ event: 'error', data: { code, message: 'x' } });
    expect(reportNotice()).toHaveTextContent(words);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument(); // not "Slow down a little: too many messages."
    expect(screen.getByRole('status')).toHaveTextContent('Looking for someone…'); // the search goes on
    // Not reported: the last stranger can be reported again while the window lasts.
    expect(screen.getByRole('button', { name: 'Report last stranger' })).toBeInTheDocument();

    // The next error is the chat's again.
    server({ event: 'error', data: { code: 'bad_request', message: 'x' } });
    expect(screen.getByRole('alert')).toHaveTextContent('Something went wrong. Please try again.');
  });

  it('a new stranger arriving while the dialog is open: the report is not sent (it would be about them)', async () => {
    const { user, server, start, report, sent, reportNotice } = setup();
    await start('text');
    server(found('m1', 'text'));
    server({ event: 'partner_left', data: { from: 'p-m1', reason: 'left' } });
    await user.click(screen.getByRole('checkbox', { name: /automatically/i }));
    await user.click(screen.getByRole('button', { name: 'Report last stranger' }));
    // Auto-next found someone else meanwhile.
    server(found('m2', 'text'));
    expect(screen.getByRole('dialog')).toContainElement(document.activeElement as HTMLElement); // not the message box
    await report('Nudity');
    expect(sent('report')).toEqual([]);
    expect(reportNotice()).toHaveTextContent('That chat is over, so the report was not sent.');
    expect(screen.getByRole('button', { name: 'Report' })).toBeInTheDocument(); // the new stranger can be
  });

  it('after Stop, the landing page offers to report the last stranger; no new search', async () => {
    const { user, server, start, say, report, sent } = setup();
    await start('text');
    server(found('m1', 'text'));
    await say('bye');
    await user.click(screen.getByRole('button', { name: 'Stop' }));
    await user.click(screen.getByRole('button', { name: 'Report last stranger' }));
    await report('Seems to be under 18');
    expect(sent('report')).toEqual([{ event: 'report', data: { reason: 'underage', match_id: 'm1', chat: [{ from: 'you', text: 'bye' }] } }]);
    expect(sent('find_match')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Start' })).toHaveFocus();
  });

  describe('the 60 s after a stranger left', () => {
    beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
    afterEach(() => vi.useRealTimers());

    async function talkThenPartnerLeaves() {
      const app = setup({ captureFrame: () => FRAME }, vi.advanceTimersByTime);
      await app.start('video');
      app.server(found('m1', 'video', 'bob'));
      app.server({ event: 'chat', data: { text: 'from bob' } });
      await app.say('to bob');
      app.server({ event: 'partner_left', data: { from: 'bob', reason: 'next' } });
      return app;
    }

    it('the button stays for 59 s and reports the last partner, with that chat and no still', async () => {
      const { user, sent, report } = await talkThenPartnerLeaves();
      const button = screen.getByRole('button', { name: 'Report last stranger' });
      act(() => vi.advanceTimersByTime(59_000));
      expect(button).toBeInTheDocument();
      await user.click(button);
      await report('Nudity');
      expect(sent('report')).toEqual([
        {
          event: 'report',
          data: {
            match_id: 'm1',
            reason: 'nudity',
            chat: [
              { from: 'stranger', text: 'from bob' },
              { from: 'you', text: 'to bob' },
            ],
          },
        },
      ]);
      expect(sent('find_match')).toHaveLength(2); // New stranger
    });

    it('is gone 60 s after the partner left', async () => {
      await talkThenPartnerLeaves();
      expect(screen.getByRole('button', { name: 'Report last stranger' })).toBeInTheDocument();
      // (The fake clock also follows real time here, which the 1 s margin absorbs.)
      act(() => vi.advanceTimersByTime(59_000));
      expect(screen.getByRole('button', { name: 'Report last stranger' })).toBeInTheDocument();
      act(() => vi.advanceTimersByTime(1_000));
      expect(screen.queryByRole('button', { name: /^Report/ })).not.toBeInTheDocument();
    });

    it('after Next the chat is cleared from the page, but the last partner is still reported with it', async () => {
      const { user, sent, report } = await talkThenPartnerLeaves();
      await user.click(screen.getByRole('button', { name: /New stranger/ }));
      expect(screen.getByTestId('chat-log')).not.toHaveTextContent('from bob');
      act(() => vi.advanceTimersByTime(30_000));
      await user.click(screen.getByRole('button', { name: 'Report last stranger' }));
      await report('Harassment, threats or hate');
      expect(sent('report')[0].data).toEqual({
        match_id: 'm1',
        reason: 'harassment',
        chat: [
          { from: 'stranger', text: 'from bob' },
          { from: 'you', text: 'to bob' },
        ],
      });
    });

    it('a new stranger is the one reported from then on, never the one before', async () => {
      const { user, server, say, sent, report } = await talkThenPartnerLeaves();
      await user.click(screen.getByRole('button', { name: /New stranger/ }));
      server(found('m2', 'video', 'carol'));
      await say('to carol');
      act(() => vi.advanceTimersByTime(10_000));
      await user.click(screen.getByRole('button', { name: 'Report' }));
      await report('Spam, scams or advertising');
      expect(sent('report')[0].data).toEqual({ reason: 'spam', match_id: 'm2', frame: FRAME, chat: [{ from: 'you', text: 'to carol' }] });
      // Carol's report moved on (Next): only carol is the last partner now, and she is reported.
      expect(screen.queryByRole('button', { name: /^Report/ })).not.toBeInTheDocument();
    });
  });
});
