import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { KafkaSettings, loadKafkaSettings } from '@lib/messaging/kafka.config';
import { ensureTopics } from '@lib/messaging/kafka.topics';
import { ADMIN_TOKEN, freePort } from './app';
import { ROOT } from './build';
import { kafkaSkipped } from './kafka-broker';

/** Helpers for the Kafka integration specs: topics per test, role processes, consumer-group progress. */

export const FAULTS_JS = join(ROOT, 'test', 'support', 'kafka-faults.js');

/** `describe`, or `describe.skip` when SKIP_KAFKA_TESTS asked for it out loud (global setup says so; never under CI). */
export const describeKafka: jest.Describe = kafkaSkipped() ? describe.skip : describe;

export function testBrokers(): string {
  const brokers = process.env.TEST_KAFKA_BROKERS;
  if (!brokers) throw new Error('TEST_KAFKA_BROKERS is not set: run the suites through jest (test/global-setup.ts starts or finds the broker)');
  return brokers;
}

/** A topic prefix (and so a consumer group) no other test or run uses. */
export function uniquePrefix(name: string): string {
  return `it-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
}

/** The environment of a role process for one test's topics. Small session timeout: a killed member leaves in 6 s. */
export function kafkaEnv(prefix: string, brokers = testBrokers(), extra: Record<string, string> = {}): Record<string, string> {
  return { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, KAFKA_SESSION_TIMEOUT_MS: '6000', ...extra };
}

export function settingsFor(prefix: string, brokers = testBrokers()): KafkaSettings {
  return loadKafkaSettings(brokers.split(','), kafkaEnv(prefix, brokers));
}

export function client(brokers = testBrokers()): Kafka {
  return new Kafka({ clientId: 'test', brokers: brokers.split(','), connectionTimeout: 2_000, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

const created: { settings: KafkaSettings; brokers: string }[] = [];

/** What `npm run kafka:topics` does, for this test's prefix. */
export async function createTopics(prefix: string, brokers = testBrokers()): Promise<KafkaSettings> {
  const settings = settingsFor(prefix, brokers);
  created.push({ settings, brokers });
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, settings);
  } finally {
    await admin.disconnect();
  }
  return settings;
}

/** Deletes the topics (and consumer groups) createTopics made so far: the local broker does not fill up run after run. */
export async function deleteCreatedTopics(): Promise<void> {
  for (const { settings, brokers } of created.splice(0)) {
    const admin = client(brokers).admin();
    try {
      await admin.connect();
      await admin.deleteGroups([settings.groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: Object.values(settings.topics) }).catch(() => undefined);
    } catch {
      // the broker is gone (the outage spec stops its own): nothing to clean
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

export interface GroupProgress {
  /** Sum over the tracking partitions of the group's committed offset (records consumed and committed). */
  committed: number;
  /** Sum of the log end offsets (records written). */
  end: number;
}

export async function groupProgress(admin: Admin, settings: KafkaSettings): Promise<GroupProgress> {
  const topics = [settings.topics.clicks, settings.topics.orders];
  const offsets = await admin.fetchOffsets({ groupId: settings.groupId, topics });
  let committed = 0;
  for (const t of offsets) for (const p of t.partitions) committed += Math.max(0, Number(p.offset));
  let end = 0;
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) end += Number(p.high);
  return { committed, end };
}

/**
 * Waits until the consumer group committed everything written to the tracking topics. Offsets are committed
 * only after the append, so from then on the store holds every acknowledged event.
 */
export async function waitForDrain(settings: KafkaSettings, timeoutMs = 60_000, brokers = testBrokers()): Promise<GroupProgress> {
  const admin = client(brokers).admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const progress = await groupProgress(admin, settings);
      if (progress.end > 0 && progress.committed >= progress.end) return progress;
      if (Date.now() > deadline) throw new Error(`the consumer group ${settings.groupId} did not catch up: ${JSON.stringify(progress)}`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

export async function progressNow(settings: KafkaSettings, brokers = testBrokers()): Promise<GroupProgress> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    return await groupProgress(admin, settings);
  } finally {
    await admin.disconnect();
  }
}

export interface DeadLetter {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Every record on the dead-letter topic, read from the beginning until `count` arrived (or the time is up). */
export async function readDeadLetters(settings: KafkaSettings, count: number, timeoutMs = 30_000, brokers = testBrokers()): Promise<DeadLetter[]> {
  const consumer = client(brokers).consumer({ groupId: `${settings.groupId}-dlq-reader-${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 200 });
  const letters: DeadLetter[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: settings.topics.deadLetter, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        letters.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (letters.length < count && Date.now() < deadline) await sleep(100);
    // A moment more: a dead letter beyond the expected count must show up in the assertion too.
    await sleep(500);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

export async function connectedProducer(brokers = testBrokers()): Promise<Producer> {
  const producer = client(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

// ------------------------------------------------------------------------------------------------ role processes

export type Role = 'tracker' | 'ingestor' | 'standalone';

export interface RoleProcess {
  role: Role;
  port: number;
  baseUrl: string;
  pid: number;
  output(): string;
  /** Resolves when the output contains the text (e.g. a fault marker), with the output so far. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  kill9(): Promise<void>;
  /** SIGTERM and wait; resolves with the exit code and signal. */
  terminate(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** GET /metrics parsed into `name{labels}` → value. */
  metrics(): Promise<Map<string, number>>;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function mainJs(role: Role): string {
  return join(ROOT, 'dist', 'apps', role, 'src', 'main.js');
}

/** Spawns a built role on a free port with the given DATA_DIR and env, and waits for GET /ready → 200. */
export async function startRole(role: Role, dataDir: string, env: Record<string, string>, options: { waitReady?: boolean } = {}): Promise<RoleProcess> {
  if (!existsSync(mainJs(role))) throw new Error(`${mainJs(role)} is missing: build first (ensureBuilt())`);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'EVENTSTORE_CONNECTION_STRING', 'REDIS_URL', 'NODE_OPTIONS']) delete childEnv[name];
  Object.assign(childEnv, { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN, LOG_LEVEL: 'info', ...env });
  const child = spawn(process.execPath, [mainJs(role)], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const waiters: (() => void)[] = [];
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 512 * 1024) output = output.slice(-512 * 1024);
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      append(Buffer.from(`\n[${role} exited: code ${code}, signal ${signal}]\n`));
      resolve({ code, signal });
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = null;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as any, text };
  };

  const proc: RoleProcess = {
    role,
    port,
    baseUrl,
    pid: child.pid!,
    output: () => output,
    exited,
    running,
    waitForOutput: (text, timeoutMs = 60_000) =>
      new Promise<string>((resolve, reject) => {
        const matches = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
        if (matches()) return resolve(output);
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`${role} did not print ${text} within ${timeoutMs} ms:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const check = () => {
          if (!matches()) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(output);
        };
        waiters.push(check);
      }),
    kill9: async () => {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    terminate: async (timeoutMs = 30_000) => {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    metrics: async () => parseMetrics((await request('GET', '/metrics')).text),
    request,
  };

  if (options.waitReady !== false) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!running()) throw new Error(`${role} exited before it was ready:\n${output}`);
      try {
        if ((await request('GET', '/ready')).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await proc.kill9();
        throw new Error(`${role} was not ready within 60 s:\n${output}`);
      }
      await sleep(100);
    }
  }
  return proc;
}

export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Sum of a metric over all its label sets. */
export function metricSum(metrics: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [k, v] of metrics) if (k === name || k.startsWith(`${name}{`)) sum += v;
  return sum;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ------------------------------------------------------------------------------------------------ scenario setup

export interface TrackingSetup {
  dataDir: string;
  programId: string;
  storefrontId: string;
  storefrontKey: string;
  codes: string[];
  /** Removes DATA_DIR. */
  cleanup(): void;
}

/**
 * A program with a storefront and affiliates, written to a fresh DATA_DIR by the embedded standalone app,
 * which is then stopped: the Kafka role processes of a test share that event store (SQLite, WAL).
 */
export async function setupTracking(affiliates = 3): Promise<TrackingSetup> {
  const { startApp } = await import('./app');
  const { programWithStorefront, enroll } = await import('./fixtures');
  const app = await startApp();
  try {
    const { program, storefront, key } = await programWithStorefront(app);
    const codes: string[] = [];
    for (let i = 0; i < affiliates; i++) codes.push((await enroll(app, program.id)).code);
    return { dataDir: app.dataDir, programId: program.id, storefrontId: storefront.id, storefrontKey: key, codes, cleanup: () => app.cleanup() };
  } finally {
    await app.stop();
  }
}

/** Clicks for /v1/batch: distinct visitors, spread over the codes (so over partitions). */
export function clickItems(codes: string[], count: number, offset = 0): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    return { type: 'click', code: codes[n % codes.length], ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' };
  });
}

/** POST /v1/batch; returns the ids the tracker accepted (202), or throws with the answer. */
export async function sendBatch(tracker: RoleProcess, key: string, items: Record<string, unknown>[]): Promise<string[]> {
  const res = await tracker.request('POST', '/v1/batch', { events: items }, { 'x-api-key': key });
  if (res.status !== 202) throw new Error(`POST /v1/batch answered ${res.status} ${res.text}`);
  const rejected = res.body.results.filter((r: any) => r.status !== 'accepted');
  if (rejected.length > 0) throw new Error(`items were rejected: ${JSON.stringify(rejected.slice(0, 3))}`);
  return res.body.results.map((r: any) => r.id);
}

/**
 * Sends click batches in a loop (one request in flight per lane) until stop() is called; remembers every id
 * that was acknowledged with 202 and counts the other answers.
 */
export function clickLoad(tracker: RoleProcess, setup: TrackingSetup, options: { lanes?: number; batch?: number } = {}) {
  const lanes = options.lanes ?? 2;
  const size = options.batch ?? 25;
  const acked: string[] = [];
  const failures: string[] = [];
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (!stopped) {
      const items = clickItems(setup.codes, size, next);
      next += size;
      try {
        acked.push(...(await sendBatch(tracker, setup.storefrontKey, items)));
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const running = Promise.all(Array.from({ length: lanes }, lane));
  return {
    acked,
    failures,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

// ------------------------------------------------------------------------------------------------ e2e in Kafka mode

let drainWorker: import('node:worker_threads').Worker | null = null;

/** Blocks until the group committed everything on its topics (the e2e store readers are synchronous). */
export function waitUntilIngestedSync(settings: KafkaSettings, brokers = testBrokers(), timeoutMs = 30_000): void {
  if (!drainWorker) {
    const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    drainWorker = new Worker(join(ROOT, 'test', 'support', 'kafka-drain.worker.js'));
    drainWorker.unref();
  }
  const flag = new SharedArrayBuffer(4);
  drainWorker.postMessage({ brokers, groupId: settings.groupId, topics: [settings.topics.clicks, settings.topics.orders], timeoutMs, flag });
  Atomics.wait(new Int32Array(flag), 0, 0, timeoutMs + 10_000);
  const result = Atomics.load(new Int32Array(flag), 0);
  if (result !== 1) throw new Error(`the app's consumer group ${settings.groupId} did not ingest everything within ${timeoutMs} ms (${result === 3 ? 'the broker did not answer' : 'timed out'})`);
}

export async function stopDrainWorker(): Promise<void> {
  await drainWorker?.terminate();
  drainWorker = null;
}

/** For useExternalTransport (test/support/app.ts): each app gets the test broker and topics of its own. */
export function kafkaForApps(brokers = testBrokers()): import('./app').ExternalTransport & { prefixes: string[] } {
  const prefixes: string[] = [];
  return {
    prefixes,
    prepare: async () => {
      const prefix = uniquePrefix('e2e');
      prefixes.push(prefix);
      const settings = await createTopics(prefix, brokers);
      return { env: kafkaEnv(prefix, brokers), waitUntilIngested: () => waitUntilIngestedSync(settings, brokers) };
    },
  };
}
