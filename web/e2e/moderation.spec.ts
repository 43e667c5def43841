// Trust and safety (issue 11) in real browsers against the real server: a
// report with its evidence, the moderator console, a ban that reaches the
// banned page at once and on every reload, and the no-rematch rule.
//
// Bans count client addresses, and every page here comes from 127.0.0.1: each
// page claims an address of its own in X-Forwarded-For (documentation range
// 203.0.113.0/24), which the server believes from the trusted loopback.
import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import type { ServerMessage } from '../src/protocol';
import {
  expect,
  expectAccessible,
  expectVideoFlowing,
  lastHello,
  meetOnVideo,
  pressEscNext,
  screenshot,
  sentEvents,
  startChat,
  status,
  test,
  type Stranger,
} from './fixtures';

const MOD_TOKEN = randomBytes(16).toString('hex');
const moderated = { MOD_TOKEN, TRUSTED_PROXIES: '127.0.0.1/32' };
const THANKS = 'Thanks — a moderator will review this';

async function say(from: Stranger, to: Stranger, text: string) {
  await from.page.getByRole('textbox', { name: 'Message' }).fill(text);
  await from.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(to.page.getByTestId('chat-log')).toContainText(`Stranger: ${text}`);
}

/** The match_found messages a page received, in order. */
const matchesOf = (stranger: Stranger) =>
  stranger.received.filter((message): message is Extract<ServerMessage, { event: 'match_found' }> => message.event === 'match_found');

const count = (stranger: Stranger, event: ServerMessage['event']) => stranger.received.filter((message) => message.event === event).length;

/** The decoded size of a base64 data: URL. */
const dataURLBytes = (url: string) => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64').length;

