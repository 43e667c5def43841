// `npm start` says "open http://…" only once the server listens: web/scripts/lib.mjs's
// startServer, which start.mjs runs around `go run .`, driven here around the server binary
// global-setup built (the same program; `go run` only compiles it first). No browser.
import { expect, test } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { listeningAddress, serverURLs, startServer } from '../scripts/lib.mjs';
import { distDir, repoRoot } from './env';
import { freePort } from './servers';

const binary = process.env.GOMEGLE_E2E_BINARY;

function serverEnv(port: number, extra: Record<string, string> = {}) {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ADDR: `127.0.0.1:${port}`, WEB_DIR: distDir, REDIS_URL: '', ...extra };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** What the server logged, as it comes. */
function collect() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

test.describe('npm start', () => {
  test.beforeEach(() => {
    test.skip(!binary, 'global-setup built no server binary (Chromium missing: the browser tests are skipped, see its message)');
  });

  for (const format of ['text', 'json']) {
    test(`says where to open the page once the server answers there (LOG_FORMAT=${format})`, async () => {
      const port = await freePort();
      const log = collect();
      const { child, listening } = startServer(binary!, [], { cwd: repoRoot, env: serverEnv(port, { LOG_FORMAT: format }), log: log.stream });
      try {
        let resolvedAt = '';
        const url = await listening.then((u) => {
          resolvedAt = log.text(); // what the server had logged when start.mjs would say "open"
          return u;
        });
        expect(url).toBe(`http://127.0.0.1:${port}`);
        expect(resolvedAt.split('\n').some((line) => listeningAddress(line) === `127.0.0.1:${port}`)).toBe(true);
        // the moment it is said, the page is there
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<div id="root">');
      } finally {
        await stop(child);
      }
    });
  }

  test('says the server exited, and no address, when it cannot listen', async () => {
    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    const log = collect();
    try {
      const { listening } = startServer(binary!, [], { cwd: repoRoot, env: serverEnv(port), log: log.stream });
      await expect(listening).rejects.toThrow(/the server exited \(status 1\) before it listened/);
      expect(log.text()).toContain('listen failed');
    } finally {
      taken.close();
    }
  });
});

test('listeningAddress and serverURLs read the server log and its address', () => {
  expect(listeningAddress('time=2026-12-07T12:00:00Z level=INFO msg=listening addr=[::]:8080 instance=i-1')).toBe('[::]:8080');
  expect(listeningAddress('{"time":"2026-12-07T12:00:00Z","level":"INFO","msg":"listening","addr":"127.0.0.1:9000","instance":"i-1"}')).toBe('127.0.0.1:9000');
  expect(listeningAddress('time=… level=INFO msg="metrics listening" addr=:9100')).toBeNull();
  expect(listeningAddress('{"msg":"pprof listening","addr":"127.0.0.1:6060"}')).toBeNull();
  expect(listeningAddress('# github.com/go-megle/go-megle')).toBeNull();
  expect(serverURLs('[::]:8080')).toEqual({ open: 'http://localhost:8080', probe: 'http://127.0.0.1:8080' });
  expect(serverURLs(':8080').open).toBe('http://localhost:8080');
  expect(serverURLs('0.0.0.0:8080').open).toBe('http://localhost:8080');
  expect(serverURLs('[::1]:9000')).toEqual({ open: 'http://[::1]:9000', probe: 'http://[::1]:9000' });
  expect(serverURLs('127.0.0.1:9000').open).toBe('http://127.0.0.1:9000');
});
