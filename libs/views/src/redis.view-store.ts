import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis, { ReplyError } from 'ioredis';
import { Unavailable } from '@lib/platform/errors';
import { canonical } from './in-memory.view-store';
import {
  ConsistentRead,
  LeaseLost,
  NamespaceRegistry,
  NamespaceRetired,
  SwapResult,
  ViewChange,
  ViewStore,
  WriteGuard,
  ZEntry,
  ZRangeOptions,
  ZScoreRange,
} from './view-store.port';

export interface RedisViewStoreOptions {
  url: string;
  /** Every key this store writes starts with it, so several deployments (or test runs) share one server. */
  keyPrefix: string;
  /** A command not answered within this time fails: the API answers 503 instead of hanging. */
  commandTimeoutMs: number;
  /** Connection problems, throttled by the caller; the client reconnects by itself. */
  onConnectionError?: (error: Error) => void;
}

const SCRIPTS = {
  viewsCommit: 'commit.lua',
  viewsZrangeAfter: 'zrange-after.lua',
  viewsLeaseAcquire: 'lease-acquire.lua',
  viewsLeaseRenew: 'lease-renew.lua',
  viewsLeaseRelease: 'lease-release.lua',
  viewsSwap: 'swap.lua',
  viewsAbandonBuild: 'abandon-build.lua',
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Scripted = Redis & Record<ScriptName, (numKeys: number, ...args: (string | number | (string | number)[])[]) => Promise<unknown>>;

/** The Lua scripts live beside this file (the build copies them into dist: see the postbuild script). */
function loadScript(file: string): string {
  const path = join(__dirname, 'lua', file);
  if (!existsSync(path)) throw new Error(`${path} is missing: build with \`npm run build\`, whose postbuild step copies the Lua scripts`);
  return readFileSync(path, 'utf8');
}

/** Redis glob characters in a literal prefix, escaped for SCAN MATCH. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/**
 * Views in Redis through ioredis: documents as JSON strings, sorted sets as ZSETs, every batch and its
 * checkpoint written by one Lua script (commit.lua). Driver errors stop here: a connection problem or a
 * timeout is `Unavailable` (503), a refused commit is `LeaseLost` / `NamespaceRetired`.
 */
export class RedisViewStore extends ViewStore {
  readonly shared = true;
  private readonly redis: Scripted;
  private readonly prefix: string;
  private readonly where: string;

  constructor(private readonly options: RedisViewStoreOptions) {
    super();
    this.prefix = options.keyPrefix;
    const url = new URL(options.url);
    this.where = `Redis at ${url.hostname}:${url.port || 6379}`;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail at once while disconnected rather than queue: a read answers 503 now, a projector batch is retried.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1000, options.commandTimeoutMs),
      retryStrategy: (attempt) => Math.min(2000, 50 * 2 ** Math.min(attempt, 10)),
      connectionName: 'affiliate-views',
      // Commands issued in the same tick go out in one socket write: a dashboard read is ~15 commands, and
      // one write each was a third of the api's CPU under load (measured with --cpu-prof).
      enableAutoPipelining: true,
    }) as Scripted;
    this.redis.on('error', (e: Error) => options.onConnectionError?.(e));
    for (const [name, file] of Object.entries(SCRIPTS)) this.redis.defineCommand(name, { lua: loadScript(file) });
  }

  /** Connects; when Redis is down the client keeps reconnecting in the background and calls fail with 503 meanwhile. */
  async connect(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect();
  }

  async get<T>(key: string): Promise<T | null> {
    const raw = await this.run(() => this.redis.get(this.prefix + key));
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async getMany<T>(keys: string[]): Promise<(T | null)[]> {
    if (keys.length === 0) return [];
    const out: (T | null)[] = [];
    // Chunks keep one reply (and the time Redis spends on it) bounded.
    for (let i = 0; i < keys.length; i += 5000) {
      const raw = await this.run(() => this.redis.mget(keys.slice(i, i + 5000).map((k) => this.prefix + k)));
      for (const r of raw) out.push(r === null ? null : (JSON.parse(r) as T));
    }
    return out;
  }

  async commit(checkpointName: string, changes: ViewChange[], checkpoint: number, guard?: WriteGuard): Promise<void> {
    const cpKey = this.checkpointKey(checkpointName);
    const keys: string[] = [cpKey, guard ? this.leaseKey(guard.lease.key) : cpKey, guard ? this.registryKey(guard.registry.projection) : cpKey];
    const args: (string | number)[] = [String(checkpoint), guard?.lease.token ?? '', guard?.registry.role ?? '', guard?.registry.namespace ?? ''];
    for (const c of changes) {
      keys.push(this.prefix + c.key);
      switch (c.op) {
        case 'put':
          args.push('p', JSON.stringify(c.value));
          break;
        case 'del':
          args.push('d');
          break;
        case 'zadd':
          args.push('z', c.member, String(c.score));
          break;
        case 'zrem':
          args.push('r', c.member);
          break;
      }
    }
    // Arrays, not spread arguments: a batch of thousands of changes would exceed the engine's argument limit.
    await this.run(() => this.redis.viewsCommit(keys.length, keys, args), guard);
  }

  async checkpoint(checkpointName: string): Promise<number> {
    return Number((await this.run(() => this.redis.get(this.checkpointKey(checkpointName)))) ?? 0);
  }

  async zrange(key: string, options: ZRangeOptions): Promise<ZEntry[]> {
    if (options.limit <= 0) return [];
    const k = this.prefix + key;
    const flat = options.after
      ? ((await this.run(() => this.redis.viewsZrangeAfter(1, k, String(options.after!.score), options.after!.member, options.order, options.limit))) as string[])
      : options.order === 'asc'
        ? await this.run(() => this.redis.zrange(k, 0, options.limit - 1, 'WITHSCORES'))
        : await this.run(() => this.redis.zrange(k, 0, options.limit - 1, 'REV', 'WITHSCORES'));
    return pairs(flat);
  }

  async zrangeByRank(key: string, start: number, stop: number): Promise<ZEntry[]> {
    if (start > stop) return [];
    return pairs(await this.run(() => this.redis.zrange(this.prefix + key, start, stop, 'WITHSCORES')));
  }

  async zrangeByScore(key: string, range: ZScoreRange): Promise<ZEntry[]> {
    if (range.limit <= 0) return [];
    const bound = (v: number | undefined, inf: string) => (v === undefined ? inf : `${range.exclusive ? '(' : ''}${v}`);
    const min = bound(range.min, '-inf');
    const max = bound(range.max, '+inf');
    const k = this.prefix + key;
    const flat =
      range.order === 'asc'
        ? await this.run(() => this.redis.zrange(k, min, max, 'BYSCORE', 'LIMIT', 0, range.limit, 'WITHSCORES'))
        : await this.run(() => this.redis.zrange(k, max, min, 'BYSCORE', 'REV', 'LIMIT', 0, range.limit, 'WITHSCORES'));
    return pairs(flat);
  }

  async zrangeByPrefix(key: string, prefix: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    // [prefix … [prefix + byte 0xFF: every member starting with prefix (0xFF never occurs in UTF-8 text).
    const min = Buffer.from('[' + prefix);
    const max = Buffer.concat([min, Buffer.from([0xff])]);
    return this.run(() => this.redis.zrange(this.prefix + key, min, max, 'BYLEX', 'LIMIT', 0, limit));
  }

  async zscores(key: string, members: string[]): Promise<(number | null)[]> {
    if (members.length === 0) return [];
    const raw = await this.run(() => this.redis.zmscore(this.prefix + key, members));
    return raw.map((s) => (s === null ? null : Number(s)));
  }

  async zcard(key: string): Promise<number> {
    return this.run(() => this.redis.zcard(this.prefix + key));
  }

  async readConsistent(checkpointName: string, docKeys: string[], scoreKeys: [string, string][]): Promise<ConsistentRead> {
    // MULTI: nothing runs between these reads, so the documents and scores are exactly those at the checkpoint.
    const multi = this.redis.multi().get(this.checkpointKey(checkpointName));
    if (docKeys.length > 0) multi.mget(docKeys.map((k) => this.prefix + k));
    for (const [k, m] of scoreKeys) multi.zscore(this.prefix + k, m);
    const replies = (await this.run(() => multi.exec()))!;
    const value = (i: number) => {
      const [err, v] = replies[i];
      if (err) throw err;
      return v;
    };
    const docs = docKeys.length > 0 ? (value(1) as (string | null)[]).map((r) => (r === null ? null : JSON.parse(r))) : [];
    const first = docKeys.length > 0 ? 2 : 1;
    return {
      checkpoint: Number(value(0) ?? 0),
      docs,
      scores: scoreKeys.map((_, i) => {
        const s = value(first + i) as string | null;
        return s === null ? null : Number(s);
      }),
    };
  }

  async contentHash(prefix: string): Promise<string> {
    const keys = (await this.scanKeys(prefix)).sort();
    const docs: [string, string][] = [];
    const zsets: [string, ZEntry[]][] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const types = await this.run(() => this.pipelined(chunk.map((k) => ['type', k])));
      const reads = chunk.map((k, j) => (types[j] === 'string' ? ['get', k] : types[j] === 'zset' ? ['zrange', k, '0', '-1', 'WITHSCORES'] : ['type', k]));
      const values = await this.run(() => this.pipelined(reads));
      chunk.forEach((k, j) => {
        const rel = k.slice(this.prefix.length + prefix.length);
        if (types[j] === 'string') docs.push([rel, values[j] as string]);
        else if (types[j] === 'zset') zsets.push([rel, pairs(values[j] as string[])]);
      });
    }
    // The in-memory adapter's format exactly: equal views hash equal across adapters.
    const hash = createHash('sha256');
    const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    for (const [k, v] of docs.sort(byKey)) hash.update(`d\u0000${k}\u0000${canonical(JSON.parse(v))}\n`);
    for (const [k, entries] of zsets.sort(byKey)) {
      if (entries.length === 0) continue;
      hash.update(`z\u0000${k}\n`);
      entries.sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
      for (const e of entries) hash.update(`${e.member}\u0000${e.score}\n`);
    }
    return hash.digest('hex');
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<string | null> {
    return (await this.run(() => this.redis.viewsLeaseAcquire(2, this.leaseKey(key), this.prefix + '@epoch:' + key, holder, ttlMs))) as string | null;
  }

  async renewLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.run(() => this.redis.viewsLeaseRenew(1, this.leaseKey(key), token, ttlMs))) === 1;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.run(() => this.redis.viewsLeaseRelease(1, this.leaseKey(key), token));
  }

  async leaseHolder(key: string): Promise<string | null> {
    return this.run(() => this.redis.get(this.leaseKey(key)));
  }

  async registry(projection: string): Promise<NamespaceRegistry> {
    const h = await this.run(() => this.redis.hgetall(this.registryKey(projection)));
    return { active: h.active ?? null, building: h.building ?? null, generation: Number(h.generation ?? 0) };
  }

  async nextGeneration(projection: string): Promise<number> {
    return this.run(() => this.redis.hincrby(this.registryKey(projection), 'generation', 1));
  }

  async registerBuild(projection: string, namespace: string): Promise<boolean> {
    return (await this.run(() => this.redis.hsetnx(this.registryKey(projection), 'building', namespace))) === 1;
  }

  async swap(projection: string, guard: WriteGuard): Promise<SwapResult> {
    const registryKey = this.registryKey(projection);
    for (;;) {
      const { active } = await this.registry(projection);
      try {
        const reply = (await this.run(
          () =>
            this.redis.viewsSwap(
              4,
              registryKey,
              this.leaseKey(guard.lease.key),
              this.checkpointKey(guard.registry.namespace),
              active ? this.checkpointKey(active) : registryKey,
              guard.lease.token,
              guard.registry.namespace,
              active ?? '',
            ),
          guard,
        )) as [number, string | number, number?];
        if (reply[0] === 1) return { swapped: true, retired: (reply[1] as string) || null };
        return { swapped: false, activeCheckpoint: Number(reply[1]), buildingCheckpoint: Number(reply[2]) };
      } catch (e) {
        // The active namespace changed between our read and the script (another swap): read it again.
        if (replyError(e)?.includes('ACTIVE_CHANGED')) continue;
        throw e;
      }
    }
  }

  async abandonBuild(projection: string, namespace: string): Promise<void> {
    await this.run(() => this.redis.viewsAbandonBuild(1, this.registryKey(projection), namespace));
  }

  async deleteNamespace(namespace: string): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.run(() => this.redis.scan(cursor, 'MATCH', `${globEscape(this.prefix + namespace)}*`, 'COUNT', 1000));
      cursor = next;
      // UNLINK frees memory off Redis's main thread: a large namespace goes without blocking readers.
      if (keys.length > 0) deleted += await this.run(() => this.redis.unlink(keys));
    } while (cursor !== '0');
    await this.run(() => this.redis.unlink(this.checkpointKey(namespace)));
    return deleted;
  }

  async ping(): Promise<void> {
    await this.run(() => this.redis.ping());
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Deletes every key under this store's prefix (tests own their prefix). Walks the keys: never on a request path. */
  async deleteAllWithPrefix(): Promise<number> {
    return this.deleteNamespace('');
  }

  private async scanKeys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.run(() => this.redis.scan(cursor, 'MATCH', `${globEscape(this.prefix + prefix)}*`, 'COUNT', 1000));
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
    return [...new Set(out)];
  }

  private async pipelined(commands: string[][]): Promise<unknown[]> {
    const replies = (await this.redis.pipeline(commands).exec())!;
    return replies.map(([err, v]) => {
      if (err) throw err;
      return v;
    });
  }

  private checkpointKey(name: string): string {
    return `${this.prefix}@cp:${name}`;
  }

  private leaseKey(key: string): string {
    return `${this.prefix}@lease:${key}`;
  }

  private registryKey(projection: string): string {
    return `${this.prefix}@ns:{${projection}}`;
  }

  /** Runs one Redis call and translates its failures into the port's errors. */
  private async run<T>(call: () => Promise<T>, guard?: WriteGuard): Promise<T> {
    try {
      return await call();
    } catch (e) {
      const reply = replyError(e);
      if (reply !== null) {
        if (reply.includes('LEASE_LOST')) throw new LeaseLost(guard?.lease.key ?? '?');
        if (reply.includes('NAMESPACE_RETIRED')) throw new NamespaceRetired(guard?.registry.namespace ?? '?');
        if (reply.includes('ACTIVE_CHANGED')) throw e;
        throw new Error(`${this.where} refused a command: ${reply}`);
      }
      throw new Unavailable(`the view store (${this.where}) does not answer: ${(e as Error).message}`);
    }
  }
}

/** The message of an error Redis answered (as opposed to a connection problem), or null. */
function replyError(e: unknown): string | null {
  return e instanceof ReplyError ? (e as Error).message : null;
}

function pairs(flat: string[]): ZEntry[] {
  const out: ZEntry[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i], score: Number(flat[i + 1]) });
  return out;
}
