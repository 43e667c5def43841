// A real conversation on real screens (issue 20): long chats at a laptop's size, on a phone
// held upright and sideways, in video and text; the document never scrolls, the message box and
// Next, Stop and Report stay on screen, the newest line is in view; axe on every view in both
// themes. Then Esc as Omegle had it, the stranger's camera and microphone, the interest
// fallback's notice, two cameras, keeping the chat, the theme switch, and the screenshots of docs/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath, repoRoot } from './env';
import {
  expect,
  expectAccessible,
  expectAccessibleInBothThemes,
  expectMediaFlowing,
  expectVideoFlowing,
  mediaState,
  meetOnVideo,
  openSettings,
  pressEscNext,
  screenshot,
  SCREENS,
  sentEvents,
  startChat,
  status,
  test,
  type Screen,
} from './fixtures';

const message = (page: Page) => page.getByRole('textbox', { name: 'Message' });

async function say(page: Page, text: string) {
  await message(page).fill(text);
  await message(page).press('Enter');
}

/** 40 messages, 20 each way, some long enough to wrap, then a 300-character word. */
async function longConversation(a: Page, b: Page) {
  for (let i = 1; i <= 20; i++) {
    await say(b, `message ${i} from B ${'and some more words '.repeat(i % 4)}`.trim());
    await say(a, `reply ${i} from A`);
  }
  await say(b, 'W'.repeat(300));
  for (const page of [a, b]) await expect(page.getByTestId('chat-log').locator('li').last()).toContainText('W'.repeat(300));
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

/** Where things are on the page now, as getBoundingClientRect says. */
async function geometry(page: Page) {
  return page.evaluate(() => {
    const box = (element: Element | null) => {
      if (!element) return null;
      const { left, top, right, bottom, width, height } = element.getBoundingClientRect();
      return { left, top, right, bottom, width, height };
    };
    const log = document.querySelector('[data-testid="chat-log"]')!;
    const controls: Record<string, string> = {
      'message box': '#chat-input',
      Send: '.chat-form button[type="submit"]',
      Next: '.controls .next',
      Stop: '.controls .danger',
      Report: '.controls [data-testid="report"]',
    };
    return {
      window: { width: innerWidth, height: innerHeight },
      document: { width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight },
      controls: Object.fromEntries(Object.entries(controls).map(([name, selector]) => [name, box(document.querySelector(selector))])),
      log: box(log)!,
      newest: box(log.querySelector('li:last-child'))!,
      logScroll: { height: log.scrollHeight, clientHeight: log.clientHeight, width: log.scrollWidth, clientWidth: log.clientWidth },
      self: box(document.querySelector('[data-testid="local-video"]')),
      tiles: box(document.querySelector('.tiles')),
    };
  });
}

const inside = (inner: Box, outer: { left?: number; top?: number; right?: number; bottom?: number }) =>
  inner.left >= (outer.left ?? 0) - 1 && inner.top >= (outer.top ?? 0) - 1 && inner.right <= outer.right! + 1 && inner.bottom <= outer.bottom! + 1;

/** The conversation holds: nothing scrolls but the log, the controls are on screen, the newest line is in view. */
async function expectConversationHolds(page: Page, what: string) {
  const g = await geometry(page);
  const window = { right: g.window.width, bottom: g.window.height };
  expect(g.document.height, `${what}: the document does not scroll`).toBeLessThanOrEqual(g.window.height);
  expect(g.document.width, `${what}: nothing is wider than the window`).toBeLessThanOrEqual(g.window.width);
  for (const [name, box] of Object.entries(g.controls)) {
    expect(box, `${what}: ${name} is there`).not.toBeNull();
    expect(inside(box!, window), `${what}: ${name} ${JSON.stringify(box)} is inside the window ${JSON.stringify(g.window)}`).toBe(true);
  }
  expect(g.logScroll.height, `${what}: the log scrolls (the conversation is longer than it)`).toBeGreaterThan(g.logScroll.clientHeight);
  expect(g.logScroll.width, `${what}: long words wrap inside the log`).toBeLessThanOrEqual(g.logScroll.clientWidth);
  // the newest line is in view: all of it, or (a line taller than the log: a 300-character word
  // on a phone held sideways) its end, at the end of the log
  const newestInView = g.newest.height <= g.log.height ? inside(g.newest, g.log) : g.newest.bottom <= g.log.bottom + 1 && g.newest.bottom >= g.log.bottom - 24;
  expect(newestInView && g.newest.bottom <= g.window.height, `${what}: the newest line ${JSON.stringify(g.newest)} is in view in the log ${JSON.stringify(g.log)}`).toBe(true);
  if (g.self && g.tiles) {
    expect(g.self.width, `${what}: your own video stays a small share of the video area`).toBeLessThanOrEqual(0.3 * g.tiles.width + 4);
    expect(g.self.height).toBeLessThanOrEqual(0.5 * g.tiles.height);
  }
}

const screens = Object.keys(SCREENS) as Screen[];

// Each screen, each mode: a test of its own (they are the heaviest here: two pages, 82 lines,
// axe on each view in both themes), with a bound for a machine shared with other test runs.
for (const screen of screens) {
  const size = `${SCREENS[screen].viewport.width} × ${SCREENS[screen].viewport.height}`;
  const name = screen.replace(' ', '-');

  test(`a long video chat on a ${screen} screen (${size}): only the log scrolls, the controls stay in view; axe in both themes on every view`, async ({
    goServer,
    stranger,
  }) => {
    test.setTimeout(360_000);
    const server = await goServer();
    const a = await stranger(server.url, { screen });
    const b = await stranger(server.url, { screen });

    await expect(a.page.getByRole('heading', { name: 'Talk to strangers' })).toBeVisible();
    await expectAccessibleInBothThemes(a.page, `${screen}: landing`);
    await openSettings(a.page);
    await expect(a.page.getByRole('combobox', { name: 'Theme' })).toBeInViewport();
    await expectAccessibleInBothThemes(a.page, `${screen}: settings menu`);
    await a.page.keyboard.press('Escape');
    await expect(a.page.getByRole('combobox', { name: 'Theme' })).toBeHidden();

    await startChat(a.page);
    await expect(status(a.page)).toHaveText(/^Looking for someone…/);
    await expect(message(a.page)).toBeInViewport();
    await expectAccessibleInBothThemes(a.page, `${screen}: searching`);
    await startChat(b.page);
    await expectVideoFlowing(a.page, b.page);
    await longConversation(a.page, b.page);
    for (const [who, page] of [['A', a.page], ['B', b.page]] as const) await expectConversationHolds(page, `${screen}, video, ${who}`);
    await expectAccessibleInBothThemes(a.page, `${screen}: connected (video) with a long chat`);
    await screenshot(a.page, `20-long-chat-video-${name}`);

    // reading further up: the log stays there, and says new messages came
    await a.page.getByTestId('chat-log').evaluate((log) => log.scrollTo({ top: 0 }));
    await say(b.page, 'are you still reading?');
    const jump = a.page.getByRole('button', { name: /New messages/ });
    await expect(jump).toBeVisible();
    await expect(a.page.getByTestId('chat-log').getByText('are you still reading?')).not.toBeInViewport();
    await expectAccessibleInBothThemes(a.page, `${screen}: new messages`);
    await jump.click();
    await expect(a.page.getByTestId('chat-log').getByText('are you still reading?')).toBeInViewport();
    await expect(jump).toHaveCount(0);

    // the camera and microphone panel, and the Esc hint
    await a.page.getByTestId('devices').click();
    await expect(a.page.getByRole('combobox', { name: 'Camera' })).toBeInViewport();
    await expectAccessibleInBothThemes(a.page, `${screen}: camera and microphone`);
    await a.page.getByTestId('devices').click();
    await a.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await a.page.keyboard.press('Escape');
    await expect(a.page.getByTestId('esc-hint')).toBeInViewport();
    await expectAccessibleInBothThemes(a.page, `${screen}: Esc armed`);

    // the stranger leaves: partner left, and the chat can be kept
    await b.page.getByRole('button', { name: 'Stop' }).click();
    await expect(status(a.page)).toHaveText('Stranger has disconnected');
    await expect(a.page.getByRole('button', { name: 'Save chat' })).toBeInViewport();
    await expectConversationHolds(a.page, `${screen}, partner left`);
    await expectAccessibleInBothThemes(a.page, `${screen}: partner left`);
  });

  test(`a long text chat on a ${screen} screen (${size}): only the log scrolls, the controls stay in view; axe in both themes`, async ({ goServer, stranger }) => {
    test.setTimeout(240_000);
    const server = await goServer();
    const a = await stranger(server.url, { screen });
    const b = await stranger(server.url, { screen });
    await startChat(a.page, { mode: 'text' });
    await startChat(b.page, { mode: 'text' });
    for (const page of [a.page, b.page]) await expect(status(page)).toHaveText(/^Connected to a stranger/);
    await longConversation(a.page, b.page);
    for (const [who, page] of [['A', a.page], ['B', b.page]] as const) await expectConversationHolds(page, `${screen}, text, ${who}`);
    await expectAccessibleInBothThemes(a.page, `${screen}: connected (text) with a long chat`);
    await screenshot(a.page, `21-long-chat-text-${name}`);
  });
}

test('Esc: in the message box, or ending an IME composition, the stranger stays; outside it, two presses skip; focus goes to the message box', async ({
  goServer,
  stranger,
}) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text' });
  await expect(message(a.page)).toBeFocused(); // after Start: the message box, never <body>
  await startChat(b.page, { mode: 'text' });
  for (const page of [a.page, b.page]) await expect(status(page)).toHaveText(/^Connected to a stranger/);
  await expect(message(a.page)).toBeFocused(); // after the match

  // typing: Esc belongs to the draft
  await message(a.page).fill('half a thought');
  await a.page.keyboard.press('Escape');
  await a.page.keyboard.press('Escape');
  // an IME composition ending with Esc (Playwright's keyboard cannot compose: the page's own event)
  for (const target of ['#chat-input', 'body']) {
    await a.page.evaluate((selector) => {
      document.querySelector(selector)!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', isComposing: true, bubbles: true, cancelable: true }));
    }, target);
  }
  await expect(status(a.page)).toHaveText(/^Connected to a stranger/);
  await expect(message(a.page)).toHaveValue('half a thought');
  await expect(a.page.getByTestId('esc-hint')).toBeEmpty();
  expect(sentEvents(a, 'find_match')).toHaveLength(1);

  // outside the box: the first Esc arms Next for about 3 s, and lapses
  await a.page.getByTestId('chat-log').click();
  await a.page.keyboard.press('Escape');
  await expect(a.page.getByTestId('esc-hint')).toHaveText('Press Esc again for a new stranger');
  await expect(a.page.getByTestId('esc-hint')).toBeEmpty({ timeout: 6_000 });
  await expect(status(a.page)).toHaveText(/^Connected to a stranger/);
  expect(sentEvents(a, 'find_match')).toHaveLength(1);

  // two presses skip
  await pressEscNext(a.page);
  await expect(status(a.page)).toHaveText(/^Looking for someone…/);
  await expect(status(b.page)).toHaveText('Stranger has disconnected');
  expect(sentEvents(a, 'find_match')).toHaveLength(2);
  await expect(message(a.page)).toBeFocused(); // after Next, never <body>
  await expect(message(a.page)).toHaveValue('half a thought'); // the draft waits for the next one

  // with nobody to lose (the stranger left), one Esc is New stranger
  await b.page.getByTestId('chat-log').click();
  await b.page.keyboard.press('Escape');
  await expect(status(b.page)).toHaveText(/^Looking for someone…/);
});

