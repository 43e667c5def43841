// Accessibility: axe-core finds nothing on any view, and a whole conversation
// works with the keyboard alone, in a visible order, with visible focus.
// (The connection-failed view is checked in connection.spec.ts, the Arabic
// ones in i18n.spec.ts.) A view added later gets one line:
// `await expectAccessible(page, '<view>')` where the test has reached it.
import type { Locator, Page } from '@playwright/test';
import { expect, expectAccessible, expectVideoFlowing, meetOnVideo, pressEscNext, sentEvents, startChat, status, test } from './fixtures';

test('axe-core: no violations on landing, searching, connected (video), partner left', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);

  await expect(a.page.getByRole('heading', { name: 'Talk to strangers' })).toBeVisible();
  await a.page.getByLabel('Interests (optional)').fill('music');
  await a.page.getByLabel('Interests (optional)').press('Enter');
  await expectAccessible(a.page, 'landing');

  await startChat(a.page);
  await expect(status(a.page)).toHaveText('Looking for someone…');
  await expectAccessible(a.page, 'searching');

  await startChat(b.page, { interests: ['music'] });
  await expectVideoFlowing(a.page, b.page);
  await b.page.getByRole('textbox', { name: 'Message' }).fill('hello');
  await b.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(a.page.getByTestId('chat-log')).toContainText('Stranger: hello');
  await expect(a.page.getByRole('slider', { name: "Stranger's volume" })).toBeVisible();
  await expectAccessible(a.page, 'connected (video)');

  await b.page.getByRole('button', { name: 'Stop' }).click();
  await expect(status(a.page)).toHaveText('Stranger has disconnected');
  await expectAccessible(a.page, 'partner left');
});

test('axe-core: no violations on connected (text) with the stranger typing', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text' });
  await startChat(b.page, { mode: 'text' });
  await expect(status(a.page)).toHaveText(/^Connected to a stranger/);
  await b.page.getByRole('textbox', { name: 'Message' }).fill('typing…');
  await expect(a.page.getByTestId('typing')).toHaveText('Stranger is typing…');
  await expectAccessible(a.page, 'connected (text)');
});

test('screen readers hear what is seen: polite live regions for status, typing and chat; labelled videos', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await meetOnVideo(a.page, b.page);
  const page = a.page;
  await expect(status(page)).toHaveAttribute('aria-live', 'polite');
  await expect(page.getByTestId('typing')).toHaveAttribute('aria-live', 'polite');
  await expect(page.getByRole('log', { name: 'Messages' })).toHaveAttribute('aria-live', 'polite');
  await expect(page.getByRole('log', { name: 'Messages' })).toContainText("You're now chatting with a random stranger. Say hi!");
  await expect(page.getByLabel("Stranger's video")).toBeVisible();
  await expect(page.getByLabel('Your video')).toBeVisible();
  // Status changes land in the live region itself, so they are announced.
  await pressEscNext(b.page);
  await expect(status(page)).toHaveText('Stranger has disconnected');
  await expect(page.getByRole('log', { name: 'Messages' })).toContainText('Stranger has disconnected.');
});

// ---- keyboard only -------------------------------------------------------------

