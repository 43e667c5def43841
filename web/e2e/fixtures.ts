import AxeBuilder from '@axe-core/playwright';
import { test as base, chromium, expect, type Browser, type BrowserContext, type Page, type WebSocketRoute } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES_STORAGE_KEY, RULES_VERSION } from '../src/hooks/useRules';
import { parseServerMessage, type ClientMessage, type ServerMessage } from '../src/protocol';
import {
  chromiumArgsWithoutCameraPermission,
  chromiumPath,
  haveChromium,
  missingChromiumMessage,
  screenshotsDir,
  type Program,
} from './env';
import {
  startGoServer,
  startNginx,
  startRedis,
  startTurnServer,
  type GoServer,
  type GoServerOptions,
  type Nginx,
  type Process,
  type RedisServer,
  type TurnServer,
} from './servers';

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
  /** URL of every WebSocket the page opened, in order. */
  webSockets: string[];
  /** Every server message the page received, in order. */
  received: ServerMessage[];
  /** Every message the page sent, in order. */
  sent: ClientMessage[];
}

/** The screens the layout is made for: a laptop, a phone upright, a phone held sideways. */
export const SCREENS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  'phone sideways': { viewport: { width: 844, height: 390 }, isMobile: true, hasTouch: true },
} as const;
export type Screen = keyof typeof SCREENS;

export interface StrangerOptions {
  browser?: Browser;
  /** The screen the page is on (default: desktop, 1280 × 800). */
  screen?: Screen;
  /** The system's colour scheme (the app follows it until a theme is chosen). */
  colorScheme?: 'light' | 'dark';
  /** Browser permissions to grant (e.g. the clipboard). */
  permissions?: string[];
  /** Every RTCPeerConnection the page creates gets this policy ('relay': TURN only). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** The browser's language (navigator.languages, Accept-Language), e.g. 'ar'. */
  locale?: string;
  /** Shorter call timeouts, through the page's test hook (window.goMegleTest). */
  callTimeouts?: { setupMs?: number; recoveryMs?: number };
  /** The nudity check's interval, thresholds or TF.js backends, or how long a Start waits for the own camera's check, through the same hook. */
  nudity?: { intervalMs?: number; unsafe?: number; sexy?: number; backends?: string[]; selfCheckWaitMs?: number };
  /**
   * This browser agreed to the rules before (the flag the rules dialog remembers, set in
   * localStorage before the page runs), so Start goes straight to the search. Default
   * true; the rules' own tests set false and meet the dialog.
   */
  rulesAgreed?: boolean;
  /** Stands between the page and the server's /ws (context.routeWebSocket), to change what the page sends. */
  routeWebSocket?: (route: WebSocketRoute) => void;
  /**
   * The client address this page claims, in X-Forwarded-For on every request and
   * WebSocket upgrade; a server with TRUSTED_PROXIES=127.0.0.1/32 believes it. Bans and
   * per-address limits count addresses, and every page here really comes from 127.0.0.1.
   */
  forwardedFor?: string;
}

interface Fixtures {
  /** Starts a Go server (stopped after the test). */
  goServer: (options?: Partial<GoServerOptions>) => Promise<GoServer>;
  /** Starts a redis-server (stopped after the test). */
  redis: () => Promise<RedisServer>;
  /** Starts nginx with deploy/nginx.conf in front of these servers (stopped after the test). */
  nginx: (upstreams: GoServer[]) => Promise<Nginx>;
  /** Starts coturn on loopback with a fresh auth secret (stopped after the test). */
  turnServer: () => Promise<TurnServer>;
  /** Opens a page as a new stranger (own context, fake camera) at url. */
  stranger: (url: string, options?: StrangerOptions) => Promise<Stranger>;
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

// Makes every RTCPeerConnection use the given ICE transport policy, whatever the app asks for.
function forceIceTransportPolicy(iceTransportPolicy: RTCIceTransportPolicy) {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super({ ...config, iceTransportPolicy });
    }
    setConfiguration(config?: RTCConfiguration) {
      super.setConfiguration({ ...config, iceTransportPolicy });
    }
  };
}

/** Runs a fixture's processes and stops them all after the test. */
async function processes<P extends Process, A extends unknown[]>(
  use: (start: (...args: A) => Promise<P>) => Promise<void>,
  start: (count: number, ...args: A) => Promise<P>,
) {
  const started: Process[] = [];
  await use(async (...args: A) => {
    const proc = await start(started.length + 1, ...args);
    started.push(proc);
    return proc;
  });
  await Promise.all(started.map((proc) => proc.stop()));
}

