// A black or frozen picture (issue 25, part 6) through the whole page, with fake timers:
// the stranger's picture sampled (a fake sampler the test paints) and said black or frozen
// on its tile after PROBLEM_AFTER_MS, with Next beside it, cleared when frames come back,
// never said over "Camera off"; and before Start, the user's own camera when it is black
// or a known virtual camera. The detector's rules have their own tests (picture/health.test.ts).
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { PROBLEM_AFTER_MS, SAMPLE_HEIGHT, SAMPLE_WIDTH, type Luma } from './picture/health';
import type { CameraPicture, PictureSampler } from './picture/sample';
import type { ServerMessage } from './protocol';
import { agreeToRules, FakeMediaStream, FakeMediaStreamTrack, FakeRTCPeerConnection, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const INTERVAL_MS = 500;
const SLACK_MS = 2_000;
const CELLS = SAMPLE_WIDTH * SAMPLE_HEIGHT;
const BLACK: Luma = new Uint8Array(CELLS);
let frame = 0;
const live = (): Luma => Uint8Array.from({ length: CELLS }, (_, i) => 60 + ((i * 31 + frame++ * 17) % 120));

const videoMatch = (match_id: string): ServerMessage => ({
  event: 'match_found',
  data: { partner_id: `p-${match_id}`, initiator: false, match_id, common_interests: [], mode: 'video' },
});

function camera(label = ''): FakeMediaStream {
  const video = new FakeMediaStreamTrack('video', undefined, 'camera-1');
  video.label = label;
  return new FakeMediaStream([new FakeMediaStreamTrack('audio'), video]);
}

interface Setup {
  label?: string;
  cameraPicture?: CameraPicture;
}

function setup({ label = 'Integrated Camera', cameraPicture = 'ok' }: Setup = {}) {
  installBrowserFakes(async () => camera(label));
  const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
  let picture: () => Luma | null = live;
  const sampler: PictureSampler = () => picture();
  const checkCamera = vi.fn(async () => cameraPicture);
  // A call that never connects (these fakes do not) would fail after its setup timeout and drop the stranger's stream.
  render(<App nudity={{ intervalMs: INTERVAL_MS }} callTimeouts={{ setupMs: 3_600_000 }} stills={{ picture: sampler, cameraPicture: checkCamera }} />, { reactStrictMode: true });
  const socket = () => FakeWebSocket.latest();
  act(() => {
    socket().serverOpen();
    socket().serverSend(hello('me'));
  });
  const server = (message: ServerMessage) => act(() => socket().serverSend(message));
  const start = () => user.click(screen.getByRole('button', { name: 'Start' }));
  /** Matched with a stranger whose video arrives. */
  const matched = async (match_id = 'm1') => {
    const searches = socket().sentEvents('find_match').length;
    await start();
    await vi.waitFor(() => expect(socket().sentEvents('find_match')).toHaveLength(searches + 1));
    server(videoMatch(match_id));
    act(() => FakeRTCPeerConnection.instances.filter((p) => !p.closed).at(-1)!.fireTrack(new FakeMediaStream([new FakeMediaStreamTrack('video')])));
  };
  const paint = (next: () => Luma | null) => (picture = next);
  const wait = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));
  const problem = () => screen.getByTestId('remote-video-problem');
  return { user, socket, server, start, matched, paint, wait, problem, checkCamera };
}

