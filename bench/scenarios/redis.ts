import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { figure, load, LoadRun, percentile } from '../lib/load';
import { DIST, runJson, Server, startApp, startRole } from '../lib/processes';
import { Row } from '../lib/report';
import { label, ScanResult, SeedResult } from './data';
import { freshnessWindow } from './http';
import { Settings } from './settings';

/**
 * 7. Redis mode: figures 3–5 (freshness, replay, dashboard reads) with the views in Redis, each beside the
 * same figure with in-memory views measured in the same run (and replay also beside the raw scan).
 *
 * Redis is the one at REDIS_URL (default redis://127.0.0.1:6379); when nothing answers on a loopback address
 * and redis-server is installed, one is started here (nothing kept on disk) and stopped at the end. Every
 * build writes under a key prefix of its own (bench:<random>:) and exactly those keys are deleted afterwards:
 * other programs (test suites) may use the same server meanwhile, so nothing else is touched.
 */

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FIRST_BUILD = 'first build of a projection caught up and serves reads';
/** Above this a Redis build is not repeated (1M events on 2 cores): it is measured once, and the notes say so. */
const REPEAT_LIMIT_S = 180;

function client(url: string): Redis {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 10_000 });
  c.on('error', () => undefined);
  return c;
}

async function answers(url: string): Promise<boolean> {
  const c = client(url);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

interface RedisServer {
  url: string;
  /** True when this run started it (and stops it at the end). */
  started: boolean;
  stop(): Promise<void>;
}

/** The Redis server to measure with, or why there is none. */
async function redisServer(): Promise<RedisServer | string> {
  const url = process.env.REDIS_URL?.trim() || DEFAULT_URL;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `REDIS_URL is not a URL: "${url}"`;
  }
  if (await answers(url)) return { url, started: false, stop: async () => undefined };
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) || u.username || u.password) return `no Redis server answers at ${url}`;
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) return `no Redis server answers at ${url}, and redis-server is not installed to start one`;
  const port = u.port || '6379';
  const pidFile = join(tmpdir(), `bench-redis-${port}-${process.pid}.pid`);
  process.stderr.write(`bench: nothing answers at ${url}: starting redis-server (nothing kept on disk)\n`);
  const r = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', host, '--port', port, '--save', '', '--appendonly', 'no', '--pidfile', pidFile], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const stop = async () => {
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    rmSync(pidFile, { force: true });
    if (!(pid > 0)) return;
    try {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        process.kill(pid, 0);
        await sleep(50);
      }
    } catch {
      // gone
    }
  };
  if (r.status !== 0) return `no Redis server answers at ${url}, and redis-server could not be started: ${(r.stderr || r.stdout || String(r.error)).trim()}`;
  for (let i = 0; i < 100 && !(await answers(url)); i++) await sleep(50);
  if (!(await answers(url))) {
    await stop();
    return `no Redis server answers at ${url}: one was started but does not answer within 5 s`;
  }
  return { url, started: true, stop };
}

/** Redis's used_memory (INFO memory) in bytes: the whole server's, which other programs may share. */
async function usedMemory(url: string): Promise<number> {
  const c = client(url);
  try {
    await c.connect();
    const m = /^used_memory:(\d+)/m.exec(await c.info('memory'));
    if (!m) throw new Error('INFO memory has no used_memory');
    return Number(m[1]);
  } finally {
    c.disconnect();
  }
}

/** Key prefixes of this run: each build gets a fresh one, and only those are ever deleted. */
class Prefixes {
  private readonly live = new Set<string>();
  constructor(private readonly url: string) {}

  fresh(): string {
    const p = `bench:${randomBytes(4).toString('hex')}:`;
    this.live.add(p);
    return p;
  }

  /** Deletes every key under the prefix (SCAN MATCH + UNLINK through the view store); the number deleted. */
  async delete(prefix: string): Promise<number> {
    if (!/^bench:[0-9a-f]{8}:$/.test(prefix) || !this.live.has(prefix)) throw new Error(`refusing to delete keys under "${prefix}": not a prefix of this run`);
    const { RedisViewStore } = require(join(DIST, 'libs/views/src/redis.view-store.js'));
    const store = new RedisViewStore({ url: this.url, keyPrefix: prefix, commandTimeoutMs: 60_000 });
    try {
      await store.connect();
      const n: number = await store.deleteAllWithPrefix();
      this.live.delete(prefix);
      return n;
    } finally {
      await store.close();
    }
  }

