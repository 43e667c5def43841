import { expect, test } from './fixtures';

// The page's Content-Security-Policy lets it open a WebSocket to its own origin only
// (connect-src 'self', which CSP Level 3 extends to ws: and wss: of the same host): a script
// injected into the page cannot open one anywhere else. Real Chromium, the Go server's header.
test("the page's sockets: its own origin is allowed, any other host is refused by the CSP", async ({ goServer, stranger }) => {
  const server = await goServer();
  const { page } = await stranger(server.url);
  const result = await page.evaluate(async () => {
    const violation = new Promise<string>((resolve) => {
      document.addEventListener('securitypolicyviolation', (event) => resolve(`${event.violatedDirective} ${event.blockedURI}`), { once: true });
      setTimeout(() => resolve('no violation'), 5_000);
    });
    const own = new Promise<string>((resolve) => {
      const socket = new WebSocket(`ws://${location.host}/ws`);
      socket.addEventListener('open', () => {
        socket.close(1000);
        resolve('open');
      });
      socket.addEventListener('error', () => resolve('error'));
    });
    let thrown = '';
    try {
      // another port of this machine: another origin (nothing need listen there)
      new WebSocket(`ws://127.0.0.1:${Number(location.port) + 1}/ws`);
    } catch (error) {
      thrown = String(error);
    }
    return { own: await own, other: await violation, thrown };
  });
  expect(result.own, 'a WebSocket to the page’s own origin').toBe('open');
  expect(result.other, `a WebSocket to another origin (${result.thrown})`).toMatch(/^connect-src ws:\/\/127\.0\.0\.1:\d+/);
});
