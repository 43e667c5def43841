// Appeals, with the evidence (issue 25, part 3) in real browsers against the real server: a
// user reported with evidence and banned from the console sees, on its ban page, the still of
// its own video and its own line, never the reporter's line or note; it appeals (after a reload
// too); the appeal reaches the console's queue beside the report; the moderator lifts, and the
// user starts again. A user whose page was gone when the ban was made claims the appeal from the
// same browser (the identities and appeal keys it kept); another browser behind the address cannot.
//
// Each page claims an address of its own in X-Forwarded-For, believed from the trusted loopback.
import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import type { ServerMessage } from '../src/protocol';
import { expect, expectAccessible, meetOnVideo, screenshot, startChat, status, test, type Stranger } from './fixtures';

const MOD_TOKEN = randomBytes(16).toString('hex');

async function say(from: Stranger, to: Stranger, text: string) {
  await from.page.getByRole('textbox', { name: 'Message' }).fill(text);
  await from.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(to.page.getByTestId('chat-log')).toContainText(`Stranger: ${text}`);
}

const loaded = (page: Page, testID: string) =>
  page.getByTestId(testID).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth);

test('a banned user sees only its own evidence, appeals once, and the moderator lifts the ban from the appeals queue', async ({ goServer, stranger }) => {
  test.setTimeout(180_000);
  const server = await goServer({ env: { MOD_TOKEN, TRUSTED_PROXIES: '127.0.0.1/32' } });
  const a = await stranger(server.url, { forwardedFor: '203.0.113.110' });
  const b = await stranger(server.url, { forwardedFor: '203.0.113.120' });
  await meetOnVideo(a.page, b.page);
  await say(a, b, 'the reporter A wrote this');
  await say(b, a, 'the user B wrote this');
  await expect
    .poll(() => a.page.getByTestId('remote-video').locator('video').evaluate((video: HTMLVideoElement) => video.videoWidth))
    .toBeGreaterThan(0);

  // A reports B, with a note about A itself
  await a.page.getByRole('button', { name: 'Report', exact: true }).click();
  const dialog = a.page.getByRole('dialog', { name: 'Report this stranger' });
  await dialog.getByRole('radio', { name: 'Nudity' }).check();
  await dialog.getByRole('textbox', { name: 'What happened? (optional)' }).fill('I am Alice and this is my note');
  await dialog.getByRole('button', { name: 'Send report' }).click();
  await expect(a.page.getByTestId('report-notice')).toBeVisible();

  // the moderator bans B from the report
  const mod = await stranger(`${server.url}/mod`, { forwardedFor: '203.0.113.199' });
  await mod.page.getByLabel('Moderator token').fill(MOD_TOKEN);
  await mod.page.getByRole('button', { name: 'Sign in' }).click();
  const card = mod.page.getByTestId('report-card').filter({ hasText: 'I am Alice and this is my note' });
  await card.getByRole('textbox', { name: 'Reason shown to the user' }).fill('Nudity on camera');
  await card.getByRole('button', { name: 'Ban' }).click();
  await expect(card).toHaveCount(0);

  // B's ban page: its own still and line; nothing of A
  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText(/^You are banned until /);
  const banned = b.received.find((message): message is Extract<ServerMessage, { event: 'banned' }> => message.event === 'banned');
  expect(banned?.data.appeal, 'B was told its appeal token').toMatch(/^[A-Z0-9]+\.[A-Z0-9]+$/);
  const evidence = b.page.getByTestId('appeal-evidence');
  await expect(evidence).toContainText('Reported for: Nudity');
  await expect(b.page.getByTestId('own-lines')).toHaveText('the user B wrote this');
  await expect.poll(() => loaded(b.page, 'own-frame')).toBeGreaterThan(0);
  for (const secret of ['the reporter A wrote this', 'Alice', 'R-']) await expect(b.page.getByTestId('banned')).not.toContainText(secret);
  await expectAccessible(b.page, 'banned, with the appeal');
  await screenshot(b.page, 'appeal-1-banned');

  // a reload: banned again (the server says so without the token), and the page can still appeal
  await b.page.reload();
  await expect(b.page.getByTestId('own-lines')).toHaveText('the user B wrote this');
  const box = b.page.getByRole('textbox', { name: 'Why should the ban be lifted?' });
  await box.fill('It was a poster on the wall behind me');
  await b.page.getByRole('button', { name: 'Send appeal' }).click();
  await expect(b.page.getByText('Your appeal was sent. A moderator will read it.')).toBeVisible();
  await expect(b.page.getByTestId('appeal-sent')).toHaveText('It was a poster on the wall behind me');
  await expect(box).toHaveCount(0);
  await expectAccessible(b.page, 'appeal sent');

  // the console's queue: the appeal beside the whole report
  const queue = mod.page.getByTestId('appeals');
  await queue.getByRole('button', { name: 'Refresh appeals' }).click();
  const appeal = queue.getByTestId('appeal-card');
  await expect(appeal).toHaveCount(1);
  await expect(appeal.getByTestId('appeal-text')).toHaveText('It was a poster on the wall behind me');
  await expect(appeal.getByTestId('appeal-report')).toContainText('I am Alice and this is my note');
  await expect(appeal.getByTestId('report-chat')).toContainText('Reporter: the reporter A wrote this');
  await expect(appeal.getByTestId('report-chat')).toContainText('Reported user: the user B wrote this');
  await expect.poll(() => loaded(mod.page, 'report-frame')).toBeGreaterThan(0);
  await expectAccessible(mod.page, 'appeals queue');
  await screenshot(mod.page, 'appeal-2-queue');

  await appeal.getByRole('button', { name: 'Lift the ban' }).click();
  await expect(queue.getByTestId('appeals-message')).toHaveText('Ban lifted; the evidence and the appeal are deleted.');
  await expect(queue.getByText('No open appeals.')).toBeVisible();

  // B learns it and starts again
  await b.page.getByRole('button', { name: 'Check again' }).click();
  await expect(b.page.getByText('This ban is no longer in force.')).toBeVisible();
  await b.page.getByRole('button', { name: 'Start again' }).click();
  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText('Talk to strangers');
  await startChat(b.page, { mode: 'text' });
  await expect(status(b.page)).toHaveText(/Looking for someone|Connected/);
});

