// The build's precompressed copies, as the build wrote them and as Chromium gets them from
// the real server: every file of web/dist has brotli and gzip copies that decode to it (the
// nudity model's weights, the workers and TF.js's WebAssembly included), every file Vite
// hashed is cached for good by the server and nothing else is, and the page, its workers
// and the model arrive in brotli and work.
import type { Response } from '@playwright/test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { distDir } from './env';
import { expect, startChat, test } from './fixtures';

const copy = /\.(br|gz)$/;
const builtFiles = () =>
  readdirSync(distDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(distDir, name)).isFile() && !copy.test(name));

test('the build wrote a brotli and a gzip copy of every file, the model included', () => {
  const files = builtFiles();
  // what the first video Start fetches, and the landing page
  for (const expected of [/^index\.html$/, /^assets\/index-[\w-]+\.js$/, /^assets\/classifier\.worker-[\w-]+\.js$/, /^assets\/group1-shard\d+of\d+\.min-[\w-]+\.js$/, /^assets\/model\.min-[\w-]+\.js$/, /^assets\/tfjs-backend-wasm-simd-[\w-]+\.wasm$/]) {
    expect(files.some((name) => expected.test(name)), `web/dist has a file matching ${expected}`).toBe(true);
  }
  const missing: string[] = [];
  for (const name of files) {
    const original = readFileSync(join(distDir, name));
    for (const [suffix, decode] of [['.br', brotliDecompressSync], ['.gz', gunzipSync]] as const) {
      let data: Buffer;
      try {
        data = readFileSync(join(distDir, name + suffix));
      } catch {
        missing.push(name + suffix);
        continue;
      }
      expect(decode(data).equals(original), `${name}${suffix} decodes to ${name}`).toBe(true);
      expect(data.length, `${name}${suffix} is smaller`).toBeLessThan(original.length);
    }
  }
  // every file here compresses (a copy that would not be smaller is not written: none is)
  expect(missing).toEqual([]);
});

test('the server caches for good exactly the files Vite hashed', async ({ goServer }) => {
  const server = await goServer();
  for (const name of builtFiles()) {
    const res = await fetch(`${server.url}/${name}`, { method: 'HEAD' });
    expect(res.status, name).toBe(200);
    const immutable = name.startsWith('assets/'); // everything Vite writes there is hashed
    expect(res.headers.get('cache-control'), name).toBe(immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  }
});

test('Chromium gets the page, its workers and the model in brotli, and the model works', async ({ goServer, stranger }) => {
  const server = await goServer();
  const responses: Response[] = [];
  const a = await stranger(server.url);
  a.context.on('response', (response) => responses.push(response));
  await a.page.reload(); // from here on every response is seen
  await startChat(a.page);
  // the first video Start loads the classifier: the model decoded and running
  await a.page.waitForFunction(() => performance.getEntriesByName('gomegle:nsfw-load').length > 0, undefined, { timeout: 60_000 });
  const coding = async (pattern: RegExp) => {
    const response = responses.find((r) => pattern.test(new URL(r.url()).pathname));
    expect(response, `a response for ${pattern}`).toBeDefined();
    return response!.headerValue('content-encoding');
  };
  expect(await coding(/^\/$/)).toBe('br');
  expect(await coding(/^\/assets\/index-[\w-]+\.js$/)).toBe('br');
  expect(await coding(/^\/assets\/classifier\.worker-[\w-]+\.js$/)).toBe('br');
  expect(await coding(/^\/assets\/group1-shard\d+of\d+\.min-[\w-]+\.js$/)).toBe('br');
  expect(await coding(/^\/assets\/tfjs-backend-wasm(-simd)?-[\w-]+\.wasm$/)).toBe('br');
});
