import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { precompress } from './precompress';

describe('precompress', () => {
  let dir = '';
  const text = 'export const line = "a chat between two strangers";\n'.repeat(200);
  const noise = randomBytes(4096); // incompressible: no copy is smaller

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gomegle-precompress-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Go-Megle</title>'.repeat(20));
    writeFileSync(join(dir, 'assets', 'index-AbC123_-.js'), text);
    writeFileSync(join(dir, 'assets', 'noise-XyZ98765.bin'), noise);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a brotli and a gzip copy beside every file, in subdirectories too, that decode to it', async () => {
    const results = await precompress(dir);
    for (const name of ['index.html', join('assets', 'index-AbC123_-.js')]) {
      const original = readFileSync(join(dir, name));
      expect(brotliDecompressSync(readFileSync(join(dir, `${name}.br`)))).toEqual(original);
      expect(gunzipSync(readFileSync(join(dir, `${name}.gz`)))).toEqual(original);
      const result = results.find((r) => r.file === name);
      expect(result?.size).toBe(original.length);
      expect(result?.copies['.br']).toBe(readFileSync(join(dir, `${name}.br`)).length);
      expect(result?.copies['.br']).toBeLessThan(original.length / 10);
    }
  });

  it('writes no copy that is not smaller than the file, and leaves none from an earlier build', async () => {
    writeFileSync(join(dir, 'assets', 'noise-XyZ98765.bin.br'), 'a copy of what the file held before');
    const results = await precompress(dir);
    expect(existsSync(join(dir, 'assets', 'noise-XyZ98765.bin.br'))).toBe(false);
    expect(existsSync(join(dir, 'assets', 'noise-XyZ98765.bin.gz'))).toBe(false);
    expect(results.find((r) => r.file.endsWith('.bin'))?.copies).toEqual({});
  });

  it('never compresses a copy again: a second run writes the same files', async () => {
    await precompress(dir);
    const first = readdirSync(dir, { recursive: true }).sort();
    const again = await precompress(dir);
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual(first);
    expect(again.map((r) => r.file).sort()).toEqual([join('assets', 'index-AbC123_-.js'), join('assets', 'noise-XyZ98765.bin'), 'index.html']);
  });
});