  async deleteAll(): Promise<void> {
    for (const p of [...this.live]) {
      await this.delete(p).catch((e) => process.stderr.write(`bench: could not delete the keys under ${p}: ${(e as Error).message}\n`));
    }
  }
}

interface Build {
  projector: Server;
  events: number;
  seconds: number;
}

/**
 * apps/projector on DATA_DIR, writing under a fresh prefix: its first build from position 0, timed like
 * scripts/redis-views-bench.sh did, from its `projector writing` log line to the last projection's
 * `first build … serves reads` line. The projector keeps running (tailing the store) until stopped.
 */
async function firstBuild(url: string, prefix: string, dataDir: string, timeoutS: number): Promise<Build> {
  const lines: { msg?: string; time?: string; projections?: string[]; projection?: string; from?: number; head?: number; level?: number; err?: { message?: string } }[] = [];
  const projector = await startRole('projector', dataDir, { REDIS_URL: url, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'info' }, (line) => {
    try {
      const j = JSON.parse(line);
      if (j.msg === 'projector writing' || j.msg === FIRST_BUILD || j.level >= 50) lines.push(j);
    } catch {
      // not a log line
    }
  });
  try {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const writing = lines.find((l) => l.msg === 'projector writing');
      const built = lines.filter((l) => l.msg === FIRST_BUILD);
      const names = writing?.projections ?? [];
      if (writing && names.length > 0 && names.every((p) => built.some((b) => b.projection === p))) {
        if (writing.from !== 0) throw new Error(`the projector started from position ${writing.from}, not 0: the prefix ${prefix} was not empty`);
        const end = Math.max(...built.map((b) => Date.parse(b.time!)));
        return { projector, events: writing.head! - writing.from!, seconds: (end - Date.parse(writing.time!)) / 1000 };
      }
      const errors = lines.filter((l) => (l.level ?? 0) >= 50).map((l) => `${l.msg}${l.err?.message ? `: ${l.err.message}` : ''}`);
      if (!projector.alive!()) throw new Error(`the projector exited during its first build: ${projector.output!()}`);
      if (Date.now() > deadline) {
        throw new Error(
          `the projector's first build into Redis did not finish within ${timeoutS} s (${built.length} of ${names.length || '?'} projections swapped in)${errors.length ? `; it logged: ${errors.slice(-3).join(' | ')}` : ''}`,
        );
      }
      await sleep(100);
    }
  } catch (e) {
    await projector.stop();
    throw e;
  }
}

/** Seconds a first build of `events` may take before the bench gives up (generous: 2,000 events/s, plus boot). */
const buildTimeoutS = (events: number) => Math.round(120 + events / 2000);

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

export async function redis(s: Settings): Promise<Row[]> {
  const server = await redisServer();
  if (typeof server === 'string') {
    return [{ scenario: 'redis mode', metric: '—', unit: '', value: null, target: '—', met: null, notes: `not available: ${server}` }];
  }
  const prefixes = new Prefixes(server.url);
  try {
    const rows: Row[] = [];
    rows.push(...(await redisFreshness(s, server, prefixes)));
    rows.push(...(await redisReplay(s, server, prefixes)));
    rows.push(...(await redisReads(s, server, prefixes)));
    if (server.started) for (const r of rows) r.notes += '; redis-server started by the bench';
    return rows;
  } finally {
    await prefixes.deleteAll();
    await server.stop();
  }
}

