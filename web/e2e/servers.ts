// Starting and stopping the real processes a test talks to: the Go server
// (built once by global-setup), redis-server for the multi-instance tests, and
// for the operations tests Debian's nginx (with deploy/nginx.conf) and coturn.
// Everything binds to 127.0.0.1 on a free port and is killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distDir, nginxPath, redisServer, repoRoot, serverLogsDir, turnServerPath } from './env';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Process {
  name: string;
  child: ChildProcess;
  logFile: string;
  stop: () => Promise<void>;
}

function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Process {
  mkdirSync(serverLogsDir, { recursive: true });
  const logFile = join(serverLogsDir, `${name}.log`);
  // stdout and stderr are the log file itself, not pipes to this process: nginx
  // opens its error_log /dev/stderr by name, which fails (ENXIO) on the socket
  // Node would give it, and the log is complete even if this process dies.
  const log = openSync(logFile, 'w');
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { name, child, logFile, stop };
}

/** Resolves once check() is true; rejects if the process dies first or time runs out. */
async function until(proc: Process, what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before ${what}; see ${proc.logFile}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${proc.name}: no ${what} within ${timeoutMs} ms; see ${proc.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // polling interval, not a wait for an outcome
  }
}

export interface GoServer extends Process {
  url: string;
}

export interface GoServerOptions {
  name: string;
  redisURL?: string;
  instanceID?: string;
  /** Listen on this port (to restart an instance where its clients will look for it). */
  port?: number;
  env?: Record<string, string>;
}

export async function startGoServer(options: GoServerOptions): Promise<GoServer> {
  const binary = process.env.GOMEGLE_E2E_BINARY;
  if (!binary) throw new Error('GOMEGLE_E2E_BINARY is not set: global-setup did not build the server');
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const proc = launch(options.name, binary, [], {
    ...process.env,
    ADDR: `127.0.0.1:${port}`,
    WEB_DIR: distDir,
    REDIS_URL: options.redisURL ?? '',
    ...(options.instanceID ? { INSTANCE_ID: options.instanceID } : {}),
    ...options.env,
  });
  await stopOnFailure(proc, until(proc, 'ready /readyz', async () => (await fetch(`${url}/readyz`)).ok));
  return { ...proc, url };
}

export interface RedisServer extends Process {
  url: string;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1_000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      resolve(false);
      socket.destroy();
    });
  });
}

/** A throwaway redis-server: loopback only, nothing written to disk. */
export async function startRedis(name = 'redis'): Promise<RedisServer> {
  const port = await freePort();
  const proc = launch(name, redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env);
  await stopOnFailure(proc, until(proc, 'PONG', () => ping(port), 15_000));
  return { ...proc, url: `redis://127.0.0.1:${port}/0` };
}

