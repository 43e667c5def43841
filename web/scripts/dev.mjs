// `npm run dev` at the repository root: the Go server on :8080 and Vite's dev
// server on :5173 (hot reload), which proxies /ws and /api to the Go server.
// The proxied upgrade carries Vite's Origin, so the Go server must allow it.
import { ensureWebDeps, forwardSignals, paths, spawnChild } from './lib.mjs';

const { root, web } = paths();
ensureWebDeps();

const origin = 'http://localhost:5173';
const server = spawnChild('go', ['run', '.'], root, {
  ...process.env,
  ALLOWED_ORIGINS: process.env.ALLOWED_ORIGINS ?? `${origin},http://127.0.0.1:5173`,
});
const vite = spawnChild('npm', ['run', 'dev'], web, process.env);
console.log(`> Go server on :8080, Vite on ${origin} (open this one)`);

const children = [server, vite];
forwardSignals(children);
for (const child of children) {
  // When either one stops, stop the other too.
  child.on('exit', (code) => {
    for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
    process.exitCode = code ?? 1;
  });
}