test('a user whose page was gone when the moderator banned it claims the appeal from the same browser; the moderator upholds', async ({ goServer, stranger }) => {
  test.setTimeout(120_000);
  const server = await goServer({ env: { MOD_TOKEN, TRUSTED_PROXIES: '127.0.0.1/32' } });
  const a = await stranger(server.url, { forwardedFor: '203.0.113.130' });
  const b = await stranger(server.url, { forwardedFor: '203.0.113.140' });
  await startChat(a.page, { mode: 'text' });
  await startChat(b.page, { mode: 'text' });
  await expect(status(a.page)).toHaveText(/^Connected/);
  await say(a, b, 'the reporter A wrote this');
  await say(b, a, 'the user B wrote this');
  await a.page.getByRole('button', { name: 'Report', exact: true }).click();
  const dialog = a.page.getByRole('dialog', { name: 'Report this stranger' });
  await dialog.getByRole('radio', { name: 'Harassment, threats or hate' }).check();
  await dialog.getByRole('button', { name: 'Send report' }).click();
  await expect(a.page.getByTestId('report-notice')).toBeVisible();
  await b.page.close(); // B has gone when the moderator gets to the report

  const mod = await stranger(`${server.url}/mod`, { forwardedFor: '203.0.113.199' });
  await mod.page.getByLabel('Moderator token').fill(MOD_TOKEN);
  await mod.page.getByRole('button', { name: 'Sign in' }).click();
  const card = mod.page.getByTestId('report-card');
  await expect(card).toHaveCount(1);
  await card.getByRole('textbox', { name: 'Reason shown to the user' }).fill('Insults');
  await card.getByRole('button', { name: 'Ban' }).click();
  await expect(card).toHaveCount(0);

  // B comes back in the same browser: banned, without a token, and its page claims the appeal
  const page = await b.context.newPage();
  await page.goto(server.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^You are banned until /);
  await expect(page.getByTestId('own-lines')).toHaveText('the user B wrote this');
  await expect(page.getByTestId('banned')).not.toContainText('the reporter A wrote this');
  await page.getByRole('textbox', { name: 'Why should the ban be lifted?' }).fill('I was quoting a film');
  await page.getByRole('button', { name: 'Send appeal' }).click();
  await expect(page.getByText('Your appeal was sent. A moderator will read it.')).toBeVisible();

  // another browser behind the same address learns nothing
  const housemate = await stranger(server.url, { forwardedFor: '203.0.113.140' });
  await expect(housemate.page.getByTestId('no-appeal')).toBeVisible();
  await expect(housemate.page.getByTestId('banned')).not.toContainText('the user B wrote this');

  const queue = mod.page.getByTestId('appeals');
  await queue.getByRole('button', { name: 'Refresh appeals' }).click();
  await expect(queue.getByTestId('appeal-text')).toHaveText('I was quoting a film');
  await queue.getByRole('button', { name: 'Uphold the ban' }).click();
  await expect(queue.getByTestId('appeals-message')).toHaveText('Ban upheld; the evidence and the appeal are deleted.');

  await page.getByRole('button', { name: 'Check again' }).click();
  await expect(page.getByText('A moderator read your appeal and kept the ban.')).toBeVisible();
  await expect(page.getByTestId('own-lines')).toHaveCount(0);
  await expectAccessible(page, 'appeal upheld');
});
