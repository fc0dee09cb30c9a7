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

export const namespaceOf = (p: Pick<Projection, 'name' | 'version'>) => `${p.name}:v${p.version}:`;
