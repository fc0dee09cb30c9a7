import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DIST = join(__dirname, '..', '..');

/**
 * The environment a server under test inherits: the bench's own, without the settings that choose a view
 * store (REDIS_URL set for the Redis scenario must not turn the in-memory references into Redis ones, nor
 * make them write under the default key prefix); a scenario passes them explicitly.
 */
function inherited(): NodeJS.ProcessEnv {
  const { REDIS_URL: _url, REDIS_KEY_PREFIX: _prefix, ...env } = process.env;
  return env;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Server {
  baseUrl: string;
  port: number;
  pid: number;
  dataDir?: string;
  token?: string;
  stop(): Promise<void>;
  /** Whether the process still runs, and the tail of what it printed (for error messages). */
  alive?(): boolean;
  output?(): string;
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready after 60 s: ${output()}`);
}

function stopper(child: ChildProcess, cleanup?: () => void) {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    cleanup?.();
  };
}

/** The standalone app on a fresh DATA_DIR (or a given one), as its own process. */
export async function startApp(env: Record<string, string> = {}, dataDir?: string): Promise<Server> {
  const port = await freePort();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'bench-app-'));
  const token = 'bench-operator-token';
  let out = '';
  const child = spawn(process.execPath, [join(DIST, 'apps/standalone/src/main.js')], {
    env: { ...inherited(), PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, ADMIN_TOKEN: token, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const cleanup = dataDir ? undefined : () => rmSync(dir, { recursive: true, force: true });
  try {
    await waitReady(`${baseUrl}/ready`, child, () => out);
  } catch (e) {
    await stopper(child, cleanup)();
    throw e;
  }
  return {
    baseUrl,
    port,
    pid: child.pid!,
    dataDir: dir,
    token,
    stop: stopper(child, cleanup),
  };
}

/**
 * One split role (tracker, ingestor, projector, api) on a shared DATA_DIR with the production env given.
 * `onLine` receives each line the role writes to stdout (its JSON log lines), e.g. to time what it logs.
 */
export async function startRole(role: string, dataDir: string, env: Record<string, string>, onLine?: (line: string) => void): Promise<Server> {
  const port = await freePort();
  const token = 'bench-operator-token';
  let out = '';
  let partial = '';
  const child = spawn(process.execPath, [join(DIST, `apps/${role}/src/main.js`)], {
    env: { ...inherited(), PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN: token, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => {
    out = (out + d).slice(-4000);
    if (!onLine) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${baseUrl}/ready`, child, () => out);
  } catch (e) {
    await stopper(child)();
    throw new Error(`${role}: ${(e as Error).message}`);
  }
  return { baseUrl, port, pid: child.pid!, dataDir, token, stop: stopper(child), alive: () => child.exitCode === null && child.signalCode === null, output: () => out };
}

export async function startReference(): Promise<Server> {
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, [join(DIST, 'bench/reference-server.js'), String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d) => (out += d));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitReady(`${baseUrl}/ready`, child, () => out);
  return { baseUrl, port, pid: child.pid!, stop: stopper(child) };
}

/** Runs a node script of the bench as a child and returns what it printed as JSON on its last line. */
export async function runJson<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const child = spawn(process.execPath, [join(DIST, 'bench', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${err.slice(-2000)}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${out.slice(-2000)}`));
      }
    });
  });
}

export function readToken(dataDir: string): string {
  return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
}
