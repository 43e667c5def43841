// `npm start` at the repository root: install the web dependencies when they
// are missing, build the UI into web/dist, then run the Go server (embedded
// Redis) on http://localhost:8080, which serves that build.
import { ensureWebDeps, forwardSignals, paths, run, spawnChild } from './lib.mjs';

const { root, web } = paths();
ensureWebDeps();
run('npm', ['run', 'build'], web);

const addr = process.env.ADDR || ':8080';
const url = `http://${addr.startsWith(':') ? `localhost${addr}` : addr}`;
console.log(`> go run . — when it is listening, open ${url} in two tabs`);
const server = spawnChild('go', ['run', '.'], root, process.env);
forwardSignals([server]);
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
