import { test as base, chromium, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromiumArgsWithoutCameraPermission,
  chromiumPath,
  haveChromium,
  missingChromiumMessage,
  screenshotsDir,
} from './env';
import { startGoServer, startRedis, type GoServer, type GoServerOptions, type Process, type RedisServer } from './servers';

declare global {
  interface Window {
    __peerConnections?: RTCPeerConnection[];
  }
}

export interface Stranger {
  page: Page;
  context: BrowserContext;
  /** Hosts other than the test servers this page asked for (must stay empty). */
  foreignRequests: string[];
}

interface Fixtures {
  /** Starts a Go server (stopped after the test). */
  goServer: (options?: Partial<GoServerOptions>) => Promise<GoServer>;
  /** Starts a redis-server (stopped after the test). */
  redis: () => Promise<RedisServer>;
  /** Opens a page as a new stranger (own context, fake camera) at url. */
  stranger: (url: string, options?: { browser?: Browser }) => Promise<Stranger>;
  /** A second browser whose camera prompt nobody accepts. */
  browserWithoutCamera: Browser;
}

// Keeps every RTCPeerConnection the app creates, so the test can read getStats().
function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  const created: RTCPeerConnection[] = [];
  window.__peerConnections = created;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      created.push(this);
    }
  };
}

export const test = base.extend<Fixtures>({
  // Depends on redis so that redis-server outlives the Go servers at teardown.
  goServer: async ({ redis: _redis }, use, testInfo) => {
    const started: Process[] = [];
    await use(async (options = {}) => {
      const server = await startGoServer({ name: `${testInfo.testId}-go${started.length + 1}`, ...options });
      started.push(server);
      return server;
    });
    await Promise.all(started.map((proc) => proc.stop()));
  },

  redis: async ({}, use, testInfo) => {
    const started: Process[] = [];
    await use(async () => {
      const server = await startRedis(`${testInfo.testId}-redis${started.length + 1}`);
      started.push(server);
      return server;
    });
    await Promise.all(started.map((proc) => proc.stop()));
  },

  stranger: async ({ browser }, use, testInfo) => {
    const opened: Stranger[] = [];
    const frames: string[] = [];
    await use(async (url, options = {}) => {
      const context = await (options.browser ?? browser).newContext({ viewport: { width: 1280, height: 800 } });
      await context.addInitScript(recordPeerConnections);
      const foreignRequests: string[] = [];
      const allowed = new URL(url).host;
      context.on('request', (request) => {
        const target = new URL(request.url());
        if (target.protocol.startsWith('http') && target.host !== allowed) foreignRequests.push(request.url());
      });
      const page = await context.newPage();
      const label = `stranger ${opened.length + 1}`;
      page.on('websocket', (socket) => {
        const target = new URL(socket.url());
        if (target.host !== allowed) foreignRequests.push(socket.url());
        // The frames each page exchanged, for the report of a failing test.
        const log = (direction: string, payload: string | Buffer) =>
          frames.push(`${new Date().toISOString()} ${label} ${direction} ${String(payload).slice(0, 300)}`);
        frames.push(`${new Date().toISOString()} ${label} open ${target.pathname}${target.search ? '?resume=…' : ''}`);
        socket.on('framereceived', ({ payload }) => log('<-', payload));
        socket.on('framesent', ({ payload }) => log('->', payload));
        socket.on('close', () => frames.push(`${new Date().toISOString()} ${label} closed`));
      });
      await page.goto(url);
      const stranger = { page, context, foreignRequests };
      opened.push(stranger);
      return stranger;
    });
    const framesFile = testInfo.outputPath('websocket-frames.txt');
    writeFileSync(framesFile, frames.join('\n') + '\n');
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('websocket-frames', { path: framesFile, contentType: 'text/plain' });
    }
    for (const { page, context, foreignRequests } of opened) {
      expect(foreignRequests, 'the page must not contact any other host').toEqual([]);
      // Leave the page the way a closed tab does (pagehide: the app closes its
      // socket with 1000), so the server is not left holding sessions for resume.
      if (!page.isClosed()) await page.goto('about:blank').catch(() => undefined); // its browser may be gone already
      await context.close();
    }
  },

  browserWithoutCamera: async ({}, use) => {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgsWithoutCameraPermission });
    await use(browser);
    await browser.close();
  },
});

test.beforeEach(() => {
  test.skip(!haveChromium, missingChromiumMessage);
});

export { expect };

// ---- page actions and checks -------------------------------------------------

export async function startChat(page: Page, options: { mode?: 'video' | 'text'; interests?: string[] } = {}) {
  const { mode = 'video', interests = [] } = options;
  const field = page.getByLabel('Interests (optional)');
  for (const interest of interests) {
    await field.fill(interest);
    await field.press('Enter');
  }
  await page.getByRole('radio', { name: mode === 'video' ? 'Video and text' : 'Text only' }).check();
  await page.getByRole('button', { name: 'Start' }).click();
}

export const status = (page: Page) => page.getByRole('status');

interface MediaState {
  connectionState: string;
  framesDecoded: number;
}

/** connectionState and inbound video framesDecoded of the page's newest open peer connection. */
export async function mediaState(page: Page): Promise<MediaState> {
  return page.evaluate(async () => {
    const open = (window.__peerConnections ?? []).filter((pc) => pc.connectionState !== 'closed');
    const pc = open.at(-1);
    if (!pc) return { connectionState: 'none', framesDecoded: 0 };
    let framesDecoded = 0;
    (await pc.getStats()).forEach((report: { type: string; kind?: string; framesDecoded?: number }) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video') framesDecoded = Math.max(framesDecoded, report.framesDecoded ?? 0);
    });
    return { connectionState: pc.connectionState, framesDecoded };
  });
}

/** Both pages connected peer to peer and decoding the other's video. */
export async function expectVideoFlowing(...pages: Page[]) {
  for (const page of pages) {
    await expect
      .poll(async () => {
        const { connectionState, framesDecoded } = await mediaState(page);
        return { connectionState, decoding: framesDecoded > 0 };
      }, { message: 'peer connection connected and decoding remote video', timeout: 20_000 })
      .toEqual({ connectionState: 'connected', decoding: true });
    await expect(page.getByTestId('remote-video').locator('video')).toBeVisible();
    await expect(status(page)).toHaveText(/^Connected/);
  }
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  const path = join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
