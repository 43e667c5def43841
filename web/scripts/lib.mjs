import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export function paths() {
  const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return { web, root: resolve(web, '..') };
}

/** Installs the web app's dependencies from its lock file when they are missing (a fresh clone). */
export function ensureWebDeps() {
  const { web } = paths();
  if (!existsSync(join(web, 'node_modules'))) {
    console.log('> web/node_modules is missing: npm ci in web/');
    run('npm', ['ci', '--no-audit', '--no-fund'], web);
  }
}

/** Runs a command to completion with inherited output; exits on failure. */
export function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.error) {
    console.error(`${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Starts a long-running child in its own process group, so it can be stopped with everything it started. */
export function spawnChild(command, args, cwd, env) {
  const child = spawn(command, args, { cwd, env, stdio: 'inherit', detached: true });
  child.on('error', (err) => {
    console.error(`${command}: ${err.message}`);
    process.exit(1);
  });
  return child;
}

/** Ctrl-C / SIGTERM on this process stops the children's process groups (go run and its binary, npm and vite). */
export function forwardSignals(children) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      for (const child of children) {
        if (child.exitCode !== null || child.pid === undefined) continue;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      }
    });
  }
}

/**
 * The address the Go server says it listens on, from its "listening" log line (slog's text or
 * JSON format; the line is written once the socket is bound), or null for any other line.
 * @param {string} line
 * @returns {string | null}
 */
export function listeningAddress(line) {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line);
      return record.msg === 'listening' && typeof record.addr === 'string' ? record.addr : null;
    } catch {
      return null;
    }
  }
  return /(?:^|\s)msg=listening addr=(\S+)/.exec(line)?.[1] ?? null;
}

/**
 * Where to open a listening address in a browser, and where to probe it from here: a wildcard
 * host ("[::]:8080", ":8080", "0.0.0.0:8080") is this machine.
 * @param {string} addr
 */
export function serverURLs(addr) {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon);
  const port = addr.slice(colon + 1);
  const wildcard = host === '' || host === '[::]' || host === '0.0.0.0';
  return { open: `http://${wildcard ? 'localhost' : host}:${port}`, probe: `http://${wildcard ? '127.0.0.1' : host}:${port}` };
}

/**
 * Starts the Go server (`go run .`, or a built binary) in its own process group, its log
 * going on to `log`. `listening` resolves with the URL to open once the server has said it
 * listens and answers /healthz there, and rejects if it exits first: so nobody is told to
 * open a page while `go run` is still compiling, or when the port was taken.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, log?: NodeJS.WritableStream }} options
 */
export function startServer(command, args, { cwd, env, log = process.stderr }) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'inherit', 'pipe'], detached: true });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise((_, reject) => {
    child.once('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`the server exited (${signal ?? `status ${code}`}) before it listened`)));
  });
  // Read alongside the pipe, never closed early: closing a readline pauses its stream.
  const announced = new Promise((resolve) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      const addr = listeningAddress(line);
      if (addr) resolve(serverURLs(addr)); // later lines change nothing: it resolves once
    });
  });
  const listening = Promise.race([exited, announced]).then(async (urls) => {
    // Bound and logged means accepting; one /healthz proves the HTTP server answers too.
    for (let attempt = 0; ; attempt++) {
      const ok = await fetch(`${urls.probe}/healthz`).then((res) => res.ok, () => false);
      if (ok) return urls.open;
      if (attempt === 50) throw new Error(`the server said it listens on ${urls.probe} but its /healthz does not answer`);
      await Promise.race([exited, sleep(100)]); // polling interval; a server that exits ends it
    }
  });
  listening.catch(() => undefined); // the caller handles it; never an unhandled rejection here
  return { child, listening };
}