/** The focused element: visible, matching :focus-visible, with a real outline. */
async function expectVisibleFocus(page: Page) {
  const focused = page.locator(':focus');
  await expect(focused).toBeVisible();
  const ring = await focused.evaluate((element) => {
    const style = getComputedStyle(element);
    return { focusVisible: element.matches(':focus-visible'), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(ring.focusVisible, 'focus is :focus-visible').toBe(true);
  expect(ring.outline, 'focus has an outline').not.toBe('none');
  expect(ring.width, 'outline width in px').toBeGreaterThanOrEqual(2);
}

/** Presses Tab and checks that focus lands on target, visibly. */
async function tabTo(page: Page, target: Locator, key = 'Tab') {
  await page.keyboard.press(key);
  await expect(target).toBeFocused();
  await expectVisibleFocus(page);
}

/**
 * Tabs from the top of the landing page to Start, in this order, and presses it with key: the
 * settings (a menu on this screen: its button, opened with Enter, its settings, closed with
 * Esc, focus back on its button), the interests, the languages, the mode, the camera and microphone, Start.
 */
async function startByKeyboard(page: Page, key: 'Enter' | ' ') {
  const settings = page.getByRole('button', { name: 'Settings' });
  await tabTo(page, settings);
  await page.keyboard.press('Enter');
  await expect(settings).toHaveAttribute('aria-expanded', 'true');
  for (const setting of [
    page.getByRole('combobox', { name: 'Match and message sounds' }),
    page.getByRole('checkbox', { name: 'Blur unsafe video' }),
    page.getByRole('checkbox', { name: 'Find a new stranger automatically' }),
    page.getByRole('combobox', { name: 'Theme' }),
    page.getByRole('combobox', { name: 'Language', exact: true }),
  ])
    await tabTo(page, setting);
  await page.keyboard.press('Escape');
  await expect(settings).toHaveAttribute('aria-expanded', 'false');
  await expect(settings).toBeFocused();
  const order = [
    page.getByRole('textbox', { name: 'Interests (optional)' }),
    page.getByRole('button', { name: 'Remove English' }),
    page.getByRole('combobox', { name: 'Add a language' }),
    page.getByRole('checkbox', { name: 'Only people who speak my language' }),
    page.getByRole('radio', { name: 'Video and text' }),
    page.getByRole('combobox', { name: 'Camera' }),
    page.getByRole('combobox', { name: 'Microphone' }),
    page.getByRole('button', { name: 'Start' }),
  ];
  // Reading order is the visual order: each stop is below the previous one, or on its row further right.
  let previous: { x: number; y: number; height: number } | null = null;
  for (const stop of order) {
    await tabTo(page, stop);
    const box = (await stop.boundingBox())!;
    if (previous) {
      const sameRow = Math.abs(box.y - previous.y) < previous.height;
      expect(sameRow ? box.x > previous.x : box.y > previous.y, 'tab order follows the visual order').toBe(true);
    }
    previous = box;
  }
  await page.keyboard.press(key);
}

test('a whole conversation with the keyboard alone: Start, chat and Send, Mute, Camera, Next (Esc twice), Stop', async ({ goServer, stranger }) => {
  // the two pages meet again after Next: no rematch cooldown here (it has its own tests)
  const server = await goServer({ env: { REMATCH_COOLDOWN: '0s' } });
  const a = await stranger(server.url);
  const b = await stranger(server.url);

  await startByKeyboard(a.page, 'Enter');
  await expect(status(a.page)).toHaveText('Looking for someone…');
  await startByKeyboard(b.page, ' ');
  await expectVideoFlowing(a.page, b.page);

  // Matched: focus is in the message box, so one can just type.
  const aMessage = a.page.getByRole('textbox', { name: 'Message' });
  const bMessage = b.page.getByRole('textbox', { name: 'Message' });
  await expect(aMessage).toBeFocused();
  await expect(bMessage).toBeFocused();
  await a.page.keyboard.type('hello from the keyboard');
  await a.page.keyboard.press('Enter');
  await expect(b.page.getByTestId('chat-log')).toContainText('Stranger: hello from the keyboard');

  // B sends with the Send button, reached by Tab and pressed with Space.
  await b.page.keyboard.type('hi, same here');
  await tabTo(b.page, b.page.getByRole('button', { name: 'Send' }));
  await b.page.keyboard.press(' ');
  await expect(a.page.getByTestId('chat-log')).toContainText('Stranger: hi, same here');

  // From the (empty) message box: Next and Stop after it; before it the log (scrollable with
  // the keyboard), then the camera and microphone pickers, Camera and Mute under the video.
  await expect(aMessage).toBeFocused();
  await tabTo(a.page, a.page.getByRole('button', { name: /^Next/ }));
  await tabTo(a.page, a.page.getByRole('button', { name: 'Stop' }));
  await tabTo(a.page, a.page.getByRole('button', { name: /^Next/ }), 'Shift+Tab');
  await tabTo(a.page, aMessage, 'Shift+Tab');
  await tabTo(a.page, a.page.getByRole('log', { name: 'Messages' }), 'Shift+Tab');
  await tabTo(a.page, a.page.getByTestId('devices'), 'Shift+Tab'); // the pickers' disclosure
  await tabTo(a.page, a.page.getByRole('button', { name: 'Camera off' }), 'Shift+Tab');
  await tabTo(a.page, a.page.getByRole('button', { name: 'Mute' }), 'Shift+Tab');
  await a.page.keyboard.press(' ');
  await expect(a.page.getByRole('button', { name: 'Unmute' })).toHaveAttribute('aria-pressed', 'true');
  await expectVisibleFocus(a.page);
  await tabTo(a.page, a.page.getByRole('button', { name: 'Camera off' }));
  await a.page.keyboard.press('Enter');
  await expect(a.page.getByRole('button', { name: 'Camera on' })).toHaveAttribute('aria-pressed', 'true');
  const sending = await a.page.evaluate(() =>
    window.__peerConnections!.at(-1)!.getSenders().map((sender) => `${sender.track?.kind}:${sender.track?.enabled}`).sort(),
  );
  expect(sending).toEqual(['audio:false', 'video:false']);

  // Esc twice is Next (the first only arms it): B is told and lands on "New stranger", which Enter presses.
  await a.page.keyboard.press('Escape');
  await expect(a.page.getByTestId('esc-hint')).toHaveText('Press Esc again for a new stranger');
  await expect(status(a.page)).toHaveText(/^Connected to a stranger/);
  await a.page.keyboard.press('Escape');
  await expect(status(a.page)).toHaveText('Looking for someone…');
  await expect(aMessage).toBeFocused(); // after Next, in the message box, never on <body>
  await expect(status(b.page)).toHaveText('Stranger has disconnected');
  const again = b.page.getByRole('button', { name: /^New stranger/ });
  await expect(again).toBeFocused();
  await expectVisibleFocus(b.page);
  await b.page.keyboard.press('Enter');
  await expect(status(a.page)).toHaveText(/^Connected to a stranger/);
  await expect(status(b.page)).toHaveText(/^Connected to a stranger/);
  await expect(aMessage).toBeFocused();

  // Stop, by Tab from the message box and Enter: back to the landing page.
  await tabTo(a.page, a.page.getByRole('button', { name: /^Next/ }));
  await tabTo(a.page, a.page.getByRole('button', { name: 'Stop' }));
  await a.page.keyboard.press('Enter');
  await expect(a.page.getByRole('button', { name: 'Start' })).toBeVisible();
  await expect(status(b.page)).toHaveText('Stranger has disconnected');
  expect(sentEvents(a, 'leave')).toHaveLength(1);
});