async function signIn(page: Page, token: string) {
  await page.getByLabel('Moderator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('A reports B (nudity, with a note); the console shows the still and the chat; B is banned at once and on reload; A meets C, never B', async ({ goServer, stranger }) => {
  test.setTimeout(180_000);
  const server = await goServer({ env: moderated });
  const a = await stranger(server.url, { forwardedFor: '203.0.113.10' });
  const b = await stranger(server.url, { forwardedFor: '203.0.113.20' });
  await meetOnVideo(a.page, b.page);
  const bID = lastHello(b).id;
  await say(a, b, 'hello from A');
  await say(b, a, 'hi from B');
  await expect
    .poll(() => a.page.getByTestId('remote-video').locator('video').evaluate((video: HTMLVideoElement) => video.videoWidth))
    .toBeGreaterThan(0);

  // The dialog: keyboard reachable, labelled, focus inside.
  const reportButton = a.page.getByRole('button', { name: 'Report', exact: true });
  await reportButton.focus();
  await a.page.keyboard.press('Enter');
  const dialog = a.page.getByRole('dialog', { name: 'Report this stranger' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAttribute('aria-modal', 'true');
  await expect(dialog.getByRole('radio', { name: 'Nudity' })).toBeFocused();
  await expect(dialog).toContainText("a still of the stranger's video, taken just now, and the last messages");
  await expectAccessible(a.page, 'report dialog');
  await screenshot(a.page, '8-report-dialog');

  await dialog.getByRole('radio', { name: 'Nudity' }).check();
  await dialog.getByRole('textbox', { name: 'What happened? (optional)' }).fill('showed nudity on camera');
  await dialog.getByRole('button', { name: 'Send report' }).click();

  // A: thanked, and already looking for the next stranger.
  await expect(a.page.getByTestId('report-notice')).toContainText(THANKS);
  await expect(status(a.page)).toHaveText('Looking for someone…');
  expect(a.received.some((message) => message.event === 'reported')).toBe(true);
  const [report] = sentEvents(a, 'report');
  expect(report.data).toMatchObject({
    reason: 'nudity',
    note: 'showed nudity on camera',
    chat: [
      { from: 'you', text: 'hello from A' },
      { from: 'stranger', text: 'hi from B' },
    ],
  });
  expect(report.data.frame).toMatch(/^data:image\/jpeg;base64,/);
  expect(dataURLBytes(report.data.frame!)).toBeLessThanOrEqual(150_000);
  // The report went first, then the search (as Next does).
  const events = a.sent.map((message) => message.event).filter((event) => event === 'report' || event === 'find_match');
  expect(events.slice(-2)).toEqual(['report', 'find_match']);
  await expectAccessible(a.page, 'report sent');
  await screenshot(a.page, '9-report-sent');
  await expect(status(b.page)).toHaveText('Stranger has disconnected');

  // The console: a wrong token is refused, the right one shows the report.
  const mod = await stranger(`${server.url}/mod`, { forwardedFor: '203.0.113.99' });
  await expect(mod.page.getByRole('heading', { level: 1 })).toHaveText('Moderator console');
  await expectAccessible(mod.page, 'console sign-in');
  await signIn(mod.page, 'not-the-token');
  await expect(mod.page.getByTestId('wrong-token')).toHaveText('Wrong token. Please try again.');
  await signIn(mod.page, MOD_TOKEN);
  const card = mod.page.getByTestId('report-card').filter({ hasText: 'showed nudity on camera' });
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('heading', { level: 3 })).toHaveText('Report: Nudity');
  // A is new here (first seen moments ago): its report reaches the moderators, and does not
  // count towards an automatic ban
  await expect(card.getByTestId('reporters')).toHaveText('0');
  await expect(card.getByTestId('counts')).toContainText("No: the reporter's network is new here");
  await expect(card.getByTestId('reporter')).toHaveText(/^R-[0-9a-f]{12}$/);
  await expect(card.getByTestId('reporter-reports')).toHaveText('1');
  // A and B are on addresses of their own, and B's had one user (B) in the last hour
  await expect(card.getByTestId('shared-address')).toHaveText('No: another network');
  await expect(card.getByTestId('reported-users')).toHaveText('1');
  const frame = card.getByRole('img', { name: "Still of the reported user's video when the report was made" });
  await expect.poll(() => frame.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  expect(await frame.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeLessThanOrEqual(640);
  await expect(card.getByTestId('report-chat')).toContainText('Reporter: hello from A');
  await expect(card.getByTestId('report-chat')).toContainText('Reported user: hi from B');
  expect(mod.webSockets).toEqual([]); // the console is not a stranger
  await expectAccessible(mod.page, 'moderator console');
  await screenshot(mod.page, '10-moderator-console');

  // Ban B for 24 h.
  await card.getByRole('combobox', { name: 'Ban for' }).selectOption('24h');
  await card.getByRole('textbox', { name: 'Reason shown to the user' }).fill('Nudity on camera');
  await card.getByRole('button', { name: 'Ban' }).click();
  await expect(card).toHaveCount(0);
  await expect(mod.page.getByTestId('console-message')).toContainText('Banned until');
  await expect(mod.page.getByTestId('bans')).toContainText('Nudity on camera');

  // B: the whole page says so, with a date in B's language, at once.
  const bannedHeading = b.page.getByRole('heading', { level: 1 });
  await expect(bannedHeading).toHaveText(/^You are banned until /);
  await expect(b.page.getByTestId('banned')).toContainText('Nudity on camera');
  const banned = b.received.find((message): message is Extract<ServerMessage, { event: 'banned' }> => message.event === 'banned');
  expect(banned, 'B received banned').toBeDefined();
  const hours = (Date.parse(banned!.data.until) - Date.now()) / 3_600_000;
  expect(hours).toBeGreaterThan(23);
  expect(hours).toBeLessThanOrEqual(24);
  const localized = await b.page.evaluate(
    (until) => new Intl.DateTimeFormat('en', { dateStyle: 'long', timeStyle: 'short' }).format(new Date(until)),
    banned!.data.until,
  );
  await expect(bannedHeading).toHaveText(`You are banned until ${localized}`);
  await expect(b.page.getByRole('button', { name: /Start|Next|New stranger/ })).toHaveCount(0);
  await expectAccessible(b.page, 'banned');
  await screenshot(b.page, '11-banned');

  // Reloading shows it again (the server says it on every new connection), and nothing says
  // "Connecting…" for ever: no hello comes to a banned page.
  await b.page.reload();
  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText(`You are banned until ${localized}`);
  await expect(b.page.getByTestId('banned')).toContainText('Nudity on camera');
  await expect(b.page.getByText('Connecting…')).toHaveCount(0);
  await expect(b.page.getByTestId('online')).toHaveCount(0);

  // C arrives: A meets C. Never B again.
  const c = await stranger(server.url, { forwardedFor: '203.0.113.30' });
  await startChat(c.page);
  await expectVideoFlowing(a.page, c.page);
  expect(matchesOf(a).at(-1)?.data.partner_id).toBe(lastHello(c).id);
  expect(matchesOf(a).filter((match) => match.data.partner_id === bID)).toHaveLength(1); // the first, reported one only

  // Lifting the ban lets B back in.
  await mod.page.getByTestId('ban').filter({ hasText: 'Nudity on camera' }).getByRole('button', { name: 'Lift ban' }).click();
  await expect(mod.page.getByTestId('console-message')).toHaveText('Ban lifted.');
  await b.page.reload();
  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText('Talk to strangers');
});

test('two strangers who Next each other wait rather than meet again, and each meets the next one who comes', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text' });
  await startChat(b.page, { mode: 'text' });
  await expect(status(a.page)).toHaveText(/^Connected/);
  await expect(status(b.page)).toHaveText(/^Connected/);
  const aID = lastHello(a).id;
  const bID = lastHello(b).id;

  // A presses Next; B looks for someone new too. The only one waiting is A, whom B just met.
  const aWaiting = count(a, 'waiting');
  await pressEscNext(a.page);
  await expect.poll(() => count(a, 'waiting'), { message: 'A queued' }).toBeGreaterThan(aWaiting);
  await expect(status(b.page)).toHaveText('Stranger has disconnected');
  const bWaiting = count(b, 'waiting');
  await b.page.getByRole('button', { name: /New stranger/ }).click();
  // The server's answer to B's search is "waiting", not a match with A.
  await expect.poll(() => count(b, 'waiting'), { message: 'B queued, not matched with A again' }).toBeGreaterThan(bWaiting);
  expect(matchesOf(a)).toHaveLength(1);
  expect(matchesOf(b)).toHaveLength(1);
  // Both are told why they wait (the server passed each over for the other), and that one other searches.
  for (const page of [a.page, b.page]) {
    await expect(status(page)).toHaveText('Looking for someone… · everyone searching right now was met recently; waiting for someone new');
    await expect(page.getByTestId('waiting-info')).toHaveText('1 other person is looking for a text chat');
  }
  await expectAccessible(a.page, 'searching, met recently');
  await screenshot(a.page, '15-met-recently');

  // A third stranger meets one of them, a fourth the other.
  const c = await stranger(server.url);
  await startChat(c.page, { mode: 'text' });
  await expect(status(c.page)).toHaveText(/^Connected/);
  const d = await stranger(server.url);
  await startChat(d.page, { mode: 'text' });
  await expect(status(d.page)).toHaveText(/^Connected/);
  for (const page of [a.page, b.page]) await expect(status(page)).toHaveText(/^Connected/);

  const partners = [a, b].map((s) => matchesOf(s).at(-1)!.data.partner_id).sort();
  expect(partners).toEqual([lastHello(c).id, lastHello(d).id].sort());
  expect(matchesOf(a).filter((match) => match.data.partner_id === bID)).toHaveLength(1);
  expect(matchesOf(b).filter((match) => match.data.partner_id === aID)).toHaveLength(1);
});

// Without MOD_TOKEN the server itself answers /mod with a 404 (the page is not served), so
// the console's "not enabled on this server" is seen only where something else serves the
// page (Vite's dev server proxying /mod/api): the unit tests cover that.
test('a server without MOD_TOKEN has no console: /mod and /mod/api answer 404', async ({ goServer }) => {
  const server = await goServer();
  for (const path of ['/mod', '/mod/', '/mod/api/reports?status=open', '/mod/api/bans']) {
    const response = await fetch(`${server.url}${path}`, { headers: { Authorization: 'Bearer anything' } });
    expect(response.status, path).toBe(404);
    expect(await response.json(), path).toHaveProperty('error');
  }
});
