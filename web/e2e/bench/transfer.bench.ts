// What a first visit costs on the wire, before and after the build's precompressed copies
// (BENCHMARKS.md): the bytes of the landing page and of the first video Start (the nudity
// model: the classifier worker, the model's weights, TF.js's WebAssembly), and the landing
// page's load time on a throttled connection (Chromium's network emulation). "Before" is the
// same build with its .br and .gz copies left out: the server then sends every file as it is,
// as it did before them. Each run is a fresh browser context (an empty cache).
import type { BrowserContext, CDPSession, Page, Request } from '@playwright/test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RULES_STORAGE_KEY, RULES_VERSION } from '../../src/hooks/useRules';
import { distDir } from '../env';
import { startChat, test } from '../fixtures';
import { machineLoad, record, show, summarize } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// 10 Mbit/s both ways, 40 ms of latency: a fair home or 4G line.
const THROTTLE = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };
// A client that takes gzip only (Chromium itself asks for br too, on http://127.0.0.1 as well).
const GZIP_ONLY = 'gzip, deflate';

interface Transfer {
  requests: number;
  /** Response bodies as they came over the wire (encoded). */
  body: number;
  /** Response headers. */
  headers: number;
  /** Content-Encoding → bytes of bodies sent in it ("identity": none). */
  codings: Record<string, number>;
}

/** Counts every response the context receives (the page's and its workers') from now on. */
function countTransfer(context: BrowserContext) {
  const pending: Promise<void>[] = [];
  let transfer: Transfer = { requests: 0, body: 0, headers: 0, codings: {} };
  const finished = (request: Request) =>
    pending.push(
      (async () => {
        const [sizes, response] = await Promise.all([request.sizes(), request.response()]);
        const coding = (await response?.headerValue('content-encoding')) ?? 'identity';
        // Chromium reports no body size for a worker's own script (the page fetches it, the
        // worker's target finishes it); the server's Content-Length is exactly what it sent.
        const body = sizes.responseBodySize || Number((await response?.headerValue('content-length')) ?? 0);
        transfer.requests += 1;
        transfer.body += body;
        transfer.headers += sizes.responseHeadersSize;
        transfer.codings[coding] = (transfer.codings[coding] ?? 0) + body;
        if (process.env.BENCH_DEBUG) console.log(request.url(), coding, body, sizes.responseHeadersSize);
      })(),
    );
  context.on('requestfinished', finished);
  return {
    /** What was counted since the last take, once every finished request is measured. */
    async take(): Promise<Transfer> {
      await Promise.all(pending.splice(0));
      const taken = transfer;
      transfer = { requests: 0, body: 0, headers: 0, codings: {} };
      return taken;
    },
  };
}

async function newVisitor(context: BrowserContext): Promise<{ page: Page; cdp: CDPSession }> {
  await context.addInitScript(
    ({ key, version }) => {
      try {
        window.localStorage.setItem(key, String(version)); // agreed to the rules before: Start searches at once
      } catch {
        // about:blank has no storage
      }
    },
    { key: RULES_STORAGE_KEY, version: RULES_VERSION },
  );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  return { page, cdp };
}

/** The landing page's load event, from the start of the navigation, in ms. */
const loadTime = (page: Page) =>
  page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd);

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

test('bytes on the wire and the throttled first load, without and with the precompressed copies', async ({ goServer, browser }) => {
  test.setTimeout(RUNS * 4 * 120_000);
  const plainDir = mkdtempSync(join(tmpdir(), 'gomegle-plain-dist-'));
  cpSync(distDir, plainDir, { recursive: true, filter: (source) => !/\.(br|gz)$/.test(source) });
  const builds = [
    { name: 'before: no copies', webDir: plainDir, acceptEncoding: undefined },
    { name: 'after: Chromium (br)', webDir: distDir, acceptEncoding: undefined },
    { name: 'after: a client that takes gzip only', webDir: distDir, acceptEncoding: GZIP_ONLY },
  ];
  const results: Record<string, unknown> = {};
  try {
    for (const build of builds) {
      const server = await goServer({ env: { WEB_DIR: build.webDir } });
      const landing: Transfer[] = [];
      const firstStart: Transfer[] = [];
      const throttledLoad: number[] = [];
      const throttledStart: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const context = await browser.newContext({
          viewport: { width: 1280, height: 800 },
          ...(build.acceptEncoding ? { extraHTTPHeaders: { 'Accept-Encoding': build.acceptEncoding } } : {}),
        });
        const transfer = countTransfer(context);
        const { page, cdp } = await newVisitor(context);
        await cdp.send('Network.emulateNetworkConditions', THROTTLE);
        // The landing page: everything it fetches until the network is quiet (the app, its
        // styles, the icon, the proof-of-work solver started by hello).
        await page.goto(server.url, { waitUntil: 'networkidle' });
        throttledLoad.push(await loadTime(page));
        landing.push(await transfer.take());
        // The first video Start: the classifier is created, its worker loads the model.
        const began = Date.now();
        await startChat(page);
        await page.waitForFunction(() => performance.getEntriesByName('gomegle:nsfw-load').length > 0, undefined, { timeout: 120_000, polling: 100 });
        throttledStart.push(Date.now() - began);
        await page.waitForLoadState('networkidle');
        firstStart.push(await transfer.take());
        await context.close();
      }
      const summary = {
        landingBody: summarize(landing.map((t) => t.body)),
        landingWithHeaders: summarize(landing.map((t) => t.body + t.headers)),
        landingRequests: landing[0].requests,
        landingCodings: landing[0].codings,
        firstStartBody: summarize(firstStart.map((t) => t.body)),
        firstStartWithHeaders: summarize(firstStart.map((t) => t.body + t.headers)),
        firstStartRequests: firstStart[0].requests,
        firstStartCodings: firstStart[0].codings,
        throttledLoadMs: summarize(throttledLoad),
        throttledStartToModelMs: summarize(throttledStart),
      };
      console.log(
        `${build.name}: landing ${kB(summary.landingBody.median)} of bodies (${kB(summary.landingWithHeaders.median)} with headers, ${summary.landingRequests} responses: ${JSON.stringify(summary.landingCodings)}); ` +
          `first video Start ${kB(summary.firstStartBody.median)} (${kB(summary.firstStartWithHeaders.median)}, ${summary.firstStartRequests} responses: ${JSON.stringify(summary.firstStartCodings)}); ` +
          `at 10 Mbit/s and 40 ms: load event ${show(summary.throttledLoadMs)}; Start to model loaded ${show(summary.throttledStartToModelMs)}; ${machineLoad()}`,
      );
      results[build.name] = { ...summary, raw: { landing: landing.map((t) => t.body), firstStart: firstStart.map((t) => t.body), throttledLoad, throttledStart } };
      await server.stop();
    }
  } finally {
    rmSync(plainDir, { recursive: true, force: true });
  }
  record('transfer', { runs: RUNS, throttle: THROTTLE, results });
});
