import { Conflict } from '@lib/platform/errors';

/**
 * The event store port. Semantics follow EventStoreDB so that its adapter is a translation, not a redesign:
 * streams with 0-based revisions, a global position across all streams, expected-revision checks and
 * idempotent appends by event id.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface EventToAppend {
  id: string;
  type: string;
  data: Record<string, unknown>;
  schemaVersion?: number;
  metadata?: Record<string, unknown>;
}

export interface RecordedEvent<D = any> {
  id: string;
  streamId: string;
  revision: number;
  position: number;
  type: string;
  schemaVersion: number;
  data: D;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

export interface AppendRequest {
  streamId: string;
  expectedRevision: ExpectedRevision;
  events: EventToAppend[];
}

export interface AppendResult {
  streamId: string;
  /** Revision of the stream's last event after the append (what to expect next time). */
  nextExpectedRevision: number;
  /** Global position of the last event written, or of the existing one when the append was a repeat. */
  position: number;
  /** True when every event already existed: a redelivery, nothing written. */
  duplicate: boolean;
}

export interface ReadStreamOptions {
  fromRevision?: number;
  direction?: 'forwards' | 'backwards';
  maxCount?: number;
}

export interface StreamRead {
  streamId: string;
  fromRevision: number;
}

export interface AllFilter {
  streamPrefixes?: string[];
  eventTypes?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: events with a greater position are returned. 0 reads from the start. */
  after: number;
  maxCount: number;
  filter?: AllFilter;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  after: number;
  filter?: AllFilter;
  batchSize?: number;
  /** Called when reading or the handler fails; the subscription retries the same batch with backoff. */
  onError?: (error: Error, attempt: number) => void;
}

export class WrongExpectedRevision extends Conflict {
  constructor(readonly streamId: string, readonly expected: ExpectedRevision, readonly actual: number | 'no_stream') {
    super(`stream ${streamId} is at revision ${actual}, expected ${expected}`);
  }
}

export abstract class EventStore {
  abstract append(request: AppendRequest): Promise<AppendResult>;
  /**
   * Appends to several streams. Adapters that can (SQLite) do it in one transaction, which is how group
   * commit works; others append in order. Either way each request is idempotent, so a retried batch is safe.
   * A wrong expected revision fails the call with WrongExpectedRevision and writes nothing (SQLite).
   */
  abstract appendBatch(requests: AppendRequest[]): Promise<AppendResult[]>;
  abstract readStream<D = any>(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent<D>[]>;
  /**
   * Reads several streams forwards, each from its own revision; a missing stream reads as []. The ingestor
   * reads a whole batch's order streams at once: SQLite answers in one statement, others read concurrently.
   */
  async readStreams<D = any>(reads: StreamRead[]): Promise<Map<string, RecordedEvent<D>[]>> {
    const results = await Promise.all(reads.map((r) => this.readStream<D>(r.streamId, { fromRevision: r.fromRevision })));
    return new Map(reads.map((r, i) => [r.streamId, results[i]]));
  }
  abstract readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  abstract headPosition(): Promise<number>;
  /** Catch-up subscription to every stream from a position; the handler runs one batch at a time. */
  abstract subscribeToAll(options: SubscribeOptions, handler: (events: RecordedEvent[]) => Promise<void>): Subscription;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}

export function matchesFilter(event: { streamId: string; type: string }, filter?: AllFilter): boolean {
  if (!filter) return true;
  if (filter.eventTypes && !filter.eventTypes.includes(event.type)) return false;
  if (filter.streamPrefixes && !filter.streamPrefixes.some((p) => event.streamId.startsWith(p))) return false;
  return true;
}
