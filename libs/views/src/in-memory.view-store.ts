import BTree from 'sorted-btree';
import { createHash } from 'node:crypto';
import { ViewChange, ViewStore, ZEntry, ZRangeOptions } from './view-store.port';

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
  private readonly docs = new Map<string, unknown>();
  private readonly zsets = new Map<string, SortedSet>();
  private readonly checkpoints = new Map<string, number>();

  async get<T>(key: string): Promise<T | null> {
    return (this.docs.get(key) as T) ?? null;
  }

  async getMany<T>(keys: string[]): Promise<(T | null)[]> {
    return keys.map((k) => (this.docs.get(k) as T) ?? null);
  }

  async commit(projection: string, changes: ViewChange[], checkpoint: number): Promise<void> {
    // No await inside: readers never observe half of a batch.
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
    this.checkpoints.set(projection, checkpoint);
  }

  async checkpoint(projection: string): Promise<number> {
    return this.checkpoints.get(projection) ?? 0;
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

  async zcard(key: string): Promise<number> {
    return this.zsets.get(key)?.scores.size ?? 0;
  }

  async contentHash(prefix: string): Promise<string> {
    const hash = createHash('sha256');
    const docKeys = [...this.docs.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of docKeys) hash.update(`d\u0000${k}\u0000${canonical(this.docs.get(k))}\n`);
    const zKeys = [...this.zsets.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of zKeys) {
      const set = this.zsets.get(k)!;
      if (set.scores.size === 0) continue;
      hash.update(`z\u0000${k}\n`);
      for (const [score, member] of set.tree.keys()) hash.update(`${member}\u0000${score}\n`);
    }
    return hash.digest('hex');
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

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
