import Database from 'better-sqlite3';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN_JS, ROOT } from './build';

export const ADMIN_TOKEN = 'test-admin-token-123';

const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
const OUTPUT_LIMIT = 64 * 1024;

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else null. */
  body: T;
  text: string;
}

export interface StartOptions {
  /** PUBLIC_BASE_URL; unset: the app's default (http://localhost:<PORT>). */
  publicBaseUrl?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface RunningApp {
  baseUrl: string;
  port: number;
  dataDir: string;
  token: string;
  /** SIGTERM, then wait for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), then wait for the process to exit. */
  kill9(): Promise<void>;
  /** Starts the app again on the same DATA_DIR and port and waits until it is ready. */
  restart(): Promise<void>;
  /** What the app printed so far (stdout and stderr, the last 64 KiB). */
  output(): string;
  /** True while the process runs. */
  running(): boolean;
  /** Any request; no auth header unless given. Redirects are never followed. */
  request<T = any>(method: string, path: string, init?: { body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<HttpResult<T>>;
  /** Operator API call with the Bearer token. */
  op<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  /** Storefront API call with X-Api-Key. */
  sf<T = any>(apiKey: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  /** Removes DATA_DIR (after stop). */
  cleanup(): void;
}

/**
 * An event store outside DATA_DIR (test/esdb-*.e2e-spec.ts: the EventStoreDB protocol test double in the
 * jest process). While one is set, every app started gets its env, and the store readers below read its
 * events instead of the SQLite file. Unset (the default), nothing changes.
 */
export interface ExternalEventStore {
  env: Record<string, string>;
  /** Every event the app appended, in position order. */
  events(): StoredEvent[];
}

let external: ExternalEventStore | null = null;

export function useExternalEventStore(store: ExternalEventStore | null): void {
  external = store;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A port nobody listens on right now: the OS picks it for a listener on port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A transport that acknowledges before the event is in the store (test/kafka-operator-flow.e2e-spec.ts: Kafka).
 * While one is set, every app started gets its env (its brokers and topics of its own), and the store readers
 * below first wait until everything the app acknowledged has been ingested. Unset (the default), nothing changes.
 */
export interface ExternalTransport {
  prepare(): Promise<{ env: Record<string, string>; waitUntilIngested: () => void }>;
}

let externalTransport: ExternalTransport | null = null;
const waitUntilIngested = new Map<string, () => void>();

export function useExternalTransport(transport: ExternalTransport | null): void {
  externalTransport = transport;
}

/** Spawns the built standalone app on a free port with a fresh DATA_DIR and waits for GET /ready → 200. */
export async function startApp(options: StartOptions = {}): Promise<RunningApp> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: call ensureBuilt() first`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'affiliate-e2e-'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The embedded adapters only: a developer's shell must not point the test app at real servers.
  for (const name of ['KAFKA_BROKERS', 'EVENTSTORE_CONNECTION_STRING', 'REDIS_URL', 'TRACKING_SECRET', 'PUBLIC_BASE_URL', 'TRUST_PROXY', 'HOST']) delete env[name];
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...(options.publicBaseUrl ? { PUBLIC_BASE_URL: options.publicBaseUrl } : {}),
    ...(external?.env ?? {}),
    ...(options.env ?? {}),
  });
  if (externalTransport) {
    const transport = await externalTransport.prepare();
    Object.assign(env, transport.env);
    waitUntilIngested.set(dataDir, transport.waitUntilIngested);
  }

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A crashed test run must not leave apps behind.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }

  const spawnApp = async () => {
    const c = spawn(process.execPath, [MAIN_JS], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    live.add(c);
    c.stdout!.on('data', append);
    c.stderr!.on('data', append);
    let hasExited = false;
    exited = new Promise<void>((resolve) => {
      c.once('exit', (code, signal) => {
        hasExited = true;
        live.delete(c);
        append(Buffer.from(`\n[app exited: code ${code}, signal ${signal}]\n`));
        resolve();
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (hasExited) throw new Error(`the app exited before it was ready:\n${output}`);
      try {
        const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        await exited;
        throw new Error(`the app was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`);
      }
      await sleep(50);
    }
  };

  const signal = async (sig: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(sig);
    const timer = setTimeout(() => c.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const request = async <T>(method: string, path: string, init: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<HttpResult<T>> => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: string | undefined;
    if (init.rawBody !== undefined) body = init.rawBody;
    else if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    let parsed: unknown = null;
    if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };

  await spawnApp();

  return {
    baseUrl,
    port,
    dataDir,
    token: ADMIN_TOKEN,
    stop: () => signal('SIGTERM'),
    kill9: () => signal('SIGKILL'),
    restart: async () => {
      await signal('SIGTERM');
      await spawnApp();
    },
    output: () => output,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    request,
    op: (method, path, body, headers = {}) => request(method, path, { body, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } }),
    sf: (apiKey, method, path, body, headers = {}) => request(method, path, { body, headers: { 'x-api-key': apiKey, ...headers } }),
    cleanup: () => {
      if (process.env.KEEP_E2E_DATA) return;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The event store, read straight from the SQLite file (read-only): the store is a public surface.

export interface StoredEvent<D = any> {
  position: number;
  eventId: string;
  streamId: string;
  revision: number;
  type: string;
  data: D;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

/** The external event store's events, once everything the app acknowledged has been ingested. */
function externalEvents(dataDir: string): StoredEvent[] {
  waitUntilIngested.get(dataDir)?.();
  return external!.events();
}

function withStore<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  waitUntilIngested.get(dataDir)?.();
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Number of events in the store (optionally of one type). */
export function countEvents(dataDir: string, type?: string): number {
  if (external) return externalEvents(dataDir).filter((e) => type === undefined || e.type === type).length;
  return withStore(dataDir, (db) =>
    type === undefined
      ? (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
      : (db.prepare('SELECT COUNT(*) AS n FROM events WHERE type = ?').get(type) as { n: number }).n,
  );
}

/** Events in position order, optionally filtered by type(s), stream id or program id (data.programId). */
export function readEvents<D = any>(dataDir: string, filter: { type?: string | string[]; streamId?: string; programId?: string } = {}): StoredEvent<D>[] {
  if (external) {
    const types = filter.type === undefined ? null : Array.isArray(filter.type) ? filter.type : [filter.type];
    return externalEvents(dataDir).filter((e) => (types === null || types.includes(e.type)) && (filter.streamId === undefined || e.streamId === filter.streamId) && (filter.programId === undefined || e.data?.programId === filter.programId));
  }
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.type !== undefined) {
    const types = Array.isArray(filter.type) ? filter.type : [filter.type];
    where.push(`type IN (${types.map(() => '?').join(', ')})`);
    params.push(...types);
  }
  if (filter.streamId !== undefined) {
    where.push('stream_id = ?');
    params.push(filter.streamId);
  }
  if (filter.programId !== undefined) {
    where.push("json_extract(data, '$.programId') = ?");
    params.push(filter.programId);
  }
  const sql = `SELECT * FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY position`;
  return withStore(dataDir, (db) =>
    (db.prepare(sql).all(...params) as Record<string, any>[]).map((r) => ({
      position: r.position,
      eventId: r.event_id,
      streamId: r.stream_id,
      revision: r.revision,
      type: r.type,
      data: JSON.parse(r.data),
      metadata: JSON.parse(r.metadata),
      recordedAt: r.recorded_at,
    })),
  );
}

/** Highest global position in the store (0 when empty). */
export function headPosition(dataDir: string): number {
  if (external) return externalEvents(dataDir).reduce((head, e) => Math.max(head, e.position), 0);
  return withStore(dataDir, (db) => (db.prepare('SELECT MAX(position) AS p FROM events').get() as { p: number | null }).p ?? 0);
}

/** Whether any event in the store contains the text (e.g. a secret that must never be stored). */
export function storeContains(dataDir: string, text: string): boolean {
  if (external) return externalEvents(dataDir).some((e) => JSON.stringify(e.data).includes(text) || JSON.stringify(e.metadata).includes(text));
  return withStore(dataDir, (db) => (db.prepare("SELECT COUNT(*) AS n FROM events WHERE instr(data, ?) > 0 OR instr(metadata, ?) > 0").get(text, text) as { n: number }).n > 0);
}

/**
 * Views are projected from the store asynchronously: wait (bounded) until the program's dashboard
 * reports a view position that covers everything in the store now, so reads see every acknowledged event.
 */
export async function settle(app: RunningApp, programId: string, timeoutMs = 10_000): Promise<void> {
  const head = headPosition(app.dataDir);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.op('GET', `/api/programs/${programId}/dashboard`);
    if (res.status === 200 && res.body.freshness && res.body.freshness.position >= head) return;
    if (Date.now() > deadline) throw new Error(`the views did not reach position ${head}: last answer ${res.status} ${res.text}`);
    await sleep(20);
  }
}