test("the stranger's camera and microphone: the partner sees Camera off and Muted, and so does the one who switched them off", async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await meetOnVideo(a.page, b.page);
  const remote = b.page.getByTestId('remote-video');
  await expect(remote.getByTestId('remote-video-camera-off')).toHaveCount(0);

  await a.page.getByRole('button', { name: 'Camera off' }).click();
  await expect(b.page.getByTestId('remote-video-camera-off')).toHaveText('Camera off');
  await expect(remote.locator('video')).toBeHidden(); // not a black tile
  await expect(a.page.getByTestId('local-video-camera-off')).toHaveText('Camera off');
  await a.page.getByRole('button', { name: 'Mute' }).click();
  await expect(b.page.getByTestId('remote-video-muted')).toHaveText('Muted');
  await expect(a.page.getByTestId('local-video-muted')).toHaveText('Muted');
  await expectAccessible(b.page, 'the stranger with camera off and muted');
  await screenshot(b.page, '16-stranger-camera-off');

  await a.page.getByRole('button', { name: 'Camera on' }).click();
  await a.page.getByRole('button', { name: 'Unmute' }).click();
  await expect(b.page.getByTestId('remote-video-camera-off')).toHaveCount(0);
  await expect(b.page.getByTestId('remote-video-muted')).toHaveCount(0);
  await expect(remote.locator('video')).toBeVisible();
  expect(sentEvents(a, 'media_state').map((m) => m.data)).toEqual([
    { camera: false, mic: true },
    { camera: false, mic: false },
    { camera: true, mic: false },
    { camera: true, mic: true },
  ]);
  expect(sentEvents(b, 'media_state')).toEqual([]); // nothing to say: both on
});

