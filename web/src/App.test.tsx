import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App, SOUNDS_STORAGE_KEY, type AppProps } from './App';
import type { MatchInfo, ServerMessage } from './protocol';
import { DEVICE_STORAGE_KEYS } from './hooks/useMediaDevices';
import {
  deviceGetUserMedia,
  fakeCameraStream,
  FakeMediaStream,
  FakeMediaStreamTrack,
  FakeRTCPeerConnection,
  FakeWebSocket,
  agreeToRules,
  hello,
  installBrowserFakes,
  statsWithSelectedLocal,
} from './test/fakes';

const found = (overrides: Partial<MatchInfo> = {}): Extract<ServerMessage, { event: 'match_found' }> => ({
  event: 'match_found',
  data: { partner_id: 'stranger', initiator: false, match_id: 'm1', common_interests: [], mode: 'text', ...overrides },
});

let getUserMedia: ReturnType<typeof vi.fn<() => Promise<unknown>>>;

function renderApp(props: AppProps = {}, options: { advanceTimers?: (ms: number) => void } = {}) {
  const user = userEvent.setup(options.advanceTimers ? { advanceTimers: options.advanceTimers } : {});
  render(<App {...props} />, { reactStrictMode: true });
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
    agreeToRules();
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
      { event: 'find_match', data: { interests: ['chess', 'music'], mode: 'text', languages: ['en'] } },
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
      { event: 'find_match', data: { interests: ['cooking'], mode: 'text', languages: ['en'] } },
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
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'video', languages: ['en'] } }]);

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
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled(); // the box still takes a draft for the next one
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

  it('Next on Escape twice (not in the message box), Stop sends leave and returns to the landing view', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found()));
    await user.keyboard('{Escape}'); // in the message box, where focus is: nothing
    expect(socket().sentEvents('find_match')).toHaveLength(1);
    act(() => screen.getByLabelText('Message').blur());
    await user.keyboard('{Escape}');
    expect(screen.getByTestId('esc-hint')).toHaveTextContent('Press Esc again for a new stranger');
    expect(socket().sentEvents('find_match')).toHaveLength(1);
    await user.keyboard('{Escape}');
    expect(socket().sentEvents('find_match')).toHaveLength(2);
    expect(status()).toHaveTextContent('Looking for someone…');
    expect(screen.getByLabelText('Message')).toHaveFocus(); // after Next, ready to greet the next one

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
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'] } }]);
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

  it('resumed while searching: the server dropped the search, so the page searches again', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    const before = socket();
    expect(before.sentEvents('find_match')).toHaveLength(1);
    act(() => before.serverClose(1006));
    await waitFor(() => expect(socket()).not.toBe(before), { timeout: 2000 });
    act(() => {
      socket().serverOpen();
      socket().serverSend(hello('me', { resumed: true }));
    });
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'] } }]);
    expect(status()).toHaveTextContent('Looking for someone…');
  });

  it('shows server errors in words', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('radio', { name: /text only/i }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend({ event: 'error', data: { code: 'unavailable', message: 'redis down' } }));
    expect(screen.getByRole('alert')).toHaveTextContent(/matchmaking is unavailable/i);
    expect(screen.getByRole('button', { name: 'Start' })).toBeInTheDocument();
  });

  describe('a video call that does not connect', () => {
    beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
    afterEach(() => vi.useRealTimers());

    it('says so plainly after the setup timeout, offers Next, keeps text chat, and reports rtc_stats once', async () => {
      const { user, socket } = renderApp({ callTimeouts: { setupMs: 3_000 } }, { advanceTimers: vi.advanceTimersByTime });
      await user.click(screen.getByRole('button', { name: 'Start' }));
      act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
      expect(status()).toHaveTextContent('starting video…');

      act(() => vi.advanceTimersByTime(3_000));
      expect(status()).toHaveTextContent("Couldn't connect to this stranger's video; their network or yours blocks it");
      expect(screen.getByTestId('remote-video')).toHaveTextContent('Video unavailable');
      expect(socket().sentEvents('rtc_stats')).toEqual([{ event: 'rtc_stats', data: { outcome: 'failed', setup_ms: 3_000 } }]);

      // Today's server does not know rtc_stats yet: its answer is never shown.
      act(() => socket().serverSend({ event: 'error', data: { code: 'unknown_event', message: 'unknown event "rtc_stats"' } }));
      expect(screen.queryByRole('alert')).not.toBeInTheDocument();

      // Text chat goes on.
      act(() => socket().serverSend({ event: 'chat', data: { text: 'no video here either' } }));
      expect(screen.getByTestId('chat-log')).toHaveTextContent('Stranger: no video here either');
      await user.type(screen.getByRole('textbox', { name: 'Message' }), 'text it is{Enter}');
      expect(socket().sent).toContainEqual({ event: 'chat', data: { text: 'text it is' } });

      await user.click(screen.getByRole('button', { name: /^Next/ }));
      expect(socket().sentEvents('find_match')).toHaveLength(2);
      expect(status()).toHaveTextContent('Looking for someone…');
      act(() => vi.advanceTimersByTime(60_000));
      expect(socket().sentEvents('rtc_stats')).toHaveLength(1);
    });

    it('a connected call reports its setup time and candidate type, and shows no failure', async () => {
      const { user, socket } = renderApp({}, { advanceTimers: vi.advanceTimersByTime });
      await user.click(screen.getByRole('button', { name: 'Start' }));
      act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
      const [pc] = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
      pc.stats = statsWithSelectedLocal('host');
      act(() => vi.advanceTimersByTime(800));
      await act(async () => pc.fireConnectionState('connected'));
      await waitFor(() => expect(socket().sentEvents('rtc_stats')).toHaveLength(1));
      const [report] = socket().sentEvents('rtc_stats');
      expect(report).toEqual({ event: 'rtc_stats', data: { outcome: 'connected', setup_ms: expect.any(Number), candidate: 'host' } });
      expect((report.data as { setup_ms: number }).setup_ms).toBeGreaterThanOrEqual(800);
      act(() => vi.advanceTimersByTime(60_000));
      expect(status()).toHaveTextContent('Connected to a stranger');
      expect(status()).not.toHaveTextContent("Couldn't connect");
    });
  });

  it("the stranger's volume: a labelled slider on the remote video", async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
    expect(screen.queryByRole('slider', { name: "Stranger's volume" })).not.toBeInTheDocument(); // no picture yet
    const [pc] = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
    act(() => pc.fireTrack(new FakeMediaStream([new FakeMediaStreamTrack('video')])));
    const slider = screen.getByRole('slider', { name: "Stranger's volume" });
    const remote = screen.getByLabelText("Stranger's video") as HTMLVideoElement;
    expect(remote.volume).toBe(1);
    fireEvent.change(slider, { target: { value: '0.4' } });
    expect(remote.volume).toBeCloseTo(0.4);
    expect(slider).toHaveAttribute('aria-valuetext', '40%');
    expect(screen.getByLabelText('Your video')).toHaveProperty('muted', true);
  });

  it('switch camera: shown only with two cameras; the next camera replaces the sent track, the call goes on', async () => {
    getUserMedia.mockImplementation(deviceGetUserMedia);
    installBrowserFakes(getUserMedia, { cameras: 2 });
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
    const [pc] = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
    await user.click(await screen.findByRole('button', { name: 'Switch camera' }));
    const videoSender = pc.senders.find((sender) => sender.track?.kind === 'video')!;
    await waitFor(() => expect(videoSender.replaced).toHaveLength(1));
    expect(getUserMedia).toHaveBeenLastCalledWith({ video: { deviceId: { exact: 'camera-1' } }, audio: false });
    expect(window.localStorage.getItem(DEVICE_STORAGE_KEYS.videoinput)).toBe('camera-1'); // remembered
    await user.click(screen.getByRole('button', { name: 'Switch camera' })); // and round again
    await waitFor(() => expect(videoSender.replaced).toHaveLength(2));
    expect((videoSender.replaced[1] as FakeMediaStreamTrack).deviceId).toBe('camera-0');
    expect(pc.closed).toBe(false);
  });

  it('the camera and microphone pickers: before Start (remembered, and used by Start) and during a chat (the call gets the new track)', async () => {
    getUserMedia.mockImplementation(deviceGetUserMedia);
    installBrowserFakes(getUserMedia, { cameras: 2, microphones: 2 });
    const { user, socket } = renderApp();
    await user.selectOptions(await screen.findByRole('combobox', { name: 'Camera' }), 'Fake camera 1');
    expect(window.localStorage.getItem(DEVICE_STORAGE_KEYS.videoinput)).toBe('camera-1');
    expect(getUserMedia).not.toHaveBeenCalled(); // choosing opens nothing before Start
    await user.click(screen.getByRole('button', { name: 'Start' }));
    expect(getUserMedia).toHaveBeenCalledWith({ video: { deviceId: { exact: 'camera-1' } }, audio: true });

    act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
    const [pc] = FakeRTCPeerConnection.instances.filter((p) => !p.closed);
    await user.click(screen.getByText('Camera and microphone')); // the pickers' disclosure
    const microphone = screen.getByRole('combobox', { name: 'Microphone' });
    expect(microphone).toHaveValue('microphone-0');
    await user.selectOptions(microphone, 'Fake microphone 1');
    const audioSender = pc.senders.find((sender) => sender.track?.kind === 'audio')!;
    await waitFor(() => expect(audioSender.replaced).toHaveLength(1));
    expect((audioSender.replaced[0] as FakeMediaStreamTrack).deviceId).toBe('microphone-1');
    expect(screen.getByRole('combobox', { name: 'Microphone' })).toHaveValue('microphone-1');
    expect(window.localStorage.getItem(DEVICE_STORAGE_KEYS.audioinput)).toBe('microphone-1');
  });

  it('before the browser names the devices, one click asks for the camera, then the pickers show', async () => {
    getUserMedia.mockImplementation(deviceGetUserMedia);
    const devices = installBrowserFakes(getUserMedia, { labelled: false });
    const { user } = renderApp();
    expect(screen.queryByRole('combobox', { name: 'Camera' })).not.toBeInTheDocument();
    devices.labelled = true; // what the browser does once it is allowed
    await user.click(screen.getByRole('button', { name: 'Choose your camera and microphone' }));
    expect(await screen.findByRole('combobox', { name: 'Camera' })).toHaveValue('camera-0');
    const [stream] = await Promise.all(getUserMedia.mock.results.map((r) => r.value as Promise<FakeMediaStream>));
    expect(stream.getTracks().every((track) => track.stopped)).toBe(true); // the camera went off again
  });

  it('a camera the browser blocks: how to allow it, before Start and after a refused Start', async () => {
    getUserMedia.mockRejectedValue(new DOMException('blocked', 'NotAllowedError'));
    const listeners: Array<() => void> = [];
    const permission = { state: 'denied' as PermissionState, addEventListener: (_: string, f: () => void) => listeners.push(f) };
    Object.defineProperty(navigator, 'permissions', { configurable: true, value: { query: vi.fn(async () => permission) } });
    try {
      const { user } = renderApp();
      expect(await screen.findByTestId('camera-blocked')).toHaveTextContent('Your browser is blocking the camera and microphone for this site.');
      expect(screen.getByTestId('camera-blocked')).toHaveTextContent(/lock icon in the address bar/);
      permission.state = 'granted'; // the user allowed it in the browser's settings: the hint goes
      act(() => listeners.forEach((listener) => listener()));
      expect(screen.queryByTestId('camera-blocked')).not.toBeInTheDocument();
      await user.click(screen.getByRole('button', { name: 'Start' })); // refused all the same (the fake): said, with how
      expect(await screen.findByTestId('media-error')).toHaveTextContent('Camera and microphone access was denied');
      expect(screen.getByTestId('camera-blocked-hint')).toHaveTextContent(/lock icon in the address bar/);
    } finally {
      Reflect.deleteProperty(navigator, 'permissions');
    }
  });

  it('no switch-camera button with one camera', async () => {
    const { user, socket } = renderApp();
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(found({ mode: 'video', initiator: true })));
    expect(await screen.findByRole('button', { name: 'Mute' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Switch camera' })).not.toBeInTheDocument();
  });

  describe('in a background tab', () => {
    let visibility: DocumentVisibilityState = 'visible';
    beforeEach(() => {
      visibility = 'visible';
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
    });
    afterEach(() => Reflect.deleteProperty(document, 'visibilityState'));
    const show = (state: DocumentVisibilityState) =>
      act(() => {
        visibility = state;
        document.dispatchEvent(new Event('visibilitychange'));
      });

    it('a stranger connecting or writing changes the title and chimes; the title comes back; sounds off is remembered', async () => {
      const playAlert = vi.fn();
      const { user, socket } = renderApp({ playAlert });
      expect(document.title).toBe('Go-Megle: talk to strangers');
      await user.click(screen.getByRole('radio', { name: /text only/i }));
      await user.click(screen.getByRole('button', { name: 'Start' }));
      show('hidden');
      act(() => socket().serverSend(found()));
      await waitFor(() => expect(document.title).toBe('● Stranger connected'));
      expect(playAlert).toHaveBeenCalledTimes(1);
      show('visible');
      expect(document.title).toBe('Go-Megle: talk to strangers');

      await user.selectOptions(screen.getByRole('combobox', { name: 'Match and message sounds' }), 'Off');
      expect(window.localStorage.getItem(SOUNDS_STORAGE_KEY)).toBe('off');
      show('hidden');
      act(() => socket().serverSend({ event: 'chat', data: { text: 'you there?' } }));
      await waitFor(() => expect(document.title).toBe('● New message'));
      expect(playAlert).toHaveBeenCalledTimes(1); // muted
      show('visible');
      expect(document.title).toBe('Go-Megle: talk to strangers');
    });

    it('remembers the sounds setting across page loads, an earlier version\'s "off" too', () => {
      window.localStorage.setItem(SOUNDS_STORAGE_KEY, '0');
      renderApp();
      expect(screen.getByRole('combobox', { name: 'Match and message sounds' })).toHaveValue('off');
    });

    it('sounds "always": the match and each message chime while the tab is in front too', async () => {
      const playAlert = vi.fn();
      window.localStorage.setItem(SOUNDS_STORAGE_KEY, '1'); // the earlier "on": in a background tab only
      const { user, socket } = renderApp({ playAlert });
      const setting = screen.getByRole('combobox', { name: 'Match and message sounds' });
      expect(setting).toHaveValue('background');
      expect(screen.getByRole('option', { name: 'Only when the tab is hidden' })).toBeInTheDocument();
      await user.selectOptions(setting, 'Always, even with the tab open');
      await user.click(screen.getByRole('radio', { name: /text only/i }));
      await user.click(screen.getByRole('button', { name: 'Start' }));
      act(() => socket().serverSend(found()));
      act(() => socket().serverSend({ event: 'chat', data: { text: 'hi' } }));
      expect(playAlert).toHaveBeenCalledTimes(2);
      expect(document.title).toBe('Go-Megle: talk to strangers');
    });
  });
});
