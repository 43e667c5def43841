// A black or frozen picture (issue 25, part 6) in real browsers: one stranger's page swaps
// its camera's track in the call (replaceTrack, as a camera switch does) for a canvas
// painted black, then for a canvas painted once and never again, then gives the camera
// back; its partner's page says "black", then "frozen", with Next beside it, and clears it.
// Before Start, a camera labelled as a known virtual camera, or one whose picture is black,
// is a warning, and Start again goes ahead. What each sample of the stranger's video costs
// is recorded as an annotation (web/README.md has the figures), never asserted.
import type { BrowserContext, Page } from '@playwright/test';
import { BLUR_STORAGE_KEY } from '../src/nsfw/config';
import { PROBLEM_AFTER_MS } from '../src/picture/health';
import { SAMPLE_MEASURE } from '../src/picture/sample';
import { expect, expectAccessibleInBothThemes, meetOnVideo, screenshot, SCREENS, sentEvents, startChat, test, type Screen } from './fixtures';

// The page samples the stranger's video at the nudity check's cadence: 0.5 s here, so that a
// verdict comes about PROBLEM_AFTER_MS after the picture changed.
const nudity = { intervalMs: 500 };
const VERDICT_WITHIN_MS = PROBLEM_AFTER_MS + 15_000;

/** "Blur unsafe video" off for this browser (the model is not what this test is about, and loading it costs both CPUs). */
async function withoutBlur(context: BrowserContext, page: Page) {
  await context.addInitScript((key) => window.localStorage.setItem(key, '0'), BLUR_STORAGE_KEY);
  await page.reload();
}

declare global {
  interface Window {
    /** The camera's track the test took out of the call, to give it back. */
    __cameraTrack?: MediaStreamTrack;
    __stopPainting?: () => void;
  }
}

/**
 * Sends a canvas instead of the camera in the page's call: painted black every 100 ms
 * (a camera that sends black frames), or painted once with a pattern and never again (a
 * frozen camera). The camera's track is kept to be given back.
 */
async function sendCanvas(page: Page, picture: 'black' | 'frozen') {
  await page.evaluate(async (kind) => {
    window.__stopPainting?.();
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const context = canvas.getContext('2d')!;
    const paint = () => {
      if (kind === 'black') {
        context.fillStyle = '#000';
        context.fillRect(0, 0, canvas.width, canvas.height);
        return;
      }
      const gradient = context.createLinearGradient(0, 0, canvas.width, canvas.height);
      gradient.addColorStop(0, '#d33');
      gradient.addColorStop(1, '#33d');
      context.fillStyle = gradient;
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.fillStyle = '#fff';
      context.font = '48px sans-serif';
      context.fillText('still', 100, 140);
    };
    paint();
    const timer = kind === 'black' ? setInterval(paint, 100) : undefined;
    window.__stopPainting = () => clearInterval(timer);
    const track = canvas.captureStream(10).getVideoTracks()[0];
    const pc = (window.__peerConnections ?? []).filter((p) => p.connectionState !== 'closed').at(-1)!;
    const sender = pc.getSenders().find((s) => s.track?.kind === 'video')!;
    if (!window.__cameraTrack) window.__cameraTrack = sender.track!;
    await sender.replaceTrack(track);
  }, picture);
}

async function sendCamera(page: Page) {
  await page.evaluate(async () => {
    window.__stopPainting?.();
    const pc = (window.__peerConnections ?? []).filter((p) => p.connectionState !== 'closed').at(-1)!;
    await pc.getSenders().find((s) => s.track?.kind === 'video')!.replaceTrack(window.__cameraTrack!);
  });
}

/** Durations (ms) of the page's samples of the stranger's video. */
async function sampleDurations(page: Page): Promise<number[]> {
  return page.evaluate((name) => performance.getEntriesByName(name).map((entry) => entry.duration), SAMPLE_MEASURE);
}

/** The notice and its Next button lie inside the stranger's tile and inside the window, and your own picture does not cover them. */
async function expectNoticeInView(page: Page, what: string) {
  const geometry = await page.evaluate(() => {
    const box = (element: Element | null) => {
      const rect = element?.getBoundingClientRect();
      return rect ? { left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom } : null;
    };
    return {
      tile: box(document.querySelector('[data-testid="remote-video"]')),
      self: box(document.querySelector('[data-testid="local-video"]')),
      notice: box(document.querySelector('.tile-problem-box')),
      next: box(document.querySelector('[data-testid="remote-video-problem-next"]')),
      window: { left: 0, top: 0, right: innerWidth, bottom: innerHeight },
    };
  });
  const inside = (inner: typeof geometry.tile, outer: typeof geometry.tile) =>
    inner !== null && outer !== null && inner.left >= outer.left - 1 && inner.top >= outer.top - 1 && inner.right <= outer.right + 1 && inner.bottom <= outer.bottom + 1;
  const apart = (one: typeof geometry.tile, other: typeof geometry.tile) =>
    one === null || other === null || one.right <= other.left || other.right <= one.left || one.bottom <= other.top || other.bottom <= one.top;
  expect(inside(geometry.notice, geometry.tile) && inside(geometry.next, geometry.tile) && inside(geometry.tile, geometry.window), `${what}: ${JSON.stringify(geometry)}`).toBe(true);
  expect(apart(geometry.notice, geometry.self), `${what}: your own picture does not cover the notice: ${JSON.stringify(geometry)}`).toBe(true);
}

