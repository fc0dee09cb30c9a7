import BTree from 'sorted-btree';
import { createHash, randomUUID } from 'node:crypto';
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

type ZKey = [number, string];
const compareZ = (a: ZKey, b: ZKey) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

class SortedSet {
  readonly scores = new Map<string, number>();
  readonly tree = new BTree<ZKey, true>(undefined, compareZ);

  add(member: string, score: number): void {
    const old = this.scores.get(member);
    if (old === score) return;
    if (old !== undefined) this.tree.delete([old, member]);
    this.scores.set(member, score);
    this.tree.set([score, member], true);
  }

  remove(member: string): void {
    const old = this.scores.get(member);
    if (old === undefined) return;
    this.tree.delete([old, member]);
    this.scores.delete(member);
  }
}

/** Embedded views: plain maps in this process, rebuilt from the event store at every boot. */
export class InMemoryViewStore extends ViewStore {
  readonly shared = false;
  private readonly docs = new Map<string, unknown>();
  private readonly zsets = new Map<string, SortedSet>();
  private readonly checkpoints = new Map<string, number>();
  private readonly leases = new Map<string, { token: string; until: number }>();
  private readonly registries = new Map<string, NamespaceRegistry>();

  async get<T>(key: string): Promise<T | null> {
    return (this.docs.get(key) as T) ?? null;
  }

  async getMany<T>(keys: string[]): Promise<(T | null)[]> {
    return keys.map((k) => (this.docs.get(k) as T) ?? null);
  }

  async commit(checkpointName: string, changes: ViewChange[], checkpoint: number, guard?: WriteGuard): Promise<void> {
    // No await inside: readers never observe half of a batch.
    if (guard) {
      this.checkGuard(guard);
      if ((this.checkpoints.get(checkpointName) ?? 0) >= checkpoint) return;
    }
    for (const c of changes) {
      switch (c.op) {
        case 'put':
          this.docs.set(c.key, c.value);
          break;
        case 'del':
          this.docs.delete(c.key);
          break;
        case 'zadd':
          this.zset(c.key).add(c.member, c.score);
          break;
        case 'zrem':
          this.zsets.get(c.key)?.remove(c.member);
          break;
      }
    }
    this.checkpoints.set(checkpointName, checkpoint);
  }

  async checkpoint(checkpointName: string): Promise<number> {
    return this.checkpoints.get(checkpointName) ?? 0;
  }

  async zrange(key: string, options: ZRangeOptions): Promise<ZEntry[]> {
    const set = this.zsets.get(key);
    if (!set || set.scores.size === 0 || options.limit <= 0) return [];
    const out: ZEntry[] = [];
    const push = (k: ZKey) => {
      if (options.after && compareZ(k, [options.after.score, options.after.member]) === 0) return;
      out.push({ member: k[1], score: k[0] });
      if (out.length >= options.limit) return { break: true };
    };
    if (options.order === 'asc') {
      const start: ZKey | undefined = options.after ? [options.after.score, options.after.member] : undefined;
      set.tree.forRange(start ?? set.tree.minKey()!, set.tree.maxKey()!, true, (k) => push(k));
    } else {
      const high: ZKey | undefined = options.after ? [options.after.score, options.after.member] : set.tree.maxKey();
      if (high) {
        for (const [k] of set.tree.entriesReversed(high)) {
          if (push(k)) break;
        }
      }
    }
    return out;
  }

  async zrangeByRank(key: string, start: number, stop: number): Promise<ZEntry[]> {
    const set = this.zsets.get(key);
    if (!set || start > stop) return [];
    const out: ZEntry[] = [];
    let i = 0;
    // Walks up to `stop`: fine for embedded sizes; Redis answers this in O(log n).
    for (const [score, member] of set.tree.keys()) {
      if (i > stop) break;
      if (i >= start) out.push({ member, score });
      i++;
    }
    return out;
  }

  async zrangeByScore(key: string, range: ZScoreRange): Promise<ZEntry[]> {
    const set = this.zsets.get(key);
    if (!set || set.scores.size === 0 || range.limit <= 0) return [];
    const out: ZEntry[] = [];
    const aboveMin = (s: number) => range.min === undefined || (range.exclusive ? s > range.min : s >= range.min);
    const belowMax = (s: number) => range.max === undefined || (range.exclusive ? s < range.max : s <= range.max);
    if (range.order === 'asc') {
      const from = range.min === undefined ? set.tree.minKey()! : ([range.exclusive ? nextUp(range.min) : range.min, ''] as ZKey);
      for (const [[score, member]] of set.tree.entries(from)) {
        if (!belowMax(score) || out.length >= range.limit) break;
        if (aboveMin(score)) out.push({ member, score });
      }
    } else {
      const from = range.max === undefined ? set.tree.maxKey() : set.tree.nextLowerKey([range.exclusive ? range.max : nextUp(range.max), '']);
      if (!from) return [];
      for (const [[score, member]] of set.tree.entriesReversed(from)) {
        if (!aboveMin(score) || out.length >= range.limit) break;
        if (belowMax(score)) out.push({ member, score });
      }
    }
    return out;
  }

