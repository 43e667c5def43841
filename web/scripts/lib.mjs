import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