test('nobody shares the interest: a stranger who speaks your language at once, else a random one after the fallback, and the page says which', async ({
  goServer,
  stranger,
}) => {
  const server = await goServer({ env: { INTEREST_FALLBACK: '1s' } });
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text', interests: ['knitting'] });
  await expect(a.page.getByTestId('waiting-info')).toHaveText('Nobody else is looking for a text chat right now');
  await startChat(b.page, { mode: 'text' });
  await expect(a.page.getByTestId('chat-log')).toContainText('No one shares your interests right now: a stranger who speaks your language');
  await expect(b.page.getByTestId('chat-log')).toContainText("You're now chatting with a random stranger. Say hi!");

  // a Portuguese speaker shares neither: only the interest fallback pairs them
  const c = await stranger(server.url);
  const d = await stranger(server.url);
  await startChat(c.page, { mode: 'text', interests: ['knitting'] });
  await expect(c.page.getByTestId('waiting-info')).toHaveText('Nobody else is looking for a text chat right now');
  await d.page.getByRole('button', { name: 'Remove English' }).click();
  await d.page.getByRole('combobox', { name: 'Add a language' }).selectOption('pt');
  await startChat(d.page, { mode: 'text' });
  await expect(c.page.getByTestId('chat-log')).toContainText('No one shares your interests right now: a random stranger');
  await expectAccessible(c.page, 'a random stranger after the interest fallback');
});

