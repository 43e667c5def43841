import { expect, expectVideoFlowing, meetOnVideo, needProgram, pressEscNext, screenshot, sentEvents, startChat, status, test } from './fixtures';
import { programs } from './env';

test('two strangers press Start and see each other (video decoded on both sides)', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await meetOnVideo(a.page, b.page);

  // Mute and camera off act on the tracks being sent, without renegotiating.
  await a.page.getByRole('button', { name: 'Mute' }).click();
  await a.page.getByRole('button', { name: 'Camera off' }).click();
  const sent = await a.page.evaluate(() =>
    window.__peerConnections!.at(-1)!.getSenders().map((sender) => `${sender.track?.kind}:${sender.track?.enabled}`).sort(),
  );
  expect(sent).toEqual(['audio:false', 'video:false']);
  await expect(a.page.getByRole('button', { name: 'Unmute' })).toHaveAttribute('aria-pressed', 'true');

  // Each page reported its call once: connected, over a host candidate (loopback, no STUN here).
  for (const page of [a, b]) {
    await expect.poll(() => sentEvents(page, 'rtc_stats').length, { message: 'rtc_stats sent' }).toBe(1);
    const [report] = sentEvents(page, 'rtc_stats');
    expect(report.data).toEqual({ outcome: 'connected', setup_ms: expect.any(Number), candidate: 'host' });
    expect(report.data.setup_ms).toBeGreaterThan(0);
    // Today's server answers an event it does not know with unknown_event; the page never shows it.
    await expect(page.page.getByRole('alert')).toHaveCount(0);
  }
});

test('two strangers on two server instances sharing one redis-server connect', async ({ goServer, redis, stranger }) => {
  needProgram(programs.redisServer);
  const shared = await redis();
  const one = await goServer({ redisURL: shared.url, instanceID: 'e2e-one' });
  const two = await goServer({ redisURL: shared.url, instanceID: 'e2e-two' });
  const a = await stranger(one.url);
  const b = await stranger(two.url);
  await meetOnVideo(a.page, b.page);
});

test('text chat goes both ways and shows "Stranger is typing…"', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text' });
  await startChat(b.page, { mode: 'text' });
  await expect(status(a.page)).toHaveText(/^Connected/);
  await expect(status(b.page)).toHaveText(/^Connected/);

  await a.page.getByRole('textbox', { name: 'Message' }).fill('hel');
  await expect(b.page.getByTestId('typing')).toHaveText('Stranger is typing…');
  await a.page.getByRole('textbox', { name: 'Message' }).fill('hello from A');
  await a.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(b.page.getByTestId('chat-log')).toContainText('Stranger: hello from A');
  await expect(b.page.getByTestId('typing')).toHaveText('');
  await expect(a.page.getByTestId('chat-log')).toContainText('You: hello from A');

  await b.page.getByRole('textbox', { name: 'Message' }).fill('hi A, B here');
  await b.page.getByRole('button', { name: 'Send' }).click();
  await expect(a.page.getByTestId('chat-log')).toContainText('Stranger: hi A, B here');
});

test('Next: the partner is told, and the next stranger connects with video', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await meetOnVideo(a.page, b.page);

  await pressEscNext(a.page); // Next: Esc twice
  await expect(status(b.page)).toHaveText('Stranger has disconnected');
  await expect(b.page.getByRole('button', { name: /New stranger/ })).toBeVisible();
  await expect(status(a.page)).toHaveText('Looking for someone…');

  const c = await stranger(server.url);
  await startChat(c.page);
  await expectVideoFlowing(a.page, c.page);
  await expect(status(b.page)).toHaveText('Stranger has disconnected'); // B was not pulled back in
});

test('strangers with a shared interest are matched and both see it', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  await startChat(a.page, { mode: 'text', interests: ['Chess', 'go'] });
  await startChat(b.page, { mode: 'text', interests: ['music', 'chess'] });
  for (const page of [a.page, b.page]) {
    await expect(status(page)).toHaveText(/^Connected/);
    await expect(page.getByTestId('common-interests')).toContainText('chess');
    await expect(page.getByTestId('common-interests')).not.toContainText('music');
  }
});

