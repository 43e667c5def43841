// Brotli and gzip copies of every file of the build, written once by `vite build` so that the
// server sends them as they are (Content-Encoding) instead of compressing per request. They
// are made from the files on disk after everything is written, so they cover whatever the
// build puts there: the app's chunks, the workers, the nudity model's weights (chunks of the
// classifier worker's build), TF.js's WebAssembly binaries, source maps, index.html and the
// files copied from public/.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Logger, Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** A content coding and the suffix of its copies (the Go server's ui.go looks for the same). */
export interface Coding {
  suffix: string;
  encode: (data: Buffer) => Promise<Buffer>;
}

// Both at their best compression: it is paid once per build, and the model's 3.5 MB shard is
// the slowest at about 8 s of brotli on one core (they run in parallel on libuv's pool).
export const codings: Coding[] = [
  {
    suffix: '.br',
    encode: (data) =>
      brotli(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        },
      }),
  },
  { suffix: '.gz', encode: (data) => gzipped(data, { level: constants.Z_BEST_COMPRESSION }) },
];

const isCopy = (name: string) => codings.some((coding) => name.endsWith(coding.suffix));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

export interface Precompressed {
  /** Path relative to the directory. */
  file: string;
  size: number;
  /** Suffix → size of the copy written; a coding that would not make the file smaller is left out. */
  copies: Record<string, number>;
}

/**
 * Writes <file>.br and <file>.gz beside every file under dir (never a copy of a copy), each
 * only where it is smaller than the file: the server sends the original when there is none.
 */
export async function precompress(dir: string): Promise<Precompressed[]> {
  const files = (await filesUnder(dir)).filter((file) => !isCopy(file));
  return Promise.all(
    files.map(async (file) => {
      const data = await readFile(file);
      const copies: Record<string, number> = {};
      await Promise.all(
        codings.map(async ({ suffix, encode }) => {
          const copy = await encode(data);
          if (copy.length >= data.length) {
            await rm(file + suffix, { force: true }); // a copy left from an earlier build would be stale
            return;
          }
          await writeFile(file + suffix, copy);
          copies[suffix] = copy.length;
        }),
      );
      return { file: relative(dir, file), size: data.length, copies };
    }),
  );
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

/** The Vite plugin: precompress(outDir) once the build is written. */
export function precompressBuild(): Plugin {
  let outDir = '';
  let logger: Logger | undefined;
  return {
    name: 'gomegle:precompress',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      logger = config.logger;
    },
    async closeBundle() {
      const began = Date.now();
      const results = await precompress(outDir);
      const total = (suffix?: string) =>
        results.reduce((sum, result) => sum + (suffix ? (result.copies[suffix] ?? result.size) : result.size), 0);
      const sizes = codings.map(({ suffix }) => `${suffix} ${kB(total(suffix))}`).join(', ');
      logger?.info(`precompressed ${results.length} files of ${kB(total())}: ${sizes} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    },
  };
}
