import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import type { MatchInfo, ServerMessage } from './protocol';
import { fakeCameraStream, FakeRTCPeerConnection, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const found = (overrides: Partial<MatchInfo> = {}): Extract<ServerMessage, { event: 'match_found' }> => ({
  event: 'match_found',
  data: { partner_id: 'stranger', initiator: false, match_id: 'm1', common_interests: [], mode: 'text', ...overrides },
});

let getUserMedia: ReturnType<typeof vi.fn<() => Promise<unknown>>>;

function renderApp() {
  const user = userEvent.setup();
  render(<App />, { reactStrictMode: true });
  const socket = () => FakeWebSocket.latest();
  act(() => {
    socket().serverOpen();
    socket().serverSend(hello('me', { online: 42 }));
  });
  return { user, socket };
}

const status = () => screen.getByRole('status');

describe('App', () => {
  beforeEach(() => {
    getUserMedia = vi.fn<() => Promise<unknown>>(async () => fakeCameraStream());
    installBrowserFakes(getUserMedia);
  });

  it('shows the landing view with the online count', () => {
    renderApp();
    expect(screen.getByRole('heading', { name: /talk to strangers/i })).toBeInTheDocument();
    expect(screen.getByLabelText('Interests (optional)')).toBeInTheDocument();
    expect(screen.getByRole('radio', { name: /video/i })).toBeChecked();
    expect(screen.getByTestId('online')).toHaveTextContent('42 online');
  });

  it('searching: Start sends find_match with the interests and mode', async () => {
    const { user, socket } = renderApp();
    await user.type(screen.getByLabelText('Interests (optional)'), 'Chess{Enter}music,');
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));

    expect(socket().sentEvents('find_match')).toEqual([
      { event: 'find_match', data: { interests: ['chess', 'music'], mode: 'text' } },
    ]);
    expect(status()).toHaveTextContent('Looking for someone…');
    expect(getUserMedia).not.toHaveBeenCalled();
  });

  it('an interest typed without Enter still counts when Start is clicked', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.type(screen.getByLabelText('Interests (optional)'), 'Cooking');
    await user.click(screen.getByRole('button', { name: 'Start' }));
    expect(socket().sentEvents('find_match')).toEqual([
      { event: 'find_match', data: { interests: ['cooking'], mode: 'text' } },
    ]);
  });

  it('matched (text): Connected, common interests, chat both ways and the typing indicator', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found({ common_interests: ['chess'] })));

    expect(status()).toHaveTextContent('Connected');
    expect(screen.getByTestId('common-interests')).toHaveTextContent('chess');
    expect(screen.getByLabelText('Message')).toHaveFocus();

    act(() => socket().serverSend({ event: 'typing', data: { typing: true } }));
    expect(screen.getByTestId('typing')).toHaveTextContent('Stranger is typing…');
    act(() => socket().serverSend({ event: 'chat', data: { text: 'hi there' } }));
    expect(screen.getByTestId('typing')).toHaveTextContent('');
    expect(screen.getByTestId('chat-log')).toHaveTextContent('Stranger: hi there');

    await user.type(screen.getByLabelText('Message'), 'hello{Enter}');
    expect(socket().sent).toContainEqual({ event: 'typing', data: { typing: true } });
    expect(socket().sent).toContainEqual({ event: 'chat', data: { text: 'hello' } });
    expect(screen.getByTestId('chat-log')).toHaveTextContent('You: hello');
  });

  it('matched (video): asks for the camera first and shows the local video', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('button', { name: 'Start' }));
    expect(getUserMedia).toHaveBeenCalledWith({ video: true, audio: true });
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'video' } }]);

    act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
    expect(status()).toHaveTextContent('Connected');
    expect(status()).toHaveTextContent('starting video…');
    const pc = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
    expect(pc).toHaveLength(1);
    act(() => pc[0].fireConnectionState('connected'));
    expect(status()).not.toHaveTextContent('starting video');

    await user.click(screen.getByRole('button', { name: 'Mute' }));
    expect(screen.getByRole('button', { name: 'Unmute' })).toHaveAttribute('aria-pressed', 'true');
    await user.click(screen.getByRole('button', { name: 'Camera off' }));
    expect(screen.getByRole('button', { name: 'Camera on' })).toBeInTheDocument();
  });

  it('partner left: says so and offers a new match', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    act(() => socket().serverSend({ event: 'partner_left', data: { from: 'stranger', reason: 'next' } }));

    expect(status()).toHaveTextContent('Stranger has disconnected');
    const again = screen.getByRole('button', { name: /new stranger/i });
    expect(again).toHaveFocus();
    expect(screen.getByLabelText('Message')).toBeDisabled();
    await user.click(again);
    expect(socket().sentEvents('find_match')).toHaveLength(2);
    expect(status()).toHaveTextContent('Looking for someone…');
  });

  it('partner left with auto-next on: looks for the next stranger by itself', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    await user.click(screen.getByRole('checkbox', { name: /automatically/i }));
    act(() => socket().serverSend({ event: 'partner_left', data: { from: 'stranger', reason: 'left' } }));

    expect(socket().sentEvents('find_match')).toHaveLength(2);
    expect(status()).toHaveTextContent('Looking for someone…');
    expect(screen.getByTestId('chat-log')).toHaveTextContent('Stranger has disconnected.');
  });

  it('typing lapses after a pause without keystrokes', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const { user, socket } = renderApp();
      await user.click(screen.getByRole('radio', { name: /text only/i }));
      await user.click(screen.getByRole('button', { name: 'Start' }));
      act(() => socket().serverSend(found()));
      await user.type(screen.getByRole('textbox', { name: 'Message' }), 'half a thou');
      expect(socket().sentEvents('typing')).toEqual([{ event: 'typing', data: { typing: true } }]);
      act(() => vi.advanceTimersByTime(6_000));
      expect(socket().sentEvents('typing')).toEqual([
        { event: 'typing', data: { typing: true } },
        { event: 'typing', data: { typing: false } },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a waiting that arrives after match_found does not undo the match', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => {
      socket().serverSend(found());
      socket().serverSend({ event: 'waiting', data: { message: 'Looking…', interests: [], mode: 'text' } });
    });
    expect(status()).toHaveTextContent('Connected');
    expect(screen.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  });

  it('ignores partner_left from someone who is not the current partner', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    act(() => socket().serverSend({ event: 'partner_left', data: { from: 'earlier', reason: 'left' } }));
    expect(status()).toHaveTextContent('Connected');
  });

  it('Next on Escape, Stop sends leave and returns to the landing view', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    await user.keyboard('{Escape}');
    expect(socket().sentEvents('find_match')).toHaveLength(2);
    expect(status()).toHaveTextContent('Looking for someone…');

    await user.click(screen.getByRole('button', { name: 'Stop' }));
    expect(socket().sentEvents('leave')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Start' })).toBeInTheDocument();
  });

  it.each([
    ['NotAllowedError', /access was denied/],
    ['NotFoundError', /no camera or microphone was found/i],
  ])('camera error %s: says so and offers text only', async (name, text) => {
    getUserMedia.mockRejectedValue(new DOMException('nope', name));
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('button', { name: 'Start' }));

    expect(await screen.findByTestId('media-error')).toHaveTextContent(text);
    expect(socket().sentEvents('find_match')).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: /continue with text only/i }));
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text' } }]);
    expect(status()).toHaveTextContent('Looking for someone…');
  });

  it('reconnecting: says so, resumes with the token and keeps the match', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));

    const before = socket();
    act(() => before.serverClose(1012));
    expect(status()).toHaveTextContent('Reconnecting…');

    await waitFor(() => expect(socket()).not.toBe(before), { timeout: 2000 });
    expect(socket().url).toMatch(/\/ws\?resume=token-me$/);
    act(() => {
      socket().serverOpen();
      socket().serverSend(hello('me', { resumed: true, match: found().data }));
    });
    expect(status()).toHaveTextContent('Connected');
    expect(screen.getByLabelText('Message')).toBeEnabled();
  });

  it('reconnecting after the grace period: a new identity means the stranger is gone', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    const before = socket();
    act(() => before.serverClose(1006));
    await waitFor(() => expect(socket()).not.toBe(before), { timeout: 2000 });
    act(() => {
      socket().serverOpen();
      socket().serverSend(hello('someone-new'));
    });
    expect(status()).toHaveTextContent('Stranger has disconnected');
  });

  it('resumed without a match after being matched: the stranger is gone', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    const before = socket();
    act(() => before.serverClose(1006));
    await waitFor(() => expect(socket()).not.toBe(before), { timeout: 2000 });
    act(() => {
      socket().serverOpen();
      socket().serverSend(hello('me', { resumed: true }));
    });
    expect(status()).toHaveTextContent('Stranger has disconnected');
  });

  it('shows server errors in words', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend({ event: 'error', data: { code: 'unavailable', message: 'redis down' } }));
    expect(screen.getByRole('alert')).toHaveTextContent(/matchmaking is unavailable/i);
    expect(screen.getByRole('button', { name: 'Start' })).toBeInTheDocument();
  });
});
