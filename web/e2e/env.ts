// Where the browser and the helper programs are, shared by the config, the
// global setup and the tests.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(webDir, '..');
export const distDir = resolve(webDir, 'dist');
export const artifactsDir = resolve(webDir, 'test-results');
export const screenshotsDir = resolve(artifactsDir, 'screenshots');
export const serverLogsDir = resolve(artifactsDir, 'server-logs');

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const requireBrowser = process.env.REQUIRE_BROWSER === '1';
export const haveChromium = existsSync(chromiumPath);
export const missingChromiumMessage = requireBrowser
  ? `Chromium not found at ${chromiumPath} and REQUIRE_BROWSER=1: failing. ` +
    'Install it (apt-get install chromium) or point CHROMIUM_PATH at a Chromium binary.'
  : `Chromium not found at ${chromiumPath}: browser tests skipped. ` +
    'Install it (apt-get install chromium) or set CHROMIUM_PATH; set REQUIRE_BROWSER=1 to make this a failure.';

export function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const redisServer = process.env.REDIS_SERVER_PATH || 'redis-server';
export const haveRedisServer = onPath(redisServer);
/** Missing redis-server fails (instead of skipping) the multi-instance tests. */
export const requireRedis = process.env.REQUIRE_REDIS === '1' || requireBrowser;

/** Where a system daemon is: $<env> if set, else the command on PATH, else Debian's sbin path. */
function daemonPath(env: string, command: string, debianPath: string): string {
  const configured = process.env[env];
  if (configured) return configured;
  if (onPath(command) || !existsSync(debianPath)) return command;
  return debianPath; // /usr/sbin is not on an unprivileged user's PATH
}

// The operations tests: nginx (Debian package nginx-light) with deploy/nginx.conf, and coturn.
export const nginxPath = daemonPath('NGINX_PATH', 'nginx', '/usr/sbin/nginx');
export const haveNginx = onPath(nginxPath);
export const turnServerPath = daemonPath('TURNSERVER_PATH', 'turnserver', '/usr/bin/turnserver');
export const haveTurnServer = onPath(turnServerPath);

/** A program some tests need: missing, those tests skip, unless it is required. */
export interface Program {
  what: string;
  available: boolean;
  /** Missing fails the test instead of skipping it. */
  required: boolean;
  /** The setting that makes it required. */
  requiredBy: string;
  install: string;
}

export const programs = {
  redisServer: {
    what: `redis-server (${redisServer})`,
    available: haveRedisServer,
    required: requireRedis,
    requiredBy: 'REQUIRE_REDIS=1 or REQUIRE_BROWSER=1',
    install: 'apt-get install redis-server, or set REDIS_SERVER_PATH',
  },
  nginx: {
    what: `nginx (${nginxPath})`,
    available: haveNginx,
    required: requireBrowser,
    requiredBy: 'REQUIRE_BROWSER=1',
    install: 'apt-get install nginx-light, or set NGINX_PATH',
  },
  turnServer: {
    what: `coturn's turnserver (${turnServerPath})`,
    available: haveTurnServer,
    required: requireBrowser,
    requiredBy: 'REQUIRE_BROWSER=1',
    install: 'apt-get install coturn, or set TURNSERVER_PATH',
  },
} satisfies Record<string, Program>;

/** Flags that let two headless pages with a fake camera connect over loopback (BROWSER-TESTS.md). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

/** The same browser, but nobody answers the camera prompt: getUserMedia is refused. */
export const chromiumArgsWithoutCameraPermission = chromiumArgs.filter(
  (flag) => flag !== '--use-fake-ui-for-media-stream',
);