/** 3 with Redis: the standalone app with REDIS_URL set, beside the same app with in-memory views. */
async function redisFreshness(s: Settings, server: RedisServer, prefixes: Prefixes): Promise<Row[]> {
  const windows = async (env: Record<string, string>) => {
    const app = await startApp(env);
    try {
      const out: { samples: number[]; load: LoadRun }[] = [];
      for (let i = 0; i < s.runs; i++) out.push(await freshnessWindow(app, s, String(i)));
      return out;
    } finally {
      await app.stop();
    }
  };
  const memory = await windows({});
  const prefix = prefixes.fresh();
  const redis = await windows({ REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix });
  await prefixes.delete(prefix);
  const p99 = (w: { samples: number[] }[]) => figure(w.map((x) => percentile(x.samples, 0.99)));
  const value = p99(redis);
  const probes = redis.reduce((n, w) => n + w.samples.length, 0);
  const rate = figure(redis.map((w) => w.load.okPerSec)).median;
  return [
    {
      scenario: 'redis freshness 202 → dashboard',
      metric: 'p99 of probes',
      unit: 'ms',
      value,
      reference: { name: 'in-memory views p99', value: p99(memory) },
      target: 'p99 < 1000 ms',
      met: value.median < 1000,
      notes: `standalone app with REDIS_URL; ${probes} probes in ${redis.length} runs of ${s.freshnessS} s (p50 median ${figure(redis.map((w) => percentile(w.samples, 0.5))).median} ms, in-memory ${
        figure(memory.map((w) => percentile(w.samples, 0.5))).median
      } ms) under ${rate} conversions/s (in-memory ${figure(memory.map((w) => w.load.okPerSec)).median}) from ${s.connections} connections; min–max over runs`,
    },
  ];
}

