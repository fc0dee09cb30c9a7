import { Conflict, Unavailable } from '@lib/platform/errors';

/**
 * The view-store port, shaped after Redis so its adapter is a translation: documents (JSON values)
 * and sorted sets under string keys, written in atomic batches together with a projection's checkpoint.
 * Beside the data: leases (one writer per projection), and a registry per projection naming the
 * namespace that serves reads (`active`) and the one being built (`building`), swapped atomically.
 */
export type ViewChange =
  | { op: 'put'; key: string; value: unknown }
  | { op: 'del'; key: string }
  | { op: 'zadd'; key: string; member: string; score: number }
  | { op: 'zrem'; key: string; member: string };

export interface ZEntry {
  member: string;
  score: number;
}

export interface ZRangeOptions {
  order: 'asc' | 'desc';
  /** Exclusive cursor: continue after this entry in the chosen order. */
  after?: ZEntry;
  limit: number;
}

export interface ZScoreRange {
  /** Bounds on the score; `exclusive` makes both strict. Unset: unbounded on that side. */
  min?: number;
  max?: number;
  exclusive?: boolean;
  order: 'asc' | 'desc';
  limit: number;
}

/**
 * What makes a commit refuse to write: the writer must still hold the lease (fencing), and the namespace
 * must still be registered under the role it was given (a namespace swapped out is frozen).
 */
export interface WriteGuard {
  lease: { key: string; token: string };
  registry: { projection: string; role: 'active' | 'building'; namespace: string };
}

export interface NamespaceRegistry {
  /** The namespace reads are served from; null until the first build completed. */
  active: string | null;
  /** The namespace a build is replaying into, or null. */
  building: string | null;
  /** Highest generation handed out so far (namespaces of generation g > 0 are new builds). */
  generation: number;
}

export type SwapResult = { swapped: true; retired: string | null } | { swapped: false; activeCheckpoint: number; buildingCheckpoint: number };

export interface ConsistentRead {
  checkpoint: number;
  docs: unknown[];
  /** Scores for the requested [key, member] pairs, null where absent. */
  scores: (number | null)[];
}

/** The commit was refused: another writer holds the projection's lease now. Nothing was written. */
export class LeaseLost extends Conflict {
  constructor(readonly leaseKey: string) {
    super(`the lease ${leaseKey} is held by another writer: this batch was not written`);
  }
}

/** The commit was refused: the namespace is no longer registered under that role (it was swapped out). */
export class NamespaceRetired extends Conflict {
  constructor(readonly namespace: string) {
    super(`the view namespace ${namespace} was swapped out: this batch was not written`);
  }
}

/** Reads cannot be served: the projection has no active namespace yet (its first build is running). */
export class ViewsNotBuilt extends Unavailable {
  constructor(readonly projection: string) {
    super(`the ${projection} views are being built from the event store; try again shortly`);
  }
}

export abstract class ViewStore {
  /** True when other processes share these views (Redis): namespaces may change under this process. */
  abstract readonly shared: boolean;
  abstract get<T = unknown>(key: string): Promise<T | null>;
  abstract getMany<T = unknown>(keys: string[]): Promise<(T | null)[]>;
  /**
   * Applies the changes and sets the checkpoint in one atomic step. With a guard: refused with LeaseLost
   * or NamespaceRetired, and a no-op when the stored checkpoint already covers `checkpoint` (a repeat).
   */
  abstract commit(checkpointName: string, changes: ViewChange[], checkpoint: number, guard?: WriteGuard): Promise<void>;
  abstract checkpoint(checkpointName: string): Promise<number>;
  abstract zrange(key: string, options: ZRangeOptions): Promise<ZEntry[]>;
  /** Entries from index `start` to `stop` (inclusive, 0-based) in ascending order: order statistics. */
  abstract zrangeByRank(key: string, start: number, stop: number): Promise<ZEntry[]>;
  abstract zrangeByScore(key: string, range: ZScoreRange): Promise<ZEntry[]>;
  /**
   * Members that start with `prefix`, in lexicographic order, up to `limit`, of a sorted set whose members all
   * have score 0 (a lexicographic index: Redis ZRANGE BYLEX). O(log n + limit): how name and code search stays
   * cheap at any number of affiliates.
   */
  abstract zrangeByPrefix(key: string, prefix: string, limit: number): Promise<string[]>;
  abstract zscores(key: string, members: string[]): Promise<(number | null)[]>;
  abstract zcard(key: string): Promise<number>;
  /** Documents, sorted-set scores and a checkpoint as they stood at one instant (the audit compares against it). */
  abstract readConsistent(checkpointName: string, docKeys: string[], scoreKeys: [string, string][]): Promise<ConsistentRead>;
  /**
   * sha256 over every key under the prefix (relative to it) and its value, in key order: equal views,
   * equal hashes, whatever namespace or adapter holds them.
   */
  abstract contentHash(prefix: string): Promise<string>;

  /** Takes the lease when free: resolves with a fencing token unique to this acquisition, or null. */
  abstract acquireLease(key: string, holder: string, ttlMs: number): Promise<string | null>;
  /** Extends the lease if `token` still holds it. */
  abstract renewLease(key: string, token: string, ttlMs: number): Promise<boolean>;
  abstract releaseLease(key: string, token: string): Promise<void>;
  /** The token holding the lease, or null. */
  abstract leaseHolder(key: string): Promise<string | null>;

  abstract registry(projection: string): Promise<NamespaceRegistry>;
  /** Hands out the next generation number of the projection. */
  abstract nextGeneration(projection: string): Promise<number>;
  /** Registers `namespace` as the one being built, only if no build is registered: false otherwise. */
  abstract registerBuild(projection: string, namespace: string): Promise<boolean>;
  /**
   * Makes the building namespace the active one, atomically, only if its checkpoint covers at least the
   * active one's and the guard's lease still holds. The old namespace is frozen from then on.
   */
  abstract swap(projection: string, guard: WriteGuard): Promise<SwapResult>;
  /** Forgets a build that will not complete (its keys stay until deleteNamespace). */
  abstract abandonBuild(projection: string, namespace: string): Promise<void>;
  /** Deletes every key of a namespace and its checkpoint. Off the request path: it walks the keys. */
  abstract deleteNamespace(namespace: string): Promise<number>;

  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