  async zrangeByPrefix(key: string, prefix: string, limit: number): Promise<string[]> {
    const set = this.zsets.get(key);
    if (!set || set.scores.size === 0 || limit <= 0) return [];
    const out: string[] = [];
    for (const [[score, member]] of set.tree.entries([0, prefix])) {
      if (score !== 0 || !member.startsWith(prefix) || out.length >= limit) break;
      out.push(member);
    }
    return out;
  }

  async zscores(key: string, members: string[]): Promise<(number | null)[]> {
    const set = this.zsets.get(key);
    return members.map((m) => set?.scores.get(m) ?? null);
  }

  async zcard(key: string): Promise<number> {
    return this.zsets.get(key)?.scores.size ?? 0;
  }

  async readConsistent(checkpointName: string, docKeys: string[], scoreKeys: [string, string][]): Promise<ConsistentRead> {
    return {
      checkpoint: this.checkpoints.get(checkpointName) ?? 0,
      docs: docKeys.map((k) => this.docs.get(k) ?? null),
      scores: scoreKeys.map(([k, m]) => this.zsets.get(k)?.scores.get(m) ?? null),
    };
  }

  async contentHash(prefix: string): Promise<string> {
    const hash = createHash('sha256');
    const rel = (k: string) => k.slice(prefix.length);
    const docKeys = [...this.docs.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of docKeys) hash.update(`d\u0000${rel(k)}\u0000${canonical(this.docs.get(k))}\n`);
    const zKeys = [...this.zsets.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of zKeys) {
      const set = this.zsets.get(k)!;
      if (set.scores.size === 0) continue;
      hash.update(`z\u0000${rel(k)}\n`);
      for (const [score, member] of set.tree.keys()) hash.update(`${member}\u0000${score}\n`);
    }
    return hash.digest('hex');
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<string | null> {
    const now = Date.now();
    const lease = this.leases.get(key);
    if (lease && lease.until > now) return null;
    const token = `${holder}#${randomUUID()}`;
    this.leases.set(key, { token, until: now + ttlMs });
    return token;
  }

  async renewLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const lease = this.leases.get(key);
    if (!lease || lease.token !== token || lease.until <= Date.now()) return false;
    lease.until = Date.now() + ttlMs;
    return true;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    if (this.leases.get(key)?.token === token) this.leases.delete(key);
  }

  async leaseHolder(key: string): Promise<string | null> {
    const lease = this.leases.get(key);
    return lease && lease.until > Date.now() ? lease.token : null;
  }

  async registry(projection: string): Promise<NamespaceRegistry> {
    return { ...this.reg(projection) };
  }

  async nextGeneration(projection: string): Promise<number> {
    return ++this.reg(projection).generation;
  }

  async registerBuild(projection: string, namespace: string): Promise<boolean> {
    const reg = this.reg(projection);
    if (reg.building !== null) return false;
    reg.building = namespace;
    return true;
  }

  async swap(projection: string, guard: WriteGuard): Promise<SwapResult> {
    this.checkGuard({ ...guard, registry: { ...guard.registry, role: 'building' } });
    const reg = this.reg(projection);
    const buildingCheckpoint = this.checkpoints.get(reg.building!) ?? 0;
    const activeCheckpoint = reg.active === null ? 0 : (this.checkpoints.get(reg.active) ?? 0);
    if (reg.active !== null && buildingCheckpoint < activeCheckpoint) return { swapped: false, activeCheckpoint, buildingCheckpoint };
    const retired = reg.active;
    reg.active = reg.building;
    reg.building = null;
    return { swapped: true, retired };
  }

  async abandonBuild(projection: string, namespace: string): Promise<void> {
    const reg = this.reg(projection);
    if (reg.building === namespace) reg.building = null;
  }

  async deleteNamespace(namespace: string): Promise<number> {
    let n = 0;
    for (const k of [...this.docs.keys()]) if (k.startsWith(namespace) && this.docs.delete(k)) n++;
    for (const k of [...this.zsets.keys()]) if (k.startsWith(namespace) && this.zsets.delete(k)) n++;
    this.checkpoints.delete(namespace);
    return n;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  private checkGuard(guard: WriteGuard): void {
    const lease = this.leases.get(guard.lease.key);
    if (!lease || lease.token !== guard.lease.token || lease.until <= Date.now()) throw new LeaseLost(guard.lease.key);
    if (this.reg(guard.registry.projection)[guard.registry.role] !== guard.registry.namespace) throw new NamespaceRetired(guard.registry.namespace);
  }

  private reg(projection: string): NamespaceRegistry {
    let reg = this.registries.get(projection);
    if (!reg) this.registries.set(projection, (reg = { active: null, building: null, generation: 0 }));
    return reg;
  }

  private zset(key: string): SortedSet {
    let set = this.zsets.get(key);
    if (!set) this.zsets.set(key, (set = new SortedSet()));
    return set;
  }
}

/** JSON with object keys sorted, so equal content always serialises the same way. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The smallest double above x: turns "score ≤ max" into "key < [nextUp(max), '']" in the tree. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}