/** A process whose scratch directory is removed once it has stopped. */
function withScratchDir<P extends Process>(proc: P, dir: string): P {
  const stop = proc.stop;
  return { ...proc, stop: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Stops proc if the readiness wait fails, so a test never leaks a half-started process. */
async function stopOnFailure<T>(proc: Process, ready: Promise<T>): Promise<T> {
  try {
    return await ready;
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

// ---- nginx in front of several instances (deploy/nginx.conf) -----------------

export const nginxConfPath = join(repoRoot, 'deploy', 'nginx.conf');

/** Replaces exactly one occurrence of pattern; anything else means the config changed shape. */
function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const found = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
  if (found?.length !== 1) {
    throw new Error(
      `${nginxConfPath}: expected exactly one ${what} matching ${pattern}, found ${found?.length ?? 0}; ` +
        'the config changed shape: update startNginx in web/e2e/servers.ts',
    );
  }
  return text.replace(pattern, replacement);
}

/**
 * The repository's nginx.conf adapted only in its upstream servers and listen
 * address: `server app:8080 …;` becomes one line per upstream (same
 * parameters), `listen 8080;` becomes `listen <listen>;` and the IPv6
 * `listen [::]:8080;` goes (the tests listen on IPv4 loopback only).
 */
export function adaptNginxConf(conf: string, upstreams: string[], listen: string): string {
  if (upstreams.length === 0) throw new Error('adaptNginxConf: no upstreams');
  let out = replaceOnce(
    conf,
    /^([ \t]*)server app:8080 (max_fails=1 fail_timeout=10s);[ \t]*$/m,
    upstreams.map((address) => `$1server ${address} $2;`).join('\n'),
    'upstream line "server app:8080 max_fails=1 fail_timeout=10s;"',
  );
  out = replaceOnce(out, /^([ \t]*)listen 8080;[ \t]*$/m, `$1listen ${listen};`, 'line "listen 8080;"');
  out = replaceOnce(out, /^([ \t]*)listen \[::\]:8080;.*$/m, '', 'line "listen [::]:8080;"');
  return out;
}

export interface Nginx extends Process {
  url: string;
  /** The adapted config nginx runs. */
  confFile: string;
  upstreams: string[];
  /**
   * The upstream block has a shared memory zone: every worker sees the same
   * connection counts, so least_conn balances across workers, not per worker.
   */
  sharedUpstreamZone: boolean;
}

/** Debian's nginx in the foreground with deploy/nginx.conf in front of upstreams (host:port). */
export async function startNginx(name: string, upstreams: string[]): Promise<Nginx> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gomegle-nginx-'));
  const confFile = join(dir, 'nginx.conf');
  const conf = adaptNginxConf(readFileSync(nginxConfPath, 'utf8'), upstreams, `127.0.0.1:${port}`);
  writeFileSync(confFile, conf);
  const sharedUpstreamZone = /^\s*zone\s+\S+/m.test(/\bupstream\s+\S+\s*\{([^}]*)\}/.exec(conf)?.[1] ?? '');
  // -e: the log nginx writes before it has read the config (the default under
  // /var/log needs root). The config itself logs errors to stderr.
  const proc = withScratchDir(launch(name, nginxPath, ['-e', 'stderr', '-c', confFile, '-p', `${dir}/`, '-g', 'daemon off;'], process.env), dir);
  const url = `http://127.0.0.1:${port}`;
  // Ready when a request is proxied to an instance, not just when nginx listens
  // (the app's page: /readyz is not served through the balancer).
  const proxiedPage = async () => {
    const response = await fetch(`${url}/`);
    await response.arrayBuffer(); // read to the end, so the connection is done with
    return response.ok;
  };
  await stopOnFailure(proc, until(proc, 'proxied /', proxiedPage, 15_000));
  return { ...proc, url, confFile, upstreams, sharedUpstreamZone };
}

// ---- coturn ------------------------------------------------------------------

/** base..base+count-1 all free for UDP on 127.0.0.1 (below the kernel's ephemeral range). */
async function freeUdpPortRange(count: number): Promise<number> {
  const udpFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - count));
    let free = true;
    for (let port = base; free && port < base + count; port++) free = await udpFree(port);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free UDP ports found`);
}

/** True when a STUN Binding request to 127.0.0.1:port gets its success response. */
function stunBinding(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const transaction = randomBytes(12);
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    transaction.copy(request, 8);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.on('message', (reply) => done(reply.length >= 20 && reply.readUInt16BE(0) === 0x0101 && reply.subarray(8, 20).equals(transaction)));
    socket.on('error', () => done(false));
    socket.send(request, port, '127.0.0.1');
  });
}

export interface TurnServer extends Process {
  /** For TURN_URLS. */
  url: string;
  /** coturn's static-auth-secret, for TURN_SECRET. */
  secret: string;
  realm: string;
  /** The UDP ports of its relay addresses (on 127.0.0.1, as every page's own address here). */
  relayPorts: { min: number; max: number };
}

/** Debian's coturn on loopback with the TURN REST API scheme (use-auth-secret) and a fresh secret. */
export async function startTurnServer(name: string): Promise<TurnServer> {
  const port = await freePort();
  const relayPorts = 51;
  const minPort = await freeUdpPortRange(relayPorts);
  const secret = randomBytes(24).toString('hex');
  const realm = 'go-megle';
  const dir = mkdtempSync(join(tmpdir(), 'gomegle-turn-'));
  const args = [
    '-n', // no config file: everything is on this line
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${minPort + relayPorts - 1}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    `--realm=${realm}`,
    '--fingerprint',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--allow-loopback-peers', // the peers' relay addresses are on 127.0.0.1
    '--no-multicast-peers',
    '--log-file=stdout',
    '--simple-log',
    // Its own pid file and (empty) user database instead of /var/run and /var/lib/turn.
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--db=${join(dir, 'turndb')}`,
  ];
  const proc = withScratchDir(launch(name, turnServerPath, args, process.env), dir);
  await stopOnFailure(proc, until(proc, 'STUN binding response', () => stunBinding(port), 15_000));
  return { ...proc, url: `turn:127.0.0.1:${port}?transport=udp`, secret, realm, relayPorts: { min: minPort, max: minPort + relayPorts - 1 } };
}
