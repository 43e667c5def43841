// `npm start` at the repository root: install the web dependencies when they
// are missing, build the UI into web/dist, then run the Go server (embedded
// Redis) on http://localhost:8080, which serves that build. "open …" is said only
// once the server listens.
import { ensureWebDeps, forwardSignals, paths, run, serverURLs, startServer } from './lib.mjs';

const { root, web } = paths();
ensureWebDeps();
run('npm', ['run', 'build'], web);

console.log('> go run . (compiles, then listens)');
if (/^(warn|error)$/i.test(process.env.LOG_LEVEL ?? '')) {
  const { open } = serverURLs(process.env.ADDR || ':8080');
  console.log(`> LOG_LEVEL=${process.env.LOG_LEVEL} hides the server's "listening" line: open ${open} once it is up`);
}
const server = startServer('go', ['run', '.'], { cwd: root, env: process.env });
forwardSignals([server.child]);
// 'close', not 'exit': the server's log comes through a pipe, which its binary (the child of
// `go run`) may still be writing to while it drains after `go run` itself has gone.
server.child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
server.listening.then(
  (url) => console.log(`> open ${url} in two tabs`),
  (err) => console.error(`> ${err.message}`),
);