test('text-only works where the camera is refused', async ({ goServer, stranger, browserWithoutCamera }) => {
  const server = await goServer();
  const a = await stranger(server.url, { browser: browserWithoutCamera });
  const b = await stranger(server.url);

  await startChat(a.page, { mode: 'video' });
  await expect(a.page.getByTestId('media-error')).toContainText('You can still chat by text.');
  await a.page.getByRole('button', { name: 'Continue with text only' }).click();
  await startChat(b.page, { mode: 'text' });

  await expect(status(a.page)).toHaveText(/^Connected/);
  await expect(status(b.page)).toHaveText(/^Connected/);
  await expect(a.page.locator('video')).toHaveCount(0);
  await b.page.getByRole('textbox', { name: 'Message' }).fill('can you read me?');
  await b.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(a.page.getByTestId('chat-log')).toContainText('Stranger: can you read me?');
  await a.page.getByRole('textbox', { name: 'Message' }).fill('loud and clear');
  await a.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(b.page.getByTestId('chat-log')).toContainText('Stranger: loud and clear');
});

test('screenshots of every view: landing, searching, connected, partner left', async ({ goServer, stranger }, testInfo) => {
  const server = await goServer();
  const a = await stranger(server.url);
  const b = await stranger(server.url);
  const saved: string[] = [];

  await a.page.getByLabel('Interests (optional)').fill('music');
  await a.page.getByLabel('Interests (optional)').press('Enter');
  await expect(a.page.getByText('Talk to strangers')).toBeVisible();
  saved.push(await screenshot(a.page, '1-landing'));

  await startChat(a.page);
  await expect(status(a.page)).toHaveText('Looking for someone…');
  await expect(a.page.getByTestId('local-video').locator('video')).toBeVisible();
  saved.push(await screenshot(a.page, '2-searching'));

  await startChat(b.page, { interests: ['music'] });
  await expectVideoFlowing(a.page, b.page);
  await b.page.getByRole('textbox', { name: 'Message' }).fill('hey, nice music taste');
  await b.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(a.page.getByTestId('chat-log')).toContainText('nice music taste');
  await expect
    .poll(() => a.page.getByTestId('remote-video').locator('video').evaluate((video: HTMLVideoElement) => video.videoWidth))
    .toBeGreaterThan(0);
  saved.push(await screenshot(a.page, '3-connected'));
  await a.page.setViewportSize({ width: 390, height: 844 });
  // Portrait phone: nothing wider than the screen, Next and the message box in view.
  await expect.poll(() => a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await expect(a.page.getByRole('button', { name: /^Next/ })).toBeInViewport();
  await expect(a.page.getByRole('textbox', { name: 'Message' })).toBeInViewport();
  saved.push(await screenshot(a.page, '3-connected-phone'));
  await a.page.setViewportSize({ width: 1280, height: 800 });

  await b.page.getByRole('button', { name: 'Stop' }).click();
  await expect(status(a.page)).toHaveText('Stranger has disconnected');
  saved.push(await screenshot(a.page, '4-partner-left'));

  await testInfo.attach('screenshots', { body: saved.join('\n'), contentType: 'text/plain' });
});

test('an instance restart: the page reconnects with its resume token and keeps its stranger', async ({ goServer, redis, stranger }) => {
  needProgram(programs.redisServer);
  const shared = await redis();
  const one = await goServer({ redisURL: shared.url, instanceID: 'e2e-one' });
  const two = await goServer({ redisURL: shared.url, instanceID: 'e2e-two' });
  const a = await stranger(one.url);
  const b = await stranger(two.url);
  await meetOnVideo(a.page, b.page);

  // A rolling deploy of A's instance: its sockets close with 1012 and it comes back on the same address.
  const stopping = one.stop();
  await expect(status(a.page)).toHaveText('Connection lost. Reconnecting…');
  await stopping;
  await goServer({ redisURL: shared.url, instanceID: 'e2e-one-restarted', port: Number(new URL(one.url).port) });

  await expect(status(a.page)).toHaveText(/^Connected/);
  await expect(status(b.page)).toHaveText(/^Connected/);
  await b.page.getByRole('textbox', { name: 'Message' }).fill('still there?');
  await b.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(a.page.getByTestId('chat-log')).toContainText('Stranger: still there?');
  await a.page.getByRole('textbox', { name: 'Message' }).fill('yes');
  await a.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(b.page.getByTestId('chat-log')).toContainText('Stranger: yes');
  await expectVideoFlowing(a.page, b.page); // media is peer to peer: it never stopped
  await expect(b.page.getByTestId('chat-log')).not.toContainText('Stranger has disconnected');
});
