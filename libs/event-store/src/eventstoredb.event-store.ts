import {
  AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  ReadPosition,
  ResolvedEvent,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  isCommandError,
  MaxAppendSizeExceededError,
  StreamDeletedError,
} from '@eventstore/db-client';
import { AppError, Conflict, Unavailable, ValidationFailed } from '@lib/platform/errors';
import { deterministicUuid } from '@lib/platform/ids';
import {
  AppendRequest,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  matchesFilter,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevision,
} from './event-store.port';
import { EventStoreDbSubscription } from './eventstoredb.subscription';
import { Upcasters } from './upcasting';

export interface EventStoreDbOptions {
  /** `esdb://…` or `kurrentdb://…` (same grammar), e.g. `esdb://eventstore:2113?tls=false`. */
  connectionString: string;
  upcasters?: Upcasters;
  /**
   * How many of a stream's last events an append searches for its event ids. EventStoreDB itself only
   * recognises a repeat at the expected revision it was first sent with (or, for `any`, among recently
   * written ids); this makes a repeat with a newer expected revision, or with `any`, a duplicate too.
   */
  idempotencyWindow?: number;
  /** Attempts per operation when the server is unavailable (a restart, a leader change). */
  attempts?: number;
  retryDelayMs?: number;
  pingTimeoutMs?: number;
  /** Backoff cap for a subscription that resubscribes after a dropped connection or a failing handler. */
  maxBackoffMs?: number;
}

/** What the adapter writes as the event's custom metadata: the envelope, and the caller's metadata verbatim. */
interface Envelope {
  schemaVersion: number;
  /** Business keys copied from the event so they can be read without parsing the data. */
  programId?: string;
  occurredAt?: string;
  /** EventStoreDB's own names, understood by its `$by_correlation_id` projection and its UI. */
  $correlationId?: string;
  $causationId?: string;
  /** The port's id when it is not a UUID (EventStoreDB ids must be): the stored id derives from it. */
  eventId?: string;
  meta: Record<string, unknown>;
}

