import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { namespaceOf, projectionIdOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { RedisViewStore } from '@lib/views/redis.view-store';
import { SqliteEventStore } from '@lib/event-store/sqlite.event-store';
import { ALL_PROJECTIONS } from '@lib/roles/projector.module';
import { ADMIN_TOKEN, freePort } from './app';
import { ROOT } from './build';

/**
 * One role of the built app (apps/<role>) as a child process, for the Redis suites that run a projector
 * and an api apart, kill them and start them again.
 */
export interface RoleProcess {
  role: string;
  port: number;
  baseUrl: string;
  pid: number;
  output(): string;
  running(): boolean;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  request<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startRole(role: 'projector' | 'api' | 'standalone', env: Record<string, string>): Promise<RoleProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'EVENTSTORE_CONNECTION_STRING', 'REDIS_URL', 'PUBLIC_BASE_URL', 'TRUST_PROXY', 'HOST']) delete childEnv[name];
  Object.assign(childEnv, { PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'warn', ...env });
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', role, 'src', 'main.js')], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const append = (b: Buffer) => {
    output = (output + b.toString()).slice(-64 * 1024);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      append(Buffer.from(`\n[${role} exited: code ${code}, signal ${signal}]\n`));
      resolve();
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : null, text };
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!running()) throw new Error(`${role} exited before it listened:\n${output}`);
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${role} did not listen within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    role,
    port,
    baseUrl,
    pid: child.pid!,
    output: () => output,
    running,
    request,
    kill9: async () => {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Writes a workload through the real append path (the lead's seeding command) into DATA_DIR; resolves with its summary. */
export function seed(dataDir: string, affiliates: number, events: number): Promise<{ programId: string; affiliates: number; events: number }> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(ROOT, 'dist', 'bench', 'seed.js'), '--data-dir', dataDir, '--affiliates', String(affiliates), '--events', String(events)],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, LOG_LEVEL: 'warn' } },
      (error, stdout, stderr) => (error ? reject(new Error(`seeding failed: ${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!))),
    ),
  );
}

/** Content hashes of every projection after a clean replay of the whole log into fresh in-memory views. */
export async function cleanReplayHashes(dataDir: string): Promise<{ head: number; hashes: Record<string, string> }> {
  const store = new SqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const views = new InMemoryViewStore();
  try {
    let after = 0;
    for (;;) {
      const batch = await store.readAll({ after, maxCount: 5000 });
      if (batch.length === 0) break;
      for (const p of ALL_PROJECTIONS) await applyBatch(p, batch, views);
      after = batch[batch.length - 1].position;
    }
    const hashes: Record<string, string> = {};
    for (const p of ALL_PROJECTIONS) hashes[p.name] = await views.contentHash(namespaceOf(p));
    return { head: after, hashes };
  } finally {
    await store.close();
  }
}

/** The views in Redis under a prefix, seen from the test: where each projection stands, and its content hash. */
export class RedisViews {
  readonly store: RedisViewStore;

  constructor(url: string, readonly prefix: string) {
    this.store = new RedisViewStore({ url, keyPrefix: prefix, commandTimeoutMs: 5000 });
  }

  async open(): Promise<this> {
    await this.store.connect();
    return this;
  }

  /** Per projection: the active namespace (or the first build under way) and its checkpoint. */
  async positions(): Promise<{ name: string; active: string | null; building: string | null; checkpoint: number }[]> {
    return Promise.all(
      ALL_PROJECTIONS.map(async (p) => {
        const reg = await this.store.registry(projectionIdOf(p));
        const ns = reg.active ?? reg.building;
        return { name: p.name, active: reg.active, building: reg.building, checkpoint: ns ? await this.store.checkpoint(ns) : 0 };
      }),
    );
  }

  /** The lowest checkpoint over the projections (0 before anything was written). */
  async progress(): Promise<number> {
    return Math.min(...(await this.positions()).map((p) => p.checkpoint));
  }

  /** Resolves once every projection has an active namespace covering `head`. */
  async waitUntilCovered(head: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const positions = await this.positions();
      if (positions.every((p) => p.active !== null && p.checkpoint >= head)) return;
      if (Date.now() > deadline) throw new Error(`the views did not reach ${head}: ${JSON.stringify(positions)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async hashes(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const p of ALL_PROJECTIONS) {
      const { active } = await this.store.registry(projectionIdOf(p));
      out[p.name] = active ? await this.store.contentHash(active) : 'not built';
    }
    return out;
  }

  async leaseHolders(): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const p of ALL_PROJECTIONS) out[p.name] = await this.store.leaseHolder(`{${projectionIdOf(p)}}`);
    return out;
  }

  async close(deleteKeys = true): Promise<void> {
    if (deleteKeys) await this.store.deleteAllWithPrefix();
    await this.store.close();
  }
}

/** Reads one labelled value of a Prometheus text exposition (0 when absent). */
export function metric(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (want.every((w) => line.includes(w))) return Number(line.split(' ').pop());
  }
  return 0;
}