// Chromium's fake capture devices (--use-fake-device-for-media-stream=device-count=N) are
// fake_device_0 (I420), fake_device_1 (Y16: a depth camera, whose frames a peer never decodes)
// and fake_device_2 (MJPEG): the two cameras a person would have are 0 and 2.
test('two cameras: choosing and switching replace the sent picture, the partner keeps decoding, and the choice is remembered', async ({ goServer, stranger }) => {
  const twoCameras = await chromium.launch({
    executablePath: chromiumPath,
    args: chromiumArgs.map((flag) => (flag === '--use-fake-device-for-media-stream' ? '--use-fake-device-for-media-stream=device-count=3' : flag)),
  });
  try {
    const server = await goServer();
    const a = await stranger(server.url, { browser: twoCameras });
    const b = await stranger(server.url);
    // before Start: the cameras to choose from (the browser names them: it allows the camera)
    const picker = a.page.getByRole('combobox', { name: 'Camera' });
    await expect(picker.locator('option')).toHaveText(['fake_device_0', 'fake_device_1', 'fake_device_2']);
    await picker.selectOption({ label: 'fake_device_2' });
    await meetOnVideo(a.page, b.page);
    const sent = () => a.page.evaluate(() => window.__peerConnections!.at(-1)!.getSenders().find((s) => s.track?.kind === 'video')!.track!.label);
    expect(await sent()).toBe('fake_device_2'); // Start used the choice

    const decodedBy = async (page: Page) => (await mediaState(page)).framesDecoded;
    const keepsDecoding = async () => {
      const before = await decodedBy(b.page);
      await expect.poll(() => decodedBy(b.page), { message: "the partner decodes the new camera's frames" }).toBeGreaterThan(before + 10);
      expect((await mediaState(b.page)).connectionState).toBe('connected');
    };

    // during the chat: Switch camera (the next one: after the last, the first), then the picker
    await a.page.getByRole('button', { name: 'Switch camera' }).click();
    await expect.poll(sent).toBe('fake_device_0');
    await keepsDecoding();
    await a.page.getByTestId('devices').click();
    await a.page.getByRole('combobox', { name: 'Camera' }).selectOption({ label: 'fake_device_2' });
    await expect.poll(sent).toBe('fake_device_2');
    await keepsDecoding();
    await expect(a.page.getByTestId('local-video').locator('video')).toBeVisible();
    expect(await a.page.evaluate(() => (document.querySelector('[data-testid="local-video"] video') as HTMLVideoElement).srcObject instanceof MediaStream)).toBe(true);
    const pcs = await a.page.evaluate(() => window.__peerConnections!.length);
    expect(pcs, 'no new call: the track was replaced').toBe(1);

    // the microphone too
    const microphone = a.page.getByRole('combobox', { name: 'Microphone' });
    await microphone.selectOption({ label: 'Fake Audio Input 2' });
    await expect
      .poll(() => a.page.evaluate(() => window.__peerConnections!.at(-1)!.getSenders().find((s) => s.track?.kind === 'audio')!.track!.label))
      .toBe('Fake Audio Input 2');

    // remembered: a reload and Start open the same devices
    await a.page.reload();
    await startChat(a.page);
    await expect(a.page.getByTestId('local-video').locator('video')).toBeVisible();
    await expect
      .poll(() => a.page.evaluate(() => ((document.querySelector('[data-testid="local-video"] video') as HTMLVideoElement).srcObject as MediaStream).getVideoTracks()[0].label))
      .toBe('fake_device_2');
  } finally {
    await twoCameras.close();
  }
});