/** 4 with Redis: apps/projector's first build into Redis, beside the raw scan and the in-memory replay of the same DATA_DIR. */
async function redisReplay(s: Settings, server: RedisServer, prefixes: Prefixes): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of s.replaySizes) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-redis-replay-'));
    try {
      const seeded = await runJson<SeedResult>('seed.js', ['--data-dir', dir, '--events', String(size)]);
      const raw: ScanResult[] = [];
      const memory: ScanResult[] = [];
      const redis: { perSec: number; seconds: number; memoryBytes: number; keys: number }[] = [];
      let once = false;
      for (let i = 0; i < s.runs; i++) {
        raw.push(await runJson<ScanResult>('raw-sqlite.js', ['scan', dir]));
        memory.push(await runJson<ScanResult>('replay.js', [dir]));
        if (once) continue;
        const prefix = prefixes.fresh();
        const before = await usedMemory(server.url);
        const build = await firstBuild(server.url, prefix, dir, buildTimeoutS(seeded.events));
        let after: number;
        try {
          after = await usedMemory(server.url);
        } finally {
          await build.projector.stop();
        }
        const keys = await prefixes.delete(prefix);
        redis.push({ perSec: build.events / build.seconds, seconds: build.seconds, memoryBytes: Math.max(0, after - before), keys });
        if (build.seconds > REPEAT_LIMIT_S) once = true;
      }
      const value = figure(redis.map((r) => r.perSec));
      const scan = figure(raw.map((r) => r.eventsPerSec));
      const inMemory = figure(memory.map((r) => r.eventsPerSec));
      const runsNote =
        redis.length < s.runs
          ? `Redis build measured once (it took ${Math.round(redis[0].seconds)} s > ${REPEAT_LIMIT_S} s), references ${s.runs} runs`
          : `${s.runs} runs`;
      const scenario = `redis replay ${label(size)} events`;
      rows.push(
        {
          scenario,
          metric: 'throughput',
          unit: 'events/s',
          value,
          reference: { name: 'raw scan + JSON.parse', value: scan },
          ratio: value.median / scan.median,
          target: '≥ 200,000 events/s',
          met: value.median >= 200_000,
          notes: `apps/projector's first build from position 0 into Redis (log: projector writing → last projection swapped in), ${seeded.events} events seeded through the ingest command in ${(seeded.ms / 1000).toFixed(1)} s; ${runsNote}`,
        },
        {
          scenario,
          metric: 'throughput vs in-memory replay',
          unit: 'events/s',
          value,
          reference: { name: 'in-memory replay', value: inMemory },
          ratio: value.median / inMemory.median,
          target: '—',
          met: null,
          notes: `bench/replay.js into in-memory views on the same DATA_DIR; ${runsNote}`,
        },
        {
          scenario,
          metric: 'Redis used_memory growth',
          unit: 'MB',
          value: figure(redis.map((r) => mb(r.memoryBytes))),
          reference: { name: 'in-memory replay peak RSS MB', value: figure(memory.map((r) => Math.round(r.peakRssMb))) },
          target: '—',
          met: null,
          notes: `INFO memory used_memory after the build minus before (the whole server's: other programs using it add noise); ${redis[0].keys} keys under the run's prefix, deleted afterwards`,
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

interface ReadRuns {
  [path: string]: LoadRun[];
}

/** The read paths of a seeded program; page 2 follows the nextCursor this very server returns. */
async function measureReads(app: Server, programId: string, s: Settings): Promise<ReadRuns> {
  const headers = { authorization: `Bearer ${app.token}` };
  const list = `/api/programs/${programId}/affiliates?sort=commissionEarnedMinor&order=desc&limit=50`;
  const res = await fetch(app.baseUrl + list, { headers });
  const body = (await res.json()) as { nextCursor?: string | null };
  if (res.status !== 200 || !body.nextCursor) throw new Error(`reads: the affiliate list answered ${res.status} without a nextCursor: ${JSON.stringify(body).slice(0, 300)}`);
  const paths: Record<string, string> = {
    dashboard: `/api/programs/${programId}/dashboard`,
    'affiliate list (sort=commissionEarnedMinor, 50)': list,
    'affiliate list page 2 (cursor)': `${list}&cursor=${encodeURIComponent(body.nextCursor)}`,
  };
  const out: ReadRuns = {};
  for (const [name, path] of Object.entries(paths)) {
    out[name] = [];
    for (let i = 0; i < s.runs; i++) out[name].push(await load({ url: app.baseUrl + path, headers, connections: 10, durationS: s.durationS, expect: 200 }));
  }
  return out;
}

/** 5 with Redis: apps/api reading the views apps/projector built in Redis, beside the standalone app's in-memory views on the same DATA_DIR. */
async function redisReads(s: Settings, server: RedisServer, prefixes: Prefixes): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of s.readSizes) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-redis-reads-'));
    try {
      const seeded = await runJson<SeedResult>('seed.js', ['--data-dir', dir, '--affiliates', String(size)]);
      const app = await startApp({}, dir);
      let memory: ReadRuns;
      try {
        memory = await measureReads(app, seeded.programId, s);
      } finally {
        await app.stop();
      }
      const prefix = prefixes.fresh();
      const env = { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix };
      const build = await firstBuild(server.url, prefix, dir, buildTimeoutS(seeded.events));
      let redis: ReadRuns;
      try {
        const api = await startRole('api', dir, env);
        try {
          redis = await measureReads(api, seeded.programId, s);
        } finally {
          await api.stop();
        }
      } finally {
        await build.projector.stop();
      }
      await prefixes.delete(prefix);
      for (const name of Object.keys(redis)) {
        const runs = redis[name];
        const p99 = figure(runs.map((r) => r.p99Ms));
        const failed = runs.reduce((n, r) => n + r.failed, 0);
        rows.push({
          scenario: `redis reads ${name} @ ${label(size)} affiliates`,
          metric: 'p99 latency',
          unit: 'ms',
          value: p99,
          reference: { name: 'in-memory views p99', value: figure(memory[name].map((r) => r.p99Ms)) },
          target: size === 10_000 ? 'p99 < 10 ms' : '—',
          met: size === 10_000 ? p99.median < 10 : null,
          notes: `apps/api reading the views apps/projector built in Redis (projector running); p50 ${figure(runs.map((r) => r.p50Ms)).median} ms (in-memory ${
            figure(memory[name].map((r) => r.p50Ms)).median
          }); ${Math.round(figure(runs.map((r) => r.okPerSec)).median)} req/s (in-memory ${Math.round(figure(memory[name].map((r) => r.okPerSec)).median)}); 10 connections × ${runs[0].durationS} s × ${runs.length} runs; ${seeded.events} events${
            failed ? `; ${failed} failed requests` : ''
          }`,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