export const test = base.extend<Fixtures>({
  // Depends on redis so that redis-server outlives the Go servers at teardown.
  goServer: async ({ redis: _redis }, use, testInfo) =>
    processes(use, (n, options: Partial<GoServerOptions> = {}) => startGoServer({ name: `${testInfo.testId}-go${n}`, ...options })),

  redis: async ({}, use, testInfo) => processes(use, (n) => startRedis(`${testInfo.testId}-redis${n}`)),

  // Depends on goServer so that nginx is stopped before the instances behind it.
  nginx: async ({ goServer: _goServer }, use, testInfo) =>
    processes(use, (n, upstreams: GoServer[]) => startNginx(`${testInfo.testId}-nginx${n}`, upstreams.map((server) => new URL(server.url).host))),

  turnServer: async ({}, use, testInfo) => processes(use, (n) => startTurnServer(`${testInfo.testId}-turnserver${n}`)),

  stranger: async ({ browser }, use, testInfo) => {
    const opened: Stranger[] = [];
    const frames: string[] = [];
    await use(async (url, options = {}) => {
      const context = await (options.browser ?? browser).newContext({
        ...SCREENS[options.screen ?? 'desktop'],
        ...(options.colorScheme ? { colorScheme: options.colorScheme } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
        ...(options.locale ? { locale: options.locale } : {}),
        ...(options.forwardedFor ? { extraHTTPHeaders: { 'X-Forwarded-For': options.forwardedFor } } : {}),
      });
      await context.addInitScript(recordPeerConnections);
      if (options.callTimeouts || options.nudity) {
        await context.addInitScript(
          ({ callTimeouts, nudity }) => {
            window.goMegleTest = { callSetupMs: callTimeouts?.setupMs, callRecoveryMs: callTimeouts?.recoveryMs, nudity };
          },
          { callTimeouts: options.callTimeouts, nudity: options.nudity },
        );
      }
      if (options.rulesAgreed ?? true) {
        await context.addInitScript(
          ({ key, version }) => {
            // Only where the test has not set it itself (the rules tests change it and reload).
            try {
              if (window.localStorage.getItem(key) === null) window.localStorage.setItem(key, String(version));
            } catch {
              // about:blank (the fixture's last page) has no storage
            }
          },
          { key: RULES_STORAGE_KEY, version: RULES_VERSION },
        );
      }
      if (options.iceTransportPolicy) await context.addInitScript(forceIceTransportPolicy, options.iceTransportPolicy);
      if (options.routeWebSocket) await context.routeWebSocket(/\/ws(\?|$)/, options.routeWebSocket);
      const foreignRequests: string[] = [];
      const webSockets: string[] = [];
      const received: ServerMessage[] = [];
      const sent: ClientMessage[] = [];
      const allowed = new URL(url).host;
      context.on('request', (request) => {
        const target = new URL(request.url());
        if (target.protocol.startsWith('http') && target.host !== allowed) foreignRequests.push(request.url());
      });
      // The browser asks for the icon at the moment the app opens its socket; through the
      // least_conn balancer (operations.spec.ts) that request in flight on one instance
      // would make where the socket lands a coin toss. No test is about the icon.
      await context.route('**/favicon.svg', (route) => route.fulfill({ status: 204 }));
      const page = await context.newPage();
      const label = `stranger ${opened.length + 1}`;
      page.on('websocket', (socket) => {
        const target = new URL(socket.url());
        if (target.host !== allowed) foreignRequests.push(socket.url());
        webSockets.push(socket.url());
        // The frames each page exchanged, for the report of a failing test.
        const log = (direction: string, payload: string | Buffer) =>
          frames.push(`${new Date().toISOString()} ${label} ${direction} ${String(payload).slice(0, 300)}`);
        frames.push(`${new Date().toISOString()} ${label} open ${target.pathname}${target.search ? '?resume=…' : ''}`);
        socket.on('framereceived', ({ payload }) => {
          log('<-', payload);
          const message = parseServerMessage(typeof payload === 'string' ? payload : payload.toString());
          if (message) received.push(message);
        });
        socket.on('framesent', ({ payload }) => {
          log('->', payload);
          try {
            sent.push(JSON.parse(String(payload)) as ClientMessage);
          } catch {
            // not JSON: nothing this app sends
          }
        });
        socket.on('close', () => frames.push(`${new Date().toISOString()} ${label} closed`));
      });
      await page.goto(url);
      const stranger = { page, context, foreignRequests, webSockets, received, sent };
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

/** Skips the test when a program it needs is missing, or fails it when that program is required. */
export function needProgram(program: Program) {
  if (program.available) return;
  if (program.required) throw new Error(`${program.what} not found and ${program.requiredBy}: failing. Install it: ${program.install}.`);
  const message = `${program.what} not found: test skipped. Install it (${program.install}); ${program.requiredBy} makes this a failure.`;
  console.warn(`*** ${message}`);
  test.skip(true, message);
}

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

/** Two strangers press Start (a first) and meet: both connected and decoding the other's video. */
export async function meetOnVideo(a: Page, b: Page) {
  await startChat(a);
  await startChat(b);
  await expectVideoFlowing(a, b);
}

/** Opens the settings (a menu behind a button unless the screen is wide enough to show them in the bar). */
export async function openSettings(page: Page) {
  const toggle = page.getByRole('button', { name: 'Settings' });
  if ((await toggle.isVisible()) && (await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
}

/**
 * Next by the keyboard, as Omegle had it: Esc arms it ("Press Esc again…"), a second Esc
 * skips. Esc in the message box does nothing, so focus is taken out of it first.
 */
export async function pressEscNext(page: Page) {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('esc-hint')).toHaveText('Press Esc again for a new stranger');
  await page.keyboard.press('Escape');
}

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

/** Both pages connected peer to peer and decoding the other's video (and saying so, in English). */
export async function expectVideoFlowing(...pages: Page[]) {
  await expectMediaFlowing(...pages);
  for (const page of pages) await expect(status(page)).toHaveText(/^Connected/);
}

/** The pages' peer connections connected and decoding the other's video, whatever the page's language. */
export async function expectMediaFlowing(...pages: Page[]) {
  for (const page of pages) {
    await expect
      .poll(async () => {
        const { connectionState, framesDecoded } = await mediaState(page);
        return { connectionState, decoding: framesDecoded > 0 };
      }, { message: 'peer connection connected and decoding remote video', timeout: 20_000 })
      .toEqual({ connectionState: 'connected', decoding: true });
    await expect(page.getByTestId('remote-video').locator('video')).toBeVisible();
  }
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  const path = join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

type HelloData = Extract<ServerMessage, { event: 'hello' }>['data'];

/** The newest hello the page received (its identity and ICE servers). */
export function lastHello(stranger: Stranger): HelloData {
  const hello = stranger.received.findLast((message) => message.event === 'hello');
  if (!hello || hello.event !== 'hello') throw new Error('the page received no hello');
  return hello.data;
}

export interface CandidatePair {
  local: { candidateType: string; address: string; protocol: string; url?: string };
  remote: { candidateType: string; address: string };
}

/** The candidate pair ICE selected on the page's newest open peer connection (null: none yet). */
export async function selectedCandidatePair(page: Page): Promise<CandidatePair | null> {
  return page.evaluate(async () => {
    const pc = (window.__peerConnections ?? []).filter((p) => p.connectionState !== 'closed').at(-1);
    if (!pc) return null;
    const reports = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((report: Record<string, unknown>) => reports.set(report.id as string, report));
    const all = [...reports.values()];
    const selectedID = all.find((r) => r.type === 'transport' && r.selectedCandidatePairId)?.selectedCandidatePairId;
    const pair = selectedID
      ? reports.get(selectedID as string)
      : all.find((r) => r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded');
    if (!pair) return null;
    const local = reports.get(pair.localCandidateId as string);
    const remote = reports.get(pair.remoteCandidateId as string);
    if (!local || !remote) return null;
    return {
      local: {
        candidateType: String(local.candidateType),
        address: `${local.address}:${local.port}`,
        protocol: String(local.protocol),
        url: local.url as string | undefined,
      },
      remote: { candidateType: String(remote.candidateType), address: `${remote.address}:${remote.port}` },
    };
  });
}

// ---- accessibility -----------------------------------------------------------

/**
 * Runs axe-core (every rule but the experimental ones: WCAG 2.0–2.2 A and AA,
 * colour contrast included, and best practices) on the page as it is now and
 * fails on any violation. Each view is checked with one line:
 * `await expectAccessible(page, 'partner left')`.
 */
export async function expectAccessible(page: Page, view: string, rules?: string[]) {
  const axe = new AxeBuilder({ page }).options({ resultTypes: ['violations'] });
  const results = await (rules ? axe.withRules(rules) : axe).analyze();
  const testInfo = test.info();
  await testInfo.attach(`axe ${view}`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' });
  const summary = results.violations.map(
    (violation) => `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
  );
  expect(summary, `axe-core violations on the ${view} view`).toEqual([]);
  testInfo.annotations.push({ type: 'axe', description: `${view}: ${results.passes.length} rules passed, no violations` });
}

/**
 * axe on the view as it is in both themes: every rule with the system dark (the app follows
 * the system), then, with it light, the rules a theme can change (the colours: contrast, and
 * links told apart from text by colour); a theme changes nothing else axe looks at, and a full
 * run on a video page costs seconds on this machine.
 */
export async function expectAccessibleInBothThemes(page: Page, view: string) {
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectAccessible(page, `${view}, dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await expectAccessible(page, `${view}, light`, ['color-contrast', 'link-in-text-block']);
  await page.emulateMedia({ colorScheme: null });
}

/** The messages of one event the page sent. */
export function sentEvents<E extends ClientMessage['event']>(stranger: Stranger, event: E): Extract<ClientMessage, { event: E }>[] {
  return stranger.sent.filter((message): message is Extract<ClientMessage, { event: E }> => message.event === event);
}
