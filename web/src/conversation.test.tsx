// The page in a conversation (issue 20): what the stranger's camera and microphone are doing,
// what the server knows while searching, the interest fallback's notice, keeping the chat,
// and Esc with an IME.
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import type { MatchInfo, ServerMessage } from './protocol';
import { agreeToRules, fakeCameraStream, FakeMediaStream, FakeMediaStreamTrack, FakeRTCPeerConnection, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const found = (overrides: Partial<MatchInfo> = {}): ServerMessage => ({
  event: 'match_found',
  data: { partner_id: 'stranger', initiator: true, match_id: 'm1', common_interests: [], mode: 'text', ...overrides },
});

beforeEach(() => {
  installBrowserFakes(vi.fn(async () => fakeCameraStream()));
  agreeToRules();
});

function setup() {
  const user = userEvent.setup();
  render(<App />, { reactStrictMode: true });
  const socket = () => FakeWebSocket.latest();
  const server = (message: ServerMessage) => act(() => socket().serverSend(message));
  act(() => socket().serverOpen());
  server(hello('me', { online: 5, searching: { video: 3, text: 1 } }));
  const start = async (mode: 'video' | 'text', interests: string[] = []) => {
    for (const interest of interests) await user.type(screen.getByLabelText('Interests (optional)'), `${interest}{Enter}`);
    await user.click(screen.getByRole('radio', { name: mode === 'video' ? /video/i : /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
  };
  return { user, socket, server, start };
}

describe('the stranger\'s camera and microphone', () => {
  it('the partner turning its camera off or muting shows on its tile; mine show on my tile, and the partner is told', async () => {
    const { user, socket, server, start } = setup();
    await start('video');
    server(found({ mode: 'video' }));
    const [pc] = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
    act(() => pc.fireTrack(new FakeMediaStream([new FakeMediaStreamTrack('video')])));
    const remote = screen.getByTestId('remote-video');
    expect(within(remote).queryByText('Camera off')).not.toBeInTheDocument();

    server({ event: 'media_state', data: { camera: false, mic: false } });
    expect(screen.getByTestId('remote-video-camera-off')).toHaveTextContent('Camera off');
    expect(screen.getByTestId('remote-video-muted')).toHaveTextContent('Muted');
    server({ event: 'media_state', data: { camera: true, mic: false } });
    expect(screen.queryByTestId('remote-video-camera-off')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Camera off' }));
    await user.click(screen.getByRole('button', { name: 'Mute' }));
    expect(screen.getByTestId('local-video-camera-off')).toHaveTextContent('Camera off');
    expect(screen.getByTestId('local-video-muted')).toHaveTextContent('Muted');
    expect(socket().sentEvents('media_state').map((m) => m.data)).toEqual([
      { camera: false, mic: true },
      { camera: false, mic: false },
    ]);

    // the next stranger starts with both on, and hears at once that mine are off
    server({ event: 'partner_left', data: { from: 'stranger', reason: 'next' } });
    await user.click(screen.getByRole('button', { name: /New stranger/ }));
    server(found({ mode: 'video', partner_id: 'other', match_id: 'm2' }));
    const [pc2] = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
    act(() => pc2.fireTrack(new FakeMediaStream([new FakeMediaStreamTrack('video')])));
    expect(screen.queryByTestId('remote-video-muted')).not.toBeInTheDocument();
    expect(socket().sentEvents('media_state')).toHaveLength(3);
  });
});

describe('honest waiting', () => {
  it('says how many others search in this mode, and follows the online round', async () => {
    const { server, start } = setup();
    await start('text');
    server({ event: 'waiting', data: { message: '…', interests: [], mode: 'text', searching: 3 } });
    expect(screen.getByTestId('waiting-info')).toHaveTextContent('2 other people are looking for a text chat');
    server({ event: 'online', data: { count: 9, searching: { video: 4, text: 2 } } });
    expect(screen.getByTestId('waiting-info')).toHaveTextContent('1 other person is looking for a text chat');
    server({ event: 'online', data: { count: 9, searching: { video: 4, text: 1 } } });
    expect(screen.getByTestId('waiting-info')).toHaveTextContent('Nobody else is looking for a text chat right now');
    expect(screen.getByRole('status')).toHaveTextContent(/^Looking for someone…$/);
  });

  it('when the only strangers searching were met recently, says so (and not once nobody else searches)', async () => {
    const { server, start, user } = setup();
    await start('text');
    server({ event: 'waiting', data: { message: 'Waiting for someone new...', interests: [], mode: 'text', searching: 2, met_recently: true } });
    expect(screen.getByRole('status')).toHaveTextContent('Looking for someone… · everyone searching right now was met recently; waiting for someone new');
    expect(screen.getByTestId('waiting-info')).toHaveTextContent('1 other person is looking for a text chat');
    server({ event: 'online', data: { count: 9, searching: { video: 0, text: 1 } } });
    expect(screen.getByRole('status')).not.toHaveTextContent('met recently');
    // a new search starts afresh
    server({ event: 'online', data: { count: 9, searching: { video: 0, text: 3 } } });
    await user.click(screen.getByRole('button', { name: /^Next/ }));
    expect(screen.getByRole('status')).not.toHaveTextContent('met recently');
  });

  it('a waiting that comes after the match (it raced with it) changes nothing', async () => {
    const { server, start } = setup();
    await start('text');
    server(found());
    server({ event: 'waiting', data: { message: '…', interests: [], mode: 'text', searching: 7, met_recently: true } });
    expect(screen.getByRole('status')).toHaveTextContent('Connected');
    expect(screen.queryByTestId('waiting-info')).not.toBeInTheDocument();
  });
});

describe('the interest fallback', () => {
  it('interests given and none shared: "No one shares your interests right now: a random stranger"', async () => {
    const { server, start } = setup();
    await start('text', ['knitting']);
    server(found({ common_interests: [] }));
    expect(screen.getByTestId('chat-log')).toHaveTextContent('No one shares your interests right now: a random stranger');
    expect(screen.getByTestId('chat-log')).not.toHaveTextContent('Say hi!');
  });

  it('a shared interest, or no interests at all: the usual greeting', async () => {
    const { server, start } = setup();
    await start('text', ['knitting']);
    server(found({ common_interests: ['knitting'] }));
    expect(screen.getByTestId('chat-log')).toHaveTextContent("You're now chatting with a random stranger. Say hi!");
    expect(screen.getByTestId('common-interests')).toHaveTextContent('knitting');
  });
});

describe('keeping the conversation', () => {
  it('Save chat and Copy once it ended, through Next and after Stop, until the next chat; nothing is sent', async () => {
    const { user, socket, server, start } = setup(); // user-event's own clipboard stands in for the browser's
    await start('text');
    server(found());
    expect(screen.queryByTestId('transcript')).not.toBeInTheDocument();
    server({ event: 'chat', data: { text: 'hi from the stranger' } });
    await user.type(screen.getByLabelText('Message'), 'hello{Enter}');
    server({ event: 'partner_left', data: { from: 'stranger', reason: 'left' } });
    const sentBefore = socket().sent.length;
    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(await navigator.clipboard.readText()).toMatch(/^Go-Megle: a chat with a stranger, .+\n\n— You're now chatting with a random stranger\. Say hi!\nStranger: hi from the stranger\nYou: hello\n— Stranger has disconnected\.\n$/);
    expect(screen.getByTestId('copy-result')).toHaveTextContent('Copied');
    expect(socket().sent).toHaveLength(sentBefore);

    await user.click(screen.getByRole('button', { name: /New stranger/ })); // searching: still there
    expect(screen.getByRole('button', { name: 'Save chat' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Stop' })); // the landing page: still there
    expect(screen.getByRole('button', { name: 'Save chat' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Start' }));
    server(found({ match_id: 'm2', partner_id: 'next' })); // the next chat: gone
    expect(screen.queryByRole('button', { name: 'Save chat' })).not.toBeInTheDocument();
  });
});

describe('Esc', () => {
  it('an Esc that ends an IME composition keeps the stranger; Esc with a draft keeps both', async () => {
    const { user, socket, server, start } = setup();
    await start('text');
    server(found());
    const box = screen.getByLabelText('Message');
    expect(box).toHaveFocus();
    await user.type(box, 'a draft');
    act(() => {
      box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', isComposing: true, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', isComposing: true, bubbles: true, cancelable: true }));
    });
    await user.keyboard('{Escape}{Escape}');
    expect(socket().sentEvents('find_match')).toHaveLength(1);
    expect(screen.getByRole('status')).toHaveTextContent('Connected');
    expect(box).toHaveValue('a draft');
    expect(screen.getByTestId('esc-hint')).toBeEmptyDOMElement();
  });
});