test('keeping the chat: Save chat downloads a .txt and Copy fills the clipboard, made in the browser; gone when the next chat starts', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url, { permissions: ['clipboard-read', 'clipboard-write'] });
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text' });
  await startChat(b.page, { mode: 'text' });
  await expect(status(a.page)).toHaveText(/^Connected/);
  await say(b.page, 'hello from B, https://example.org/some/long/path');
  await say(a.page, 'hi B');
  await expect(b.page.getByTestId('chat-log')).toContainText('hi B');
  await expect(a.page.getByRole('button', { name: 'Save chat' })).toHaveCount(0); // not during the chat
  await b.page.getByRole('button', { name: 'Stop' }).click();
  await expect(status(a.page)).toHaveText('Stranger has disconnected');

  const sentBefore = a.sent.length;
  const requests: string[] = [];
  a.page.on('request', (request) => requests.push(request.url()));
  const [download] = await Promise.all([a.page.waitForEvent('download'), a.page.getByRole('button', { name: 'Save chat' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^go-megle-chat-\d{4}-\d{2}-\d{2}-\d{4}\.txt$/);
  const text = readFileSync(await download.path(), 'utf8');
  expect(text).toMatch(/^Go-Megle: a chat with a stranger, .+\n\n/);
  expect(text).toContain("— You're now chatting with a random stranger. Say hi!\nStranger: hello from B, https://example.org/some/long/path\nYou: hi B\n— Stranger has disconnected.\n");
  await a.page.getByRole('button', { name: 'Copy' }).click();
  await expect(a.page.getByTestId('copy-result')).toHaveText('Copied');
  expect(await a.page.evaluate(() => navigator.clipboard.readText())).toBe(text);
  expect(a.sent.length, 'nothing went to the server').toBe(sentBefore);
  expect(requests.filter((url) => !url.startsWith('blob:'))).toEqual([]);

  // through Next, until the next chat starts
  await a.page.getByRole('button', { name: /New stranger/ }).click();
  await expect(a.page.getByRole('button', { name: 'Save chat' })).toBeVisible();
  const c = await stranger(server.url);
  await startChat(c.page, { mode: 'text' });
  await expect(status(a.page)).toHaveText(/^Connected/);
  await expect(a.page.getByRole('button', { name: 'Save chat' })).toHaveCount(0);
});

test('the theme: follows the system until switched; the switch is remembered; both themes pass axe on the landing page', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url, { colorScheme: 'light' });
  const background = () => a.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const light = await background();
  await a.page.emulateMedia({ colorScheme: 'dark' });
  const dark = await background();
  expect(dark).not.toBe(light);
  await openSettings(a.page);
  await a.page.getByRole('combobox', { name: 'Theme' }).selectOption({ label: 'Light' });
  expect(await background()).toBe(light); // chosen: the system's dark no longer counts
  await a.page.reload();
  expect(await a.page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  expect(await background()).toBe(light);
  await expectAccessible(a.page, 'landing, light theme chosen');
});

