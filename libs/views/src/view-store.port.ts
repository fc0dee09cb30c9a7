/**
 * The view-store port, shaped after Redis so its adapter is a translation: documents (JSON values)
 * and sorted sets under string keys, written in atomic batches together with a projection's checkpoint.
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

export abstract class ViewStore {
  abstract get<T = unknown>(key: string): Promise<T | null>;
  abstract getMany<T = unknown>(keys: string[]): Promise<(T | null)[]>;
  /** Applies the changes and sets the checkpoint in one atomic step. */
  abstract commit(projection: string, changes: ViewChange[], checkpoint: number): Promise<void>;
  abstract checkpoint(projection: string): Promise<number>;
  abstract zrange(key: string, options: ZRangeOptions): Promise<ZEntry[]>;
  abstract zcard(key: string): Promise<number>;
  /** sha256 over every key under the prefix and its value, in key order: equal views, equal hashes. */
  abstract contentHash(prefix: string): Promise<string>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
