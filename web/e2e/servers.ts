// Starting and stopping the real processes a test talks to: the Go server
// (built once by global-setup) and, for the multi-instance test, redis-server.
// Everything binds to 127.0.0.1 on a free port and is killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { distDir, redisServer, repoRoot, serverLogsDir } from './env';

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
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
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
  await until(proc, 'ready /readyz', async () => (await fetch(`${url}/readyz`)).ok);
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
  await until(proc, 'PONG', () => ping(port), 15_000);
  return { ...proc, url: `redis://127.0.0.1:${port}/0` };
}