test('on a phone: the settings are a menu, the interests field fits its placeholder and has an Add button, the stranger goes full screen', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url, { screen: 'phone' });
  const b = await stranger(server.url, { screen: 'phone' });
  const page = a.page;
  await expect(page.getByRole('checkbox', { name: 'Blur unsafe video' })).toBeHidden();
  const top = await page.locator('.topbar').boundingBox();
  expect(top!.height, 'the top bar is one short row').toBeLessThanOrEqual(60);
  await openSettings(page);
  await expect(page.getByRole('checkbox', { name: 'Blur unsafe video' })).toBeInViewport();
  await page.getByText(/^Be kind/).tap(); // a tap elsewhere closes it
  await expect(page.getByRole('checkbox', { name: 'Blur unsafe video' })).toBeHidden();

  const field = page.getByRole('textbox', { name: 'Interests (optional)' });
  const fits = await field.evaluate((input: HTMLInputElement) => {
    const style = getComputedStyle(input);
    const context = document.createElement('canvas').getContext('2d')!;
    context.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return { text: context.measureText(input.placeholder).width, room };
  });
  expect(fits.text, 'the placeholder is not cut off').toBeLessThanOrEqual(fits.room);
  await field.tap();
  await field.fill('board games');
  await page.getByRole('button', { name: 'Add' }).tap();
  await expect(page.getByRole('list', { name: 'Your interests' })).toHaveText(/board games/);
  await page.getByRole('button', { name: /Remove board games/ }).tap();

  await startChat(page);
  await startChat(b.page);
  await expectMediaFlowing(page, b.page);
  await page.getByRole('button', { name: 'Full screen' }).tap();
  await expect.poll(() => page.evaluate(() => document.fullscreenElement?.getAttribute('data-testid') ?? null)).toBe('remote-video');
  await page.getByRole('button', { name: 'Exit full screen' }).tap();
  await expect.poll(() => page.evaluate(() => document.fullscreenElement)).toBeNull();
});

// The README's pictures: a video chat on a laptop and on a phone. Written into docs/ only when
// asked (DOCS_SCREENSHOTS=1), like this: DOCS_SCREENSHOTS=1 npx playwright test -g "docs/"
test('screenshots for docs/: a video chat at desktop and phone size', async ({ goServer, stranger }) => {
  const server = await goServer();
  for (const screen of ['desktop', 'phone'] as const) {
    const a = await stranger(server.url, { screen, colorScheme: 'dark' });
    const b = await stranger(server.url, { screen: 'desktop' });
    await startChat(a.page, { interests: ['music'] });
    await startChat(b.page, { interests: ['music', 'travel'] });
    await expectVideoFlowing(a.page, b.page);
    await say(b.page, 'hi! what music are you into?');
    await say(a.page, 'mostly jazz lately, you?');
    await say(b.page, 'same, and some old soul records');
    await expect(a.page.getByTestId('chat-log')).toContainText('old soul records');
    await expect.poll(() => a.page.getByTestId('remote-video').locator('video').evaluate((video: HTMLVideoElement) => video.videoWidth)).toBeGreaterThan(0);
    await a.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()); // no focus ring in the picture
    await screenshot(a.page, `22-docs-${screen}`);
    if (process.env.DOCS_SCREENSHOTS === '1') {
      await a.page.screenshot({ path: join(repoRoot, 'docs', screen === 'desktop' ? 'screenshot-connected.png' : 'screenshot-phone.png') });
    }
    await b.page.getByRole('button', { name: 'Stop' }).click();
    await a.page.getByRole('button', { name: 'Stop' }).click();
  }
});
