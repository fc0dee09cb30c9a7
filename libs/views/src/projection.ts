import { RecordedEvent } from '@lib/event-store/event-store.port';

/** What a projection may do while applying one batch: read and write its own keys, synchronously. */
export interface ProjectionContext {
  get<T>(key: string): T | null;
  put(key: string, value: unknown): void;
  del(key: string): void;
  zadd(key: string, member: string, score: number): void;
  zrem(key: string, member: string): void;
}

/**
 * A pure projection: `keysFor` names the documents an event needs (loaded for the whole batch in one
 * round trip), `apply` turns the event into view changes. No I/O, no clock: replays give the same views.
 */
export interface Projection {
  readonly name: string;
  /** Bump when the projection's code changes: its keys live under a namespace that carries the version. */
  readonly version: number;
  readonly eventTypes: readonly string[];
  keysFor(event: RecordedEvent): string[];
  apply(event: RecordedEvent, ctx: ProjectionContext): void;
}

/** A projection's identity across rebuilds: name and version (`stats:v2`). Its registry, leases and namespaces hang off it. */
export const projectionIdOf = (p: Pick<Projection, 'name' | 'version'>) => `${p.name}:v${p.version}`;

/**
 * The key namespace of one build of a projection: `{stats:v2}:` for the first, `{stats:v2}-r3:` for
 * generation 3. No namespace is a prefix of another. The braces are a Redis Cluster hash tag: every key of
 * a projection (all generations, its registry, leases and checkpoints) lands in one slot, so the Lua
 * scripts that write them atomically are legal there too.
 */
export const namespaceOf = (p: Pick<Projection, 'name' | 'version'>, generation = 0) =>
  generation === 0 ? `{${projectionIdOf(p)}}:` : `{${projectionIdOf(p)}}-r${generation}:`;

/** The lease the live projector of a projection holds, and the one a rebuild holds. */
export const leaseKeyOf = (p: Pick<Projection, 'name' | 'version'>, purpose: 'live' | 'rebuild' = 'live') =>
  purpose === 'live' ? `{${projectionIdOf(p)}}` : `{${projectionIdOf(p)}}:rebuild`;
