import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The Redis server the test run uses: TEST_REDIS_URL when given, else redis://127.0.0.1:$TEST_REDIS_PORT (6379). When nothing
 * answers there, the global setup starts a redis-server (nothing kept on disk) and the teardown stops that
 * one again; a server that was already running is left alone. Each suite writes under a key prefix of its
 * own (uniquePrefix) and deletes only that.
 */
const STARTED = Symbol.for('affiliate.tests.redisStartedPidFile');

export const isCI = () => ['1', 'true', 'yes'].includes((process.env.CI ?? '').toLowerCase());

/** SKIP_REDIS_TESTS=1 skips the Redis suites out loud on a developer machine; never under CI. */
export const redisSkipped = () => !isCI() && ['1', 'true', 'yes'].includes((process.env.SKIP_REDIS_TESTS ?? '').toLowerCase());

export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL?.trim() || `redis://127.0.0.1:${process.env.TEST_REDIS_PORT?.trim() || '6379'}`;
}

/** A key prefix no other suite or run uses. */
export function uniquePrefix(suite: string): string {
  return `test:${suite}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** True when a Redis server answers PING at host:port within a second. */
export function redisAnswers(url = testRedisUrl(), timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export async function setupRedis(): Promise<void> {
  if (redisSkipped()) {
    process.stderr.write('\n[redis] SKIP_REDIS_TESTS is set: the Redis suites are SKIPPED in this run (never under CI=true)\n');
    return;
  }
  const url = testRedisUrl();
  if (await redisAnswers(url)) return;
  if (process.env.TEST_REDIS_URL) throw new Error(`TEST_REDIS_URL=${url} does not answer; unset it to let the tests start a local redis-server`);
  const u = new URL(url);
  const pidFile = join(tmpdir(), `affiliate-tests-redis-${u.port || 6379}.pid`);
  process.stderr.write(`\n[redis] nothing answers at ${url}: starting redis-server (nothing kept on disk)\n`);
  await new Promise<void>((resolve, reject) =>
    execFile(
      'redis-server',
      ['--daemonize', 'yes', '--bind', u.hostname, '--port', u.port || '6379', '--save', '', '--appendonly', 'no', '--pidfile', pidFile],
      (error) => (error ? reject(new Error(`redis-server could not be started (is it installed?): ${error.message}`)) : resolve()),
    ),
  );
  for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisAnswers(url))) throw new Error(`redis-server was started but does not answer at ${url}`);
  (globalThis as Record<symbol, unknown>)[STARTED] = pidFile;
}

export async function teardownRedis(): Promise<void> {
  const pidFile = (globalThis as Record<symbol, unknown>)[STARTED] as string | undefined;
  if (!pidFile) return;
  delete (globalThis as Record<symbol, unknown>)[STARTED];
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(pidFile, { force: true });
}

/**
 * A redis-server of a suite's own, as a child process, for tests that stop Redis (SIGSTOP) or kill it:
 * never the shared one.
 */
export interface PrivateRedis {
  url: string;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  const child: ChildProcess = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisAnswers(url))) {
    child.kill('SIGKILL');
    throw new Error(`a private redis-server did not answer on port ${port}`);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
