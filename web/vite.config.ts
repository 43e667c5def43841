/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The nudity classifier's worker (TF.js) and the model's chunks would bring 21 MB of
// source maps of third-party code and base64 weights into web/dist (and the binary that
// embeds it); the app's own chunks keep theirs.
const thirdPartyMap = /^assets\/(classifier\.worker|model\.min|group1-shard\d+of\d+\.min)-[\w-]+\.js\.map$/;
function dropThirdPartySourceMaps(): Plugin {
  return {
    name: 'gomegle:drop-third-party-source-maps',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const [fileName, output] of Object.entries(bundle)) {
        if (thirdPartyMap.test(fileName)) {
          delete bundle[fileName];
          continue;
        }
        const mapName = `${fileName}.map`;
        if (!thirdPartyMap.test(mapName)) continue;
        const strip = (code: string) => code.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
        if (output.type === 'chunk') output.code = strip(output.code);
        else if (typeof output.source === 'string') output.source = strip(output.source);
      }
    },
  };
}

// The Go server listens on 8080; in `npm run dev` Vite proxies the socket and
// the APIs to it (the Go server then needs ALLOWED_ORIGINS=http://localhost:5173).
// /mod itself is the app's page (Vite serves index.html), /mod/api the server's.
const backend = process.env.GOMEGLE_BACKEND ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react(), dropThirdPartySourceMaps()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
      '/api': { target: backend },
      '/mod/api': { target: backend },
    },
  },
  // Module workers: the nudity classifier's worker imports the model (its topology and
  // weights are chunks of their own, from nsfwjs's package) and TF.js's WebAssembly binaries.
  worker: { format: 'es', plugins: () => [dropThirdPartySourceMaps()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    // A whole-page test (StrictMode, user-event) takes 0.3–1 s alone and several on a 2-core
    // machine shared with other test runs: vitest's 5 s default failed them for the load alone.
    testTimeout: 20_000,
  },
});
