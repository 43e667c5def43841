// Trust and safety, part 2, through the whole page: the 18+ rules before the first
// Start, the proof of work solved before find_match (and again on pow_required), and
// the nudity protection (the stranger's video blurred until a still says safe, Show
// anyway, the one-click report after three flagged stills, the toggle, the check of
// the user's own camera). The classifier, the stills and the solver are fakes the
// test answers; the policy itself has its own tests (nsfw/policy.test.ts).
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App, BLUR_STORAGE_KEY, type AppProps } from './App';
import { POW_SLOW_MS } from './hooks/useProofOfWork';
import { RULES_STORAGE_KEY, RULES_VERSION } from './hooks/useRules';
import type { Classifier, ClassifierInfo } from './nsfw/classifier';
import type { Scores } from './nsfw/scores';
import type { PowChallenge, ServerMessage } from './protocol';
import { agreeToRules, fakeCameraStream, FakeMediaStream, FakeMediaStreamTrack, FakeRTCPeerConnection, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const SAFE: Scores = { Drawing: 0.05, Hentai: 0, Neutral: 0.95, Porn: 0, Sexy: 0 };
const NUDE: Scores = { Drawing: 0, Hentai: 0.1, Neutral: 0.05, Porn: 0.85, Sexy: 0 };

/** A classifier whose every answer the test gives: classify waits until answer() is called. */
class FakeClassifier implements Classifier {
  ready: Promise<ClassifierInfo>;
  private settle!: { resolve: (info: ClassifierInfo) => void; reject: (error: Error) => void };
  private waiting: Array<(scores: Scores) => void> = [];
  calls = 0;
  disposed = false;

  constructor() {
    this.ready = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.ready.catch(() => undefined);
  }
  load() {
    this.settle.resolve({ backend: 'wasm', loadMs: 1 });
  }
  fail() {
    this.settle.reject(new Error('no model here'));
  }
  classify = () => {
    this.calls += 1;
    return new Promise<Scores>((resolve) => this.waiting.push(resolve));
  };
  /** Answers the oldest classify waiting (there must be one). */
  async answer(scores: Scores) {
    await waitFor(() => expect(this.waiting.length).toBeGreaterThan(0));
    await act(async () => this.waiting.shift()!(scores));
  }
  dispose = () => {
    this.disposed = true;
  };
}

const fakeStill = () => ({ width: 640, height: 480, close: vi.fn() }) as unknown as ImageBitmap;

const videoMatch = (match_id = 'm1'): ServerMessage => ({
  event: 'match_found',
  data: { partner_id: `p-${match_id}`, initiator: false, match_id, common_interests: [], mode: 'video' },
});

const challenge = (n: number): PowChallenge => ({
  algorithm: 'SHA-256',
  challenge: `challenge-${n}`,
  maxnumber: 30_000,
  salt: `salt-${n}?expires=9999999999&`,
  signature: `signature-${n}`,
});

interface Setup {
  classifier?: FakeClassifier;
  solvePow?: AppProps['solvePow'];
  own?: () => Promise<ImageBitmap | null>;
  helloExtra?: Parameters<typeof hello>[1];
}

function setup({ classifier = new FakeClassifier(), solvePow, own = async () => fakeStill(), helloExtra }: Setup = {}) {
  const user = userEvent.setup();
  const createClassifier = vi.fn(() => classifier);
  const encode = vi.fn(() => 'data:image/jpeg;base64,/9j/flagged');
  const view = render(
    <App
      createClassifier={createClassifier}
      solvePow={solvePow}
      nudity={{ intervalMs: 0 }}
      stills={{ remote: async () => fakeStill(), own, encode }}
    />,
    { reactStrictMode: true },
  );
  const socket = () => FakeWebSocket.latest();
  act(() => {
    socket().serverOpen();
    socket().serverSend(hello('me', helloExtra));
  });
  const server = (message: ServerMessage) => act(() => socket().serverSend(message));
  const start = async (mode: 'video' | 'text' = 'video') => {
    await user.click(screen.getByRole('radio', { name: mode === 'video' ? 'Video and text' : 'Text only' }));
    await user.click(screen.getByRole('button', { name: 'Start' }));
  };
  /** The stranger's stream arrives on the video call of the current match. */
  const strangerVideo = () =>
    act(() => {
      const pc = FakeRTCPeerConnection.instances.filter((p) => !p.closed).at(-1)!;
      pc.fireTrack(new FakeMediaStream([new FakeMediaStreamTrack('video')]));
    });
  const tile = () => screen.getByTestId('remote-video');
  return { user, view, socket, server, start, strangerVideo, tile, classifier, createClassifier, encode };
}

// Whole-page tests with StrictMode: slow on a loaded 2-core machine, so a roomier limit (as report.test.tsx).
describe('the rules before the first Start', { timeout: 20_000 }, () => {
  beforeEach(() => {
    installBrowserFakes(async () => fakeCameraStream());
  });

  it('shows them on the first Start with focus on their heading; Esc closes them without agreeing; agreeing starts and is remembered', async () => {
    const { user, socket, start, view } = setup();
    await start('text');
    const dialog = screen.getByRole('dialog', { name: 'Before you start' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveAccessibleDescription(/you agree to these rules/);
    expect(within(dialog).getByRole('heading', { level: 2 })).toHaveFocus();
    for (const rule of ['18 or older only.', 'No nudity or sexual content.', 'No harassment, threats or hate.', /No minors/, /lead to bans/]) {
      expect(within(dialog).getByText(rule)).toBeInTheDocument();
    }
    expect(dialog).toHaveTextContent('no frame leaves your browser unless you report');
    expect(dialog).toHaveTextContent(/7 days/);
    expect(within(dialog).getAllByRole('button').map((b) => b.textContent)).toEqual(['I am 18 or older and agree', 'Cancel']);

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Start' })).toHaveFocus();
    expect(socket().sentEvents('find_match')).toEqual([]);
    expect(window.localStorage.getItem(RULES_STORAGE_KEY)).toBeNull();
    expect(screen.getByRole('heading', { name: 'Talk to strangers' })).toBeInTheDocument(); // Esc was not Next

    await start('text');
    await user.click(screen.getByRole('button', { name: 'I am 18 or older and agree' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'] } }]);
    expect(window.localStorage.getItem(RULES_STORAGE_KEY)).toBe(String(RULES_VERSION));

    // Another page of this browser: straight to the search.
    view.unmount();
    const again = setup();
    await again.start('text');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(again.socket().sentEvents('find_match')).toHaveLength(1);
  });

  it('shows them again when the rules changed since the browser agreed', async () => {
    window.localStorage.setItem(RULES_STORAGE_KEY, String(RULES_VERSION - 1));
    const { start } = setup();
    await start('text');
    expect(screen.getByRole('dialog', { name: 'Before you start' })).toBeInTheDocument();
  });

  it('keeps focus inside: Tab and Shift+Tab wrap between its buttons', async () => {
    const { user, start } = setup();
    await start('text');
    const agree = screen.getByRole('button', { name: 'I am 18 or older and agree' });
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    await user.tab();
    expect(agree).toHaveFocus();
    await user.tab();
    expect(cancel).toHaveFocus();
    await user.tab();
    expect(agree).toHaveFocus();
    await user.tab({ shift: true });
    expect(cancel).toHaveFocus();
    await user.click(cancel);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});

describe('the proof of work', { timeout: 20_000 }, () => {
  beforeEach(() => {
    installBrowserFakes(async () => fakeCameraStream());
    agreeToRules();
  });

  it('is solved as soon as hello arrives; a Start before the solution waits for it (searching), then find_match carries it', async () => {
    const answers: Array<(payload: string) => void> = [];
    const solvePow = vi.fn((_challenge: PowChallenge) => new Promise<string>((resolve) => answers.push(resolve)));
    const { socket, start } = setup({ solvePow, helloExtra: { pow: challenge(1) } });
    expect(solvePow).toHaveBeenCalledTimes(1); // before Start
    expect(solvePow.mock.calls[0][0]).toEqual(challenge(1));

    await start('text');
    expect(screen.getByRole('status')).toHaveTextContent('Looking for someone…');
    expect(socket().sentEvents('find_match')).toEqual([]);
    await act(async () => answers[0]('payload-1'));
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'], pow: 'payload-1' } }]);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('a slow one (an address opening many connections) shows how far it has got while the search waits; a quick one shows nothing', async () => {
    let clock = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    let progress: ((checked: number) => void) | undefined;
    let answer: ((payload: string) => void) | undefined;
    const solvePow = vi.fn(
      (_challenge: PowChallenge, _signal: AbortSignal, onProgress?: (checked: number) => void) =>
        new Promise<string>((resolve) => {
          progress = onProgress;
          answer = resolve;
        }),
    );
    const { socket, start } = setup({ solvePow, helloExtra: { pow: challenge(1) } });
    await start('text');
    const status = screen.getByRole('status');
    act(() => progress!(0.1)); // within POW_SLOW_MS: a person's solve, nothing to say
    expect(status).toHaveTextContent(/^Looking for someone…$/);
    clock += POW_SLOW_MS;
    act(() => progress!(0.42));
    expect(status).toHaveTextContent('Looking for someone… · your network is opening many connections, so getting ready takes longer (42 % checked)');
    await act(async () => answer!('payload-1'));
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'], pow: 'payload-1' } }]);
    expect(status).toHaveTextContent(/^Looking for someone…$/);
    vi.restoreAllMocks();
  });

  it('pow_required: solves the fresh challenge and sends the find_match again, and the user sees nothing of it', async () => {
    const solvePow = vi.fn(async (c: PowChallenge) => `payload-for-${c.challenge}`);
    const { socket, server, start } = setup({ solvePow, helloExtra: { pow: challenge(1) } });
    await waitFor(() => expect(solvePow).toHaveBeenCalledTimes(1));
    await start('text');
    expect(socket().sentEvents('find_match')).toEqual([
      { event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'], pow: 'payload-for-challenge-1' } },
    ]);

    // The server refused it (expired, say) and sent a fresh challenge.
    server({ event: 'error', data: { code: 'pow_required', message: 'solve this proof of work first', pow: challenge(2) } });
    expect(solvePow).toHaveBeenCalledTimes(2);
    expect(solvePow.mock.calls[1][0]).toEqual(challenge(2));
    await waitFor(() => expect(socket().sentEvents('find_match')).toHaveLength(2));
    expect(socket().sentEvents('find_match')[1]).toEqual({ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'], pow: 'payload-for-challenge-2' } });
    expect(screen.getByRole('status')).toHaveTextContent('Looking for someone…');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    // Through the gate: later searches (Next) need no solution.
    server({ event: 'match_found', data: { partner_id: 'p', initiator: false, match_id: 'm1', common_interests: [], mode: 'text' } });
    await userEvent.click(screen.getByRole('button', { name: /^Next/ }));
    expect(socket().sentEvents('find_match')[2]).toEqual({ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'] } });
  });

  it('without hello.pow (the gate is off, or the connection resumed) find_match goes at once and nothing is solved', async () => {
    const solvePow = vi.fn(async () => 'unused');
    const { socket, start } = setup({ solvePow });
    await start('text');
    expect(socket().sentEvents('find_match')).toEqual([{ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'] } }]);
    expect(solvePow).not.toHaveBeenCalled();
  });

  it('a search asked for while the socket is away waits for the next hello, and its challenge', async () => {
    const solvePow = vi.fn(async (c: PowChallenge) => `payload-for-${c.challenge}`);
    const { socket, start } = setup({ solvePow, helloExtra: { pow: challenge(1) } });
    await start('text');
    expect(socket().sentEvents('find_match')).toHaveLength(1);
    // The socket dies; a fresh identity comes with a fresh challenge, and the page searches again.
    const sockets = FakeWebSocket.instances.length;
    act(() => socket().serverClose(1006));
    await waitFor(() => expect(FakeWebSocket.instances.length).toBe(sockets + 1), { timeout: 5_000 }); // the reconnect backoff
    act(() => {
      socket().serverOpen();
      socket().serverSend(hello('me-again', { pow: challenge(3) }));
    });
    await waitFor(() => expect(socket().sentEvents('find_match')).toHaveLength(1));
    expect(socket().sentEvents('find_match')[0]).toEqual({ event: 'find_match', data: { interests: [], mode: 'text', languages: ['en'], pow: 'payload-for-challenge-3' } });
  });
});

describe('nudity protection', { timeout: 20_000 }, () => {
  beforeEach(() => {
    installBrowserFakes(async () => fakeCameraStream());
    agreeToRules();
  });

  /** Starts a video chat whose own-camera check says safe, and lets the stranger's video arrive. */
  async function matched(page: ReturnType<typeof setup>) {
    await page.start('video');
    page.classifier.load();
    await page.classifier.answer(SAFE); // the user's own camera
    await waitFor(() => expect(page.socket().sentEvents('find_match')).toHaveLength(1));
    page.server(videoMatch());
    page.strangerVideo();
  }

  it("starts blurred until the first still says safe, blurs again when a still is flagged, and Show anyway shows it", async () => {
    const page = setup();
    await matched(page);
    const { tile, classifier, user } = page;
    expect(tile()).toHaveAttribute('data-blurred', 'true');
    expect(tile()).toHaveClass('tile-blurred');
    expect(within(tile()).getByTestId('video-shield')).toHaveTextContent("Checking the stranger's video…");

    await classifier.answer(SAFE);
    expect(tile()).toHaveAttribute('data-blurred', 'false');
    expect(tile()).toHaveAttribute('data-verdict', 'safe');
    expect(within(tile()).queryByRole('button', { name: 'Show anyway' })).not.toBeInTheDocument();

    await classifier.answer(NUDE);
    expect(tile()).toHaveAttribute('data-blurred', 'true');
    expect(within(tile()).getByTestId('video-shield')).toHaveTextContent('This video may show nudity');
    await user.click(within(tile()).getByRole('button', { name: 'Show anyway' }));
    expect(tile()).toHaveAttribute('data-blurred', 'false');
    await classifier.answer(NUDE); // still unsafe: shown, as chosen
    expect(tile()).toHaveAttribute('data-blurred', 'false');
  });

  it('after three flagged stills offers a one-click report: reason nudity, the flagged still, then on to the next stranger', async () => {
    const page = setup();
    await matched(page);
    const { classifier, user, socket, encode, server } = page;
    await classifier.answer(NUDE);
    await classifier.answer(NUDE);
    expect(screen.queryByRole('button', { name: 'Report nudity' })).not.toBeInTheDocument();
    await classifier.answer(NUDE);
    expect(encode).toHaveBeenCalledTimes(3);
    const offer = screen.getByTestId('nudity-offer');
    expect(offer).toHaveAttribute('aria-live', 'polite');
    expect(offer).toHaveTextContent("This stranger's video keeps being flagged as nudity.");
    await user.click(within(offer).getByRole('button', { name: 'Report nudity' }));

    expect(socket().sentEvents('report')).toEqual([
      { event: 'report', data: { reason: 'nudity', frame: 'data:image/jpeg;base64,/9j/flagged', match_id: 'm1' } },
    ]);
    expect(socket().sent.map((m) => m.event).filter((e) => e === 'report' || e === 'find_match').slice(-2)).toEqual(['report', 'find_match']);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument(); // one click: no dialog
    server({ event: 'reported', data: { match_id: 'm1' } });
    expect(screen.getByTestId('report-notice')).toHaveTextContent('Thanks — a moderator will review this');
    expect(screen.queryByRole('button', { name: 'Report nudity' })).not.toBeInTheDocument();
  });

  it('the toggle: off shows the video at once and classifies nothing; it is remembered', async () => {
    const page = setup();
    const { user, tile, classifier, view } = page;
    const toggle = screen.getByRole('checkbox', { name: 'Blur unsafe video' });
    expect(toggle).toBeChecked(); // on by default
    await user.click(toggle);
    expect(window.localStorage.getItem(BLUR_STORAGE_KEY)).toBe('0');
    await matched(page);
    expect(tile()).toHaveAttribute('data-blurred', 'false');
    expect(tile()).not.toHaveClass('tile-blurred');
    expect(within(tile()).queryByTestId('video-shield')).not.toBeInTheDocument();
    expect(classifier.calls).toBe(1); // the own-camera check only

    // On again: blurred until the next still says safe.
    await user.click(screen.getByRole('checkbox', { name: 'Blur unsafe video' }));
    expect(tile()).toHaveAttribute('data-blurred', 'true');
    await classifier.answer(SAFE);
    expect(tile()).toHaveAttribute('data-blurred', 'false');

    view.unmount();
    window.localStorage.setItem(BLUR_STORAGE_KEY, '0');
    setup();
    expect(screen.getByRole('checkbox', { name: 'Blur unsafe video' })).not.toBeChecked();
  });

  it('a classifier that cannot load leaves the video blurred, saying so, with Show anyway', async () => {
    const page = setup();
    await page.start('video');
    page.classifier.fail();
    await waitFor(() => expect(page.socket().sentEvents('find_match')).toHaveLength(1)); // the own check gives way
    page.server(videoMatch());
    page.strangerVideo();
    await waitFor(() => expect(page.tile()).toHaveAttribute('data-verdict', 'unavailable'));
    expect(page.tile()).toHaveAttribute('data-blurred', 'true');
    expect(page.tile()).toHaveTextContent('Nudity protection could not start, so this video stays blurred');
    await page.user.click(screen.getByRole('button', { name: 'Show anyway' }));
    expect(page.tile()).toHaveAttribute('data-blurred', 'false');
  });

  it("checks the user's own camera before the first search: unsafe warns and waits for Start again", async () => {
    const page = setup();
    const { start, classifier, socket, user } = page;
    await start('video');
    expect(screen.getByRole('button', { name: 'Checking your camera…' })).toBeDisabled();
    classifier.load();
    await classifier.answer(NUDE);
    const warning = await screen.findByTestId('self-warning');
    expect(warning).toHaveAttribute('role', 'alert');
    expect(warning).toHaveTextContent('This chat is moderated; nudity gets you banned.');
    expect(socket().sentEvents('find_match')).toEqual([]);

    await user.click(screen.getByRole('button', { name: 'Start' }));
    expect(socket().sentEvents('find_match')).toHaveLength(1);
    expect(classifier.calls).toBe(1); // checked once per page
    // Said again in the chat, until dismissed.
    expect(screen.getByTestId('self-warning')).toHaveTextContent('This chat is moderated; nudity gets you banned.');
    await user.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('self-warning')).not.toBeInTheDocument();
  });

  it('a safe own camera goes straight on to the search, and the check is not repeated', async () => {
    const page = setup();
    await matched(page);
    expect(screen.queryByTestId('self-warning')).not.toBeInTheDocument();
    expect(page.classifier.calls).toBe(1);
    await page.user.click(screen.getByRole('button', { name: 'Stop' }));
    await page.start('video');
    expect(page.socket().sentEvents('find_match')).toHaveLength(2);
    await page.classifier.answer(SAFE); // the first still of nobody's video is pending; no own check
    expect(page.createClassifier).toHaveBeenCalledTimes(1);
  });

  it('text chats never create the classifier', async () => {
    const page = setup();
    await page.start('text');
    page.server({ event: 'match_found', data: { partner_id: 'p', initiator: false, match_id: 'm1', common_interests: [], mode: 'text' } });
    expect(screen.getByRole('status')).toHaveTextContent('Connected');
    expect(page.createClassifier).not.toHaveBeenCalled();
    expect(screen.queryByTestId('remote-video')).not.toBeInTheDocument();
  });
});