for (const screen of Object.keys(SCREENS) as Screen[]) {
  const full = screen === 'desktop';
  const title = full
    ? "a stranger's black, then frozen video is said on its tile with Next, and cleared when the camera comes back"
    : `on a ${screen} screen: a stranger's black video is said inside its tile, Next in view; axe in both themes`;
  test(title, async ({ goServer, stranger }) => {
    test.setTimeout(150_000);
    const server = await goServer();
    const a = await stranger(server.url, { nudity });
    const b = await stranger(server.url, { nudity, screen });
    await withoutBlur(a.context, a.page);
    await withoutBlur(b.context, b.page);
    await meetOnVideo(a.page, b.page);

    const problem = b.page.getByTestId('remote-video-problem');
    await expect(problem).toBeEmpty();

    await sendCanvas(a.page, 'black');
    await expect(problem).toHaveText(/The stranger's video is black/, { timeout: VERDICT_WITHIN_MS });
    await expect(problem.getByRole('button', { name: 'Next' })).toBeInViewport();
    await expectNoticeInView(b.page, `${screen}: black`);
    await expect(a.page.getByTestId('remote-video-problem')).toBeEmpty(); // a's own view of b is fine
    await screenshot(b.page, `24-stranger-black-${screen.replace(' ', '-')}`);
    await expectAccessibleInBothThemes(b.page, `${screen}: the stranger's video is black`);
    if (!full) return;

    await sendCanvas(a.page, 'frozen');
    await expect(problem).toHaveText(/The stranger's video seems frozen/, { timeout: VERDICT_WITHIN_MS });

    await sendCamera(a.page);
    await expect(problem).toBeEmpty({ timeout: 15_000 });

    const durations = (await sampleDurations(b.page)).sort((x, y) => x - y);
    expect(durations.length).toBeGreaterThan(10);
    test.info().annotations.push({
      type: 'picture sample',
      description: `${durations.length} samples of the stranger's video: median ${durations[durations.length >> 1].toFixed(2)} ms, 90th percentile ${durations[Math.floor(durations.length * 0.9)].toFixed(2)} ms`,
    });

    // Next, right there, moves on.
    await sendCanvas(a.page, 'black');
    await expect(problem).toHaveText(/black/, { timeout: VERDICT_WITHIN_MS });
    await problem.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => sentEvents(b, 'find_match').length).toBe(2);
  });
}

test('before Start: a known virtual camera is named and a black camera is said, and Start again goes ahead', async ({ goServer, stranger }) => {
  test.setTimeout(120_000);
  const server = await goServer();

  // Chromium's fake camera cannot be renamed: enumerateDevices is wrapped to call it what OBS calls its camera.
  const virtual = await stranger(server.url);
  await virtual.context.addInitScript(() => {
    const devices = navigator.mediaDevices;
    const enumerate = devices.enumerateDevices.bind(devices);
    devices.enumerateDevices = async () =>
      (await enumerate()).map((device) =>
        device.kind !== 'videoinput'
          ? device
          : ({ deviceId: device.deviceId, groupId: device.groupId, kind: device.kind, label: 'OBS Virtual Camera', toJSON: () => ({}) } as MediaDeviceInfo),
      );
  });
  await withoutBlur(virtual.context, virtual.page);
  await startChat(virtual.page);
  const warning = virtual.page.getByTestId('camera-warning');
  await expect(warning).toContainText('“OBS Virtual Camera” is a virtual camera.');
  await expect(warning).toHaveAttribute('role', 'alert');
  expect(sentEvents(virtual, 'find_match')).toEqual([]);
  await expectAccessibleInBothThemes(virtual.page, 'virtual camera warning');
  await screenshot(virtual.page, '25-virtual-camera');
  await virtual.page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => sentEvents(virtual, 'find_match').length).toBe(1);
  await expect(warning).toHaveCount(0);

  // A camera that sends black: the page's camera is a canvas painted black.
  const dark = await stranger(server.url);
  await dark.context.addInitScript(() => {
    const devices = navigator.mediaDevices;
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 240;
      const context = canvas.getContext('2d')!;
      const paint = () => context.fillRect(0, 0, canvas.width, canvas.height); // black: the default fill
      paint();
      setInterval(paint, 100);
      for (const track of stream.getVideoTracks()) {
        stream.removeTrack(track);
        track.stop();
      }
      stream.addTrack(canvas.captureStream(10).getVideoTracks()[0]);
      return stream;
    };
  });
  await withoutBlur(dark.context, dark.page);
  await startChat(dark.page);
  const black = dark.page.getByTestId('camera-warning');
  await expect(black).toContainText("Your camera's picture is black.");
  expect(sentEvents(dark, 'find_match')).toEqual([]);
  await dark.page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => sentEvents(dark, 'find_match').length).toBe(1);
});