describe('a black or frozen picture', { timeout: 20_000 }, () => {
  // shouldAdvanceTime: the page's start-up needs the clock to move by itself (as App.test.tsx);
  // the real milliseconds that adds only make a verdict come sooner, so every "not yet" below
  // is checked SLACK_MS before PROBLEM_AFTER_MS, and every "now" after it.
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    agreeToRules();
  });
  afterEach(() => vi.useRealTimers());

  it('the stranger\'s black video is said on its tile after PROBLEM_AFTER_MS, with Next, and cleared when frames come back', async () => {
    const { matched, paint, wait, problem, user, socket } = setup();
    await matched();
    await wait(2 * INTERVAL_MS);
    expect(problem()).toBeEmptyDOMElement();
    expect(problem()).toHaveAttribute('aria-live', 'polite'); // there before it says anything

    paint(() => BLACK);
    await wait(PROBLEM_AFTER_MS - SLACK_MS);
    expect(problem()).toBeEmptyDOMElement();
    await wait(SLACK_MS + INTERVAL_MS);
    expect(problem()).toHaveTextContent("The stranger's video is black");

    paint(live);
    await wait(INTERVAL_MS);
    expect(problem()).toBeEmptyDOMElement();

    // Frozen: the same picture again and again.
    const still = live();
    paint(() => still);
    await wait(PROBLEM_AFTER_MS + INTERVAL_MS);
    expect(problem()).toHaveTextContent("The stranger's video seems frozen");

    // Next, right there, moves on to a new stranger.
    const searches = socket().sentEvents('find_match').length;
    await user.click(within(problem()).getByRole('button', { name: 'Next' }));
    expect(socket().sentEvents('find_match')).toHaveLength(searches + 1);
    expect(screen.queryByText("The stranger's video seems frozen")).not.toBeInTheDocument();
  });

  it('a stranger whose camera is off is "Camera off", never also black; back on, it starts over', async () => {
    const { matched, paint, wait, problem, server } = setup();
    await matched();
    paint(() => BLACK);
    server({ event: 'media_state', data: { camera: false, mic: true } });
    await wait(PROBLEM_AFTER_MS * 2);
    expect(screen.getByTestId('remote-video-camera-off')).toHaveTextContent('Camera off');
    expect(problem()).toBeEmptyDOMElement();

    server({ event: 'media_state', data: { camera: true, mic: true } });
    await wait(PROBLEM_AFTER_MS - SLACK_MS);
    expect(problem()).toBeEmptyDOMElement(); // the seconds off are not held against it
    await wait(SLACK_MS + INTERVAL_MS);
    expect(problem()).toHaveTextContent("The stranger's video is black");
  });

  it('a new stranger starts over', async () => {
    const { matched, paint, wait, problem, server, socket } = setup();
    await matched('m1');
    paint(() => BLACK);
    await wait(PROBLEM_AFTER_MS + INTERVAL_MS);
    expect(problem()).toHaveTextContent('black');
    server({ event: 'partner_left', data: { from: 'p-m1', reason: 'next' } });
    act(() => socket().serverSend(videoMatch('m2')));
    act(() => FakeRTCPeerConnection.instances.filter((p) => !p.closed).at(-1)!.fireTrack(new FakeMediaStream([new FakeMediaStreamTrack('video')])));
    expect(problem()).toBeEmptyDOMElement();
  });

  it('before Start: a black own camera is a warning, and no search until Start again', async () => {
    const { start, socket, checkCamera } = setup({ cameraPicture: 'black' });
    await start();
    const warning = await screen.findByTestId('camera-warning');
    expect(warning).toHaveAttribute('role', 'alert');
    expect(warning).toHaveTextContent("Your camera's picture is black.");
    expect(warning).toHaveTextContent('Press Start again to go ahead anyway.');
    expect(socket().sentEvents('find_match')).toEqual([]);
    expect(checkCamera).toHaveBeenCalledTimes(1);

    await start();
    await vi.waitFor(() => expect(socket().sentEvents('find_match')).toHaveLength(1));
    expect(screen.queryByTestId('camera-warning')).not.toBeInTheDocument();
  });

  it('before Start: a known virtual camera is named, and no search until Start again', async () => {
    const { start, socket, checkCamera } = setup({ label: 'OBS Virtual Camera' });
    await start();
    const warning = await screen.findByTestId('camera-warning');
    expect(warning).toHaveTextContent('“OBS Virtual Camera” is a virtual camera.');
    expect(warning).toHaveTextContent('The stranger will see what its program sends, not your camera.');
    expect(socket().sentEvents('find_match')).toEqual([]);
    expect(checkCamera).not.toHaveBeenCalled(); // the label says enough

    await start();
    await vi.waitFor(() => expect(socket().sentEvents('find_match')).toHaveLength(1));
  });

  it('a real camera with a picture goes straight on to the search', async () => {
    const { start, socket } = setup();
    await start();
    await vi.waitFor(() => expect(socket().sentEvents('find_match')).toHaveLength(1));
    expect(screen.queryByTestId('camera-warning')).not.toBeInTheDocument();
  });
});