type Raw = { id: string; streamId: string; revision: number; position: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_POSITION = 2n ** 63n;
/** Pages for $all reads; system events and filtered-out events are skipped client-side. */
const PAGE = 1000;
/** Reads in flight at once while a batch checks its expected revisions (an ingest batch can name a thousand streams). */
const PLAN_CONCURRENCY = 32;

/**
 * The event store port on EventStoreDB / KurrentDB, through `@eventstore/db-client`.
 *
 * Positions: EventStoreDB positions events in `$all` by (commit, prepare) log positions. Events appended
 * over gRPC are implicit transactions, so each event's commit position equals its prepare position, the
 * log offset of its own record: unique, strictly increasing in `$all` order, sparse. The port's number
 * position is that commit position (exact as a JS number up to 2^53 bytes of log); going back, position P
 * is `{commit: P, prepare: P}`. Position 0 is never an event (the log starts with its header records),
 * so `after: 0` reads from the start. Events written by legacy explicit transactions (TCP API) are not
 * supported: their commit and prepare positions differ.
 *
 * System events (`$`-prefixed streams or types, such as `$metadata`, `$settings`, users, stats) are
 * never returned: not by readAll, not by headPosition, not to subscriptions (filtered on the server).
 */
export class EventStoreDbEventStore extends EventStore {
  private readonly client: EventStoreDBClient;
  private readonly upcasters: Upcasters;
  private readonly window: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly pingTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private closed = false;

  constructor(options: EventStoreDbOptions) {
    super();
    this.client = EventStoreDBClient.connectionString(options.connectionString.replace(/^kurrentdb(\+discover)?:\/\//, 'esdb$1://'));
    this.upcasters = options.upcasters ?? new Upcasters();
    this.window = options.idempotencyWindow ?? 100;
    this.attempts = options.attempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    return (await this.appendBatch([request]))[0];
  }

  /**
   * EventStoreDB (v20–v24, this client) has no multi-stream transaction, so requests are appended one by
   * one, in order. Every expected revision is checked first, all at once: a conflict that is already
   * visible fails the call before anything is written. A writer that gets in between that check and
   * a later request's append still fails the call with the earlier requests written; retrying the whole
   * batch is safe, since each request is idempotent by its event ids.
   */
  async appendBatch(requests: AppendRequest[]): Promise<AppendResult[]> {
    if (requests.length === 0) return [];
    for (const r of requests) if (r.events.length === 0) throw new Conflict(`append to ${r.streamId} carries no events`);
    const plans = await mapLimit(requests, PLAN_CONCURRENCY, (r) => this.retrying(() => this.plan(r)));
    const results: AppendResult[] = [];
    for (let i = 0; i < requests.length; i++) {
      const planned = plans[i];
      results.push(planned ?? (await this.retrying((attempt) => this.write(requests[i], attempt > 1))));
    }
    return results;
  }

  /**
   * Decides from the stream's tail whether the request is a repeat (its events are already there: the
   * result, nothing to write), a conflict (throws), or a write (null).
   */
  private async plan(request: AppendRequest): Promise<AppendResult | null> {
    const { streamId, expectedRevision } = request;
    const ids = request.events.map(esdbId);
    const tail = await this.readRaw(streamId, { direction: 'backwards', maxCount: Math.max(this.window, ids.length) });
    const current = tail.length > 0 ? tail[0].revision : -1;
    const repeat = findRun(tail, ids);
    if (repeat === 'partial') throw new WrongExpectedRevision(streamId, expectedRevision, actualOf(current));
    if (repeat) return { streamId, nextExpectedRevision: current, position: repeat.position, duplicate: true };
    if (expectedRevision === 'any') return null;
    if (expectedRevision === 'stream_exists') {
      if (current < 0) throw new WrongExpectedRevision(streamId, expectedRevision, 'no_stream');
      return null;
    }
    const expected = expectedRevision === 'no_stream' ? -1 : expectedRevision;
    if (expected === current) return null;
    if (expected < current) {
      // The same request sent before the stream moved on further than the tail we read: its events sit right after `expected`.
      const after = await this.readRaw(streamId, { fromRevision: expected + 1, maxCount: ids.length });
      const old = findRun(after, ids);
      if (old && old !== 'partial') return { streamId, nextExpectedRevision: current, position: old.position, duplicate: true };
    }
    throw new WrongExpectedRevision(streamId, expectedRevision, actualOf(current));
  }

  private async write(request: AppendRequest, replan: boolean): Promise<AppendResult> {
    this.ensureOpen();
    if (replan) {
      // An earlier attempt may have been written before the connection dropped.
      const planned = await this.plan(request);
      if (planned) return planned;
    }
    const { streamId, expectedRevision, events } = request;
    let result;
    try {
      result = await this.client.appendToStream(streamId, events.map(toJsonEvent), { expectedRevision: toEsdbExpected(expectedRevision) });
    } catch (e) {
      if (!(e instanceof WrongExpectedVersionError)) throw e;
      // Someone wrote between our check and our append; it may have been this very request (a redelivery racing itself).
      const planned = await this.plan(request);
      if (planned) return planned;
      const current = e.actualVersion;
      throw new WrongExpectedRevision(streamId, expectedRevision, typeof current === 'bigint' ? Number(current) : 'no_stream');
    }
    const next = Number(result.nextExpectedRevision);
    // With one event the reported position is that event's. A multi-event append reports the position of
    // the write as a whole (which event that names differs across server versions), and an idempotent one
    // may report none: read the last event back for its exact position.
    if (events.length === 1 && result.position) return { streamId, nextExpectedRevision: next, position: toPosition(result.position), duplicate: false };
    const [last] = await this.readRaw(streamId, { fromRevision: next, maxCount: 1 });
    const duplicate = result.position === undefined;
    return { streamId, nextExpectedRevision: duplicate ? (await this.currentRevision(streamId)) : next, position: last?.position ?? 0, duplicate };
  }

  async readStream<D = any>(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent<D>[]> {
    const events = await this.retrying(() => this.readResolved(streamId, options));
    return events.map((e) => this.upcasters.apply(fromEsdb(e.event!)));
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let last = options.after;
    for (;;) {
      const page = await this.retrying(() => this.readAllPage(last, FORWARDS));
      let moved = false;
      for (const resolved of page) {
        const e = resolved.event!;
        const position = positionOf(e);
        // Forward reads of $all start at the given position inclusively: the event there was seen already.
        if (position <= last) continue;
        last = position;
        moved = true;
        if (isSystem(e) || !matchesFilter(e, options.filter)) continue;
        out.push(this.upcasters.apply(fromEsdb(e)));
        if (out.length === options.maxCount) return out;
      }
      if (page.length < PAGE || !moved) return out;
    }
  }

  async headPosition(): Promise<number> {
    let before: number | null = null;
    for (;;) {
      const page = await this.retrying(() => this.readAllPage(before, BACKWARDS, 64));
      for (const resolved of page) {
        if (!isSystem(resolved.event!)) return positionOf(resolved.event!);
        before = positionOf(resolved.event!);
      }
      if (page.length < 64) return 0;
    }
  }

  subscribeToAll(options: SubscribeOptions, handler: (events: RecordedEvent[]) => Promise<void>): Subscription {
    this.ensureOpen();
    const subscription = new EventStoreDbSubscription(
      this.client,
      options,
      handler,
      (resolved) => {
        const e = resolved.event;
        if (!e || isSystem(e) || !matchesFilter(e, options.filter)) return null;
        return this.upcasters.apply(fromEsdb(e));
      },
      { translate: (e) => this.translate(e), maxBackoffMs: this.maxBackoffMs, onStopped: (s) => this.subscriptions.delete(s) },
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** One cheap read of `$all` within a short deadline: answers whether the server serves us now. */
  async ping(): Promise<void> {
    this.ensureOpen();
    let timer: NodeJS.Timeout | undefined;
    const read = this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Unavailable(`event store did not answer within ${this.pingTimeoutMs} ms`)), this.pingTimeoutMs);
    });
    try {
      await Promise.race([collect<AllStreamResolvedEvent>(read), timeout]);
    } catch (e) {
      void read.cancel().catch(() => undefined);
      throw this.translate(e);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
    // dispose() cancels open calls but keeps the channel; the client has no public way to close it.
    const channel = await (this.client as unknown as { getChannel?: () => Promise<{ close(): void }> }).getChannel?.().catch(() => null);
    channel?.close();
  }

  // ---- reads ------------------------------------------------------------------------------------

  private async readResolved(streamId: string, options: ReadStreamOptions): Promise<ResolvedEvent[]> {
    this.ensureOpen();
    const backwards = options.direction === 'backwards';
    try {
      const events = await collect<ResolvedEvent>(
        this.client.readStream(streamId, {
          direction: backwards ? BACKWARDS : FORWARDS,
          fromRevision: options.fromRevision === undefined ? (backwards ? END : START) : BigInt(options.fromRevision),
          maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
        }),
      );
      return events.filter((e) => e.event !== undefined);
    } catch (e) {
      if (e instanceof StreamNotFoundError) return [];
      throw e;
    }
  }

  private async readRaw(streamId: string, options: ReadStreamOptions): Promise<Raw[]> {
    return (await this.readResolved(streamId, options)).map((r) => ({
      id: r.event!.id,
      streamId: r.event!.streamId,
      revision: Number(r.event!.revision),
      position: positionOf(r.event!),
    }));
  }

  private async currentRevision(streamId: string): Promise<number> {
    const [last] = await this.readRaw(streamId, { direction: 'backwards', maxCount: 1 });
    return last ? last.revision : -1;
  }

  /** Forwards: the events from `from` (inclusive); backwards: the events before `from` (exclusive). null: from the start / the end. */
  private async readAllPage(from: number | null, direction: typeof FORWARDS | typeof BACKWARDS, maxCount = PAGE): Promise<AllStreamResolvedEvent[]> {
    this.ensureOpen();
    const fromPosition: ReadPosition = from === null || from <= 0 ? (direction === FORWARDS ? START : END) : { commit: BigInt(from), prepare: BigInt(from) };
    const page = await collect<AllStreamResolvedEvent>(this.client.readAll({ fromPosition, direction, maxCount }));
    return page.filter((r) => r.event !== undefined);
  }

  // ---- errors -----------------------------------------------------------------------------------

  /** Runs `op`, retrying while the server is unavailable; every driver error leaves as one of the port's errors. */
  private async retrying<T>(op: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op(attempt);
      } catch (e) {
        const error = this.translate(e);
        if (!(error instanceof Unavailable) || attempt >= this.attempts || this.closed) throw error;
        await new Promise((r) => setTimeout(r, this.retryDelayMs * attempt));
      }
    }
  }

  private translate(e: unknown): Error {
    if (e instanceof AppError) return e;
    if (e instanceof MaxAppendSizeExceededError) return new ValidationFailed(`the append is larger than the event store accepts: ${e.message}`);
    if (e instanceof StreamDeletedError) return new Conflict(`the stream was deleted in the event store: ${e.message}`);
    // Unavailable, deadline exceeded, cancelled, not leader, access denied, unknown, a refused connection:
    // the store cannot serve us now, which callers answer with 503 (never a gRPC status).
    const what = isCommandError(e as Error) ? `${(e as { type: string }).type}: ${(e as Error).message}` : ((e as Error)?.message ?? String(e));
    return new Unavailable(`event store unavailable: ${what}`);
  }

  private ensureOpen(): void {
    if (this.closed) throw new Unavailable('event store unavailable: the store was closed');
  }
}

/** A stored EventStoreDB event as the port's RecordedEvent, before upcasting. Exported for test tooling. */
export function fromEsdb(e: NonNullable<ResolvedEvent['event']>): RecordedEvent {
  const stored = (e.metadata && !(e.metadata instanceof Uint8Array) ? e.metadata : {}) as Partial<Envelope>;
  const enveloped = typeof stored.schemaVersion === 'number' && typeof stored.meta === 'object' && stored.meta !== null;
  return {
    id: enveloped && typeof stored.eventId === 'string' ? stored.eventId : e.id,
    streamId: e.streamId,
    revision: Number(e.revision),
    position: positionOf(e),
    type: e.type,
    schemaVersion: enveloped ? stored.schemaVersion! : 1,
    data: e.isJson ? (e.data as Record<string, unknown>) : { binary: Buffer.from(e.data as Uint8Array).toString('base64') },
    metadata: enveloped ? stored.meta! : (stored as Record<string, unknown>),
    recordedAt: e.created.toISOString(),
  };
}

function toJsonEvent(e: EventToAppend) {
  const id = esdbId(e);
  const meta = e.metadata ?? {};
  const envelope: Envelope = { schemaVersion: e.schemaVersion ?? 1, meta };
  if (typeof e.data.programId === 'string') envelope.programId = e.data.programId;
  if (typeof e.data.occurredAt === 'string') envelope.occurredAt = e.data.occurredAt;
  const causation = typeof meta.causationId === 'string' ? meta.causationId : undefined;
  const correlation = typeof meta.correlationId === 'string' ? meta.correlationId : causation;
  if (correlation) envelope.$correlationId = correlation;
  if (causation) envelope.$causationId = causation;
  if (id !== e.id) envelope.eventId = e.id;
  return jsonEvent({ id, type: e.type, data: e.data, metadata: envelope as unknown as Record<string, unknown> });
}

/** EventStoreDB ids are UUIDs (returned lower-case); any other id maps to a UUID derived from it, kept in the envelope. */
function esdbId(e: { id: string }): string {
  return UUID.test(e.id) ? e.id : deterministicUuid('event-id', e.id);
}

/** Where the ids run as a contiguous sequence in the events read (in either order): a repeat, part of one, or none. */
function findRun(events: Raw[], ids: string[]): Raw | 'partial' | null {
  const byId = new Map(events.map((e) => [e.id, e]));
  const first = byId.get(ids[0]);
  if (!first) return null;
  let last = first;
  for (let i = 1; i < ids.length; i++) {
    const e = byId.get(ids[i]);
    if (!e || e.revision !== first.revision + i) return 'partial';
    last = e;
  }
  return last;
}

function toEsdbExpected(expected: ExpectedRevision): 'any' | 'no_stream' | 'stream_exists' | bigint {
  return typeof expected === 'number' ? BigInt(expected) : expected;
}

function actualOf(current: number): number | 'no_stream' {
  return current < 0 ? 'no_stream' : current;
}

function toPosition(p: { commit: bigint; prepare: bigint }): number {
  return safe(p.commit > 0n && p.commit < MAX_POSITION ? p.commit : p.prepare);
}

/** The event's commit position; a stream read that carries none has the same number as its prepare position. */
function positionOf(e: { position?: { commit: bigint; prepare: bigint } }): number {
  return e.position ? toPosition(e.position) : 0;
}

function safe(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Unavailable(`event store position ${n} exceeds what this adapter maps to a number`);
  return Number(n);
}

function isSystem(e: { streamId: string; type: string }): boolean {
  return e.streamId.startsWith('$') || e.type.startsWith('$');
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function collect<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  return (async () => {
    const out: T[] = [];
    for await (const item of stream) out.push(item as T);
    return out;
  })();
}
