/**
 * PROTOCOL TEST DOUBLE — NOT EventStoreDB. Test-only (excluded from the build by tsconfig.build.json).
 *
 * EventStoreDB cannot be installed on the machines this suite runs on, so this is a small in-memory
 * gRPC server that speaks the wire protocol the real `@eventstore/db-client` speaks, built from the
 * service definitions that ship inside that package (`generated/*_grpc_pb`). It implements only what the
 * EventStoreDB adapter uses, with EventStoreDB's documented semantics as read from the server's source:
 * - ServerFeatures: by default it lists Streams.BatchAppend as supported, as 21.10+ servers do, so the
 *   client appends over one long-lived `Streams.BatchAppend` call; with `batchAppend: false` the service
 *   is absent, the client's feature query gets UNIMPLEMENTED (what 20.x servers answer, and the 6.x
 *   client accepts) and it uses one `Streams.Append` call per append. Both paths are served.
 * - Appends: expected revision any / no_stream / stream_exists / exact, and the idempotency check of the
 *   server's `CheckCommit` (for an exact revision behind the stream: same ids at the same revisions →
 *   success without writing, a partial match → wrong expected version; for any / stream_exists: ids
 *   already in the stream → success without writing). A wrong expected revision is the
 *   `wrong_expected_version` result on Append and an error status carrying EventStoreDB's
 *   WrongExpectedVersion details on BatchAppend, as current servers answer.
 * - Positions are log positions: sparse, strictly increasing, commit == prepare for every event (gRPC
 *   appends are implicit transactions). A successful append reports the transaction's position, i.e. its
 *   first event's; an idempotent one reports none (`no_position`, as 20.x servers do).
 * - `Streams.Read`: streams forwards/backwards from a revision (stream_not_found for a missing stream),
 *   `$all` forwards from a position (inclusive) or backwards (exclusive), and `$all` subscriptions from a
 *   position (exclusive) with a server-side filter on stream name or event type (prefixes or regex):
 *   confirmation, catch-up, a checkpoint and caught-up, then live events.
 * - System events (`$`-prefixed streams and types) are in `$all`, as on a real server.
 *
 * Not modelled: persistence to disk, clusters and leader election, ACLs/credentials, TLS, stream
 * deletion and metadata, link events, persistent subscriptions, max append sizes, deadlines, fell-behind
 * notices, the bounded id cache that makes a real server's `any` idempotency best-effort (see
 * `forgetIdsForAny`). Whether a real server reports a multi-event append's position as its first or its
 * last event's, and an idempotent one with or without a position, differs by version; the double picks
 * the first event and no position; the adapter reads a multi-event append's position back instead.
 */
import * as grpc from '@grpc/grpc-js';
import { Any } from 'google-protobuf/google/protobuf/any_pb';
import { Code } from '@eventstore/db-client/generated/code_pb';
import { ServerFeaturesService } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { AllStreamPosition, Empty, StreamIdentifier, UUID, WrongExpectedVersion } from '@eventstore/db-client/generated/shared_pb';
import { Status } from '@eventstore/db-client/generated/status_pb';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
import { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { randomUUID } from 'node:crypto';

export interface DoubleRecord {
  streamId: string;
  revision: number;
  position: number;
  id: string;
  type: string;
  contentType: string;
  data: Buffer;
  metadata: Buffer;
  /** .NET ticks (100 ns) since the Unix epoch, as the server puts in the `created` property. */
  created: bigint;
}

interface LiveSubscription {
  call: grpc.ServerWritableStream<ReadReq, ReadResp>;
  filter: (r: DoubleRecord) => boolean;
  last: number;
}

export interface DoubleOptions {
  /** Port to bind on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Write a few system events first, as a fresh server does (default true). */
  systemEvents?: boolean;
  /**
   * true (default): answer the client's feature query with BatchAppend supported, as 21.10+ servers do, so
   * the client appends over one long-lived Streams.BatchAppend call. false: answer UNIMPLEMENTED, as 20.x
   * servers do, so the client uses one Streams.Append call per append.
   */
  batchAppend?: boolean;
}

const TICKS_PER_MS = 10_000n;

export class EsdbTestDouble {
  private readonly log: DoubleRecord[] = [];
  private readonly streams = new Map<string, DoubleRecord[]>();
  private readonly live = new Set<LiveSubscription>();
  private server: grpc.Server | null = null;
  private nextPosition = 0;
  private boundPort = 0;
  private readonly interceptors = new Map<string, () => void>();
  /** When true, `any`/`stream_exists` appends no longer recognise ids already written (a real server's id cache is bounded). */
  forgetIdsForAny = false;
  /** Number of appends served, over Append or BatchAppend (to show when the adapter reached the server). */
  appendCalls = 0;
  /** Appends served per gRPC method: which path the client took. */
  readonly appendsBy = { Append: 0, BatchAppend: 0 };
  /** Events written to subscriptions: with a server-side filter only the matching ones travel. */
  sentToSubscriptions = 0;

  private constructor(private readonly options: Required<Pick<DoubleOptions, 'batchAppend'>>) {}

  static async start(options: DoubleOptions = {}): Promise<EsdbTestDouble> {
    const double = new EsdbTestDouble({ batchAppend: options.batchAppend ?? true });
    // A fresh log starts past its header records; no event ever has position 0.
    double.nextPosition = 4096;
    if (options.systemEvents ?? true) {
      double.appendSystemEvent('$users', '$UserCreated');
      double.appendSystemEvent('$user-admin', '$user');
      double.appendSystemEvent('$settings', '$settings');
    }
    await double.listen(options.port ?? 0);
    return double;
  }

  get port(): number {
    return this.boundPort;
  }

  get connectionString(): string {
    return `esdb://127.0.0.1:${this.boundPort}?tls=false`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** Every record in log order, system events included. */
  records(): readonly DoubleRecord[] {
    return this.log;
  }

  /** Stops serving: open calls and connections are cut (clients see UNAVAILABLE). The log stays in memory. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const sub of this.live) sub.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'server shutting down' });
    this.live.clear();
    server.forceShutdown();
  }

  /** Serves the same log again on the same port, like a server restarted with its data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen(this.boundPort);
  }

  /** Ends every live subscription with UNAVAILABLE, as a dropped connection or a leader change does. */
  dropSubscriptions(): number {
    const n = this.live.size;
    for (const sub of this.live) sub.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'subscription dropped by the test' });
    this.live.clear();
    return n;
  }

  /** Runs `fn` once, when the next Append to `streamId` arrives and before it is checked: a concurrent writer. */
  interceptNextAppend(streamId: string, fn: () => void): void {
    this.interceptors.set(streamId, fn);
  }

  /** Writes straight into the log, bypassing gRPC (another writer, or the server's own system events). */
  appendDirect(streamId: string, type: string, data: unknown = {}, id: string = randomUUID()): DoubleRecord {
    return this.write(streamId, [{ id, type, contentType: 'application/json', data: Buffer.from(JSON.stringify(data)), metadata: Buffer.alloc(0) }])[0];
  }

  appendSystemEvent(streamId: string, type: string): DoubleRecord {
    return this.appendDirect(streamId, type, { system: true });
  }

  private listen(port: number): Promise<void> {
    const server = new grpc.Server();
    server.addService(StreamsService, {
      append: (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>) => this.append(call, callback),
      batchAppend: (call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => this.batchAppend(call),
      read: (call: grpc.ServerWritableStream<ReadReq, ReadResp>) => this.read(call),
    });
    if (this.options.batchAppend) {
      server.addService(ServerFeaturesService, {
        getSupportedMethods: (_call: grpc.ServerUnaryCall<Empty, SupportedMethods>, callback: grpc.sendUnaryData<SupportedMethods>) => {
          const supported = new SupportedMethods();
          supported.setEventStoreServerVersion('24.10.0 (protocol test double)');
          supported.setMethodsList(
            ['Append', 'BatchAppend', 'Read'].map((name) => {
              const method = new SupportedMethod();
              method.setServiceName('event_store.client.streams.Streams');
              method.setMethodName(name);
              return method;
            }),
          );
          callback(null, supported);
        },
      });
    }
    return new Promise((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error) return reject(error);
        this.boundPort = bound;
        this.server = server;
        resolve();
      });
    });
  }

  // ---- Append and BatchAppend -------------------------------------------------------------------

  /** 20.x clients' path: one client-streaming call per append, a result or a wrong expected version. */
  private append(call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>): void {
    let options: AppendReq.Options | undefined;
    const proposed: AppendReq.ProposedMessage[] = [];
    call.on('data', (req: AppendReq) => {
      if (req.hasOptions()) options = req.getOptions();
      else if (req.hasProposedMessage()) proposed.push(req.getProposedMessage()!);
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      if (!options) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'the first message must carry the options' });
      const expected: Expected = options.hasRevision() ? Number(options.getRevision()) : options.hasNoStream() ? -1 : options.hasStreamExists() ? 'stream_exists' : 'any';
      const events = proposedEvents(proposed);
      if (!events) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'type and content-type are required' });
      this.appendsBy.Append += 1;
      const outcome = this.commit(streamName(options.getStreamIdentifier()!), expected, events);
      const resp = new AppendResp();
      if (outcome.ok) {
        const ok = new AppendResp.Success();
        if (outcome.revision < 0) ok.setNoStream(new Empty());
        else ok.setCurrentRevision(String(outcome.revision));
        if (outcome.position === null) ok.setNoPosition(new Empty());
        else {
          const position = new AppendResp.Position();
          position.setCommitPosition(String(outcome.position));
          position.setPreparePosition(String(outcome.position));
          ok.setPosition(position);
        }
        resp.setSuccess(ok);
      } else {
        const wrong = new AppendResp.WrongExpectedVersion();
        if (outcome.current < 0) wrong.setCurrentNoStream(new Empty());
        else wrong.setCurrentRevision(String(outcome.current));
        if (typeof expected === 'number' && expected >= 0) wrong.setExpectedRevision(String(expected));
        else if (expected === -1) wrong.setExpectedNoStream(new Empty());
        else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
        else wrong.setExpectedAny(new Empty());
        resp.setWrongExpectedVersion(wrong);
      }
      callback(null, resp);
    });
  }

  /**
   * 21.10+ clients' path: one long-lived bidirectional call carrying many appends, each named by a
   * correlation id and possibly split over several requests (the last one is final). A wrong expected
   * version is an error status whose details carry EventStoreDB's WrongExpectedVersion message.
   */
  private batchAppend(call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
    const pending = new Map<string, { options?: BatchAppendReq.Options; messages: BatchAppendReq.ProposedMessage[] }>();
    call.on('data', (req: BatchAppendReq) => {
      const correlation = req.getCorrelationId()!;
      const key = correlation.getString();
      const entry = pending.get(key) ?? { messages: [] };
      pending.set(key, entry);
      if (req.hasOptions()) entry.options = req.getOptions();
      entry.messages.push(...req.getProposedMessagesList());
      if (!req.getIsFinal()) return;
      pending.delete(key);
      const options = entry.options;
      if (!options) return call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'the first request of an append must carry the options' });
      const expected: Expected = options.hasStreamPosition() ? Number(options.getStreamPosition()) : options.hasNoStream() ? -1 : options.hasStreamExists() ? 'stream_exists' : 'any';
      const events = proposedEvents(entry.messages);
      if (!events) return call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'type and content-type are required' });
      this.appendsBy.BatchAppend += 1;
      const outcome = this.commit(streamName(options.getStreamIdentifier()!), expected, events);
      const resp = new BatchAppendResp();
      resp.setCorrelationId(correlation);
      resp.setStreamIdentifier(options.getStreamIdentifier());
      if (outcome.ok) {
        const ok = new BatchAppendResp.Success();
        if (outcome.revision < 0) ok.setNoStream(new Empty());
        else ok.setCurrentRevision(String(outcome.revision));
        if (outcome.position === null) ok.setNoPosition(new Empty());
        else {
          const position = new AllStreamPosition();
          position.setCommitPosition(String(outcome.position));
          position.setPreparePosition(String(outcome.position));
          ok.setPosition(position);
        }
        resp.setSuccess(ok);
      } else {
        const details = new WrongExpectedVersion();
        if (outcome.current < 0) details.setCurrentNoStream(new Empty());
        else details.setCurrentStreamRevision(String(outcome.current));
        if (typeof expected === 'number' && expected >= 0) details.setExpectedStreamPosition(String(expected));
        else if (expected === -1) details.setExpectedNoStream(new Empty());
        else if (expected === 'stream_exists') details.setExpectedStreamExists(new Empty());
        else details.setExpectedAny(new Empty());
        const any = new Any();
        any.pack(details.serializeBinary(), 'event_store.client.WrongExpectedVersion');
        const status = new Status();
        status.setCode(Code.FAILED_PRECONDITION);
        status.setMessage('Wrong expected version.');
        status.setDetails(any);
        resp.setError(status);
      }
      call.write(resp);
    });
    call.on('error', () => undefined);
    call.on('end', () => call.end());
  }

  /** The server's CheckCommit (expected -1 is no_stream), then the write. */
  private commit(streamId: string, expected: Expected, events: ProposedEvent[]): Outcome {
    this.appendCalls += 1;
    const intercept = this.interceptors.get(streamId);
    if (intercept) {
      this.interceptors.delete(streamId);
      intercept();
    }
    const stream = this.streams.get(streamId) ?? [];
    const current = stream.length - 1;
    const ids = events.map((e) => e.id);
    const wrong: Outcome = { ok: false, current };
    if (expected === 'stream_exists' && current < 0) return wrong;
    if (expected === 'any' || expected === 'stream_exists') {
      // Idempotency by id within the stream: all found → success without writing; only some → wrong version.
      const found = this.forgetIdsForAny ? [] : ids.map((id) => stream.find((r) => r.id === id));
      if (found.length > 0 && found[0]) {
        if (found.some((r) => !r)) return wrong;
        return { ok: true, revision: found[found.length - 1]!.revision, position: null };
      }
    } else if (expected < current) {
      // Behind the stream: a repeat of the events at expected+1.. is idempotent, anything else is a conflict.
      for (let i = 0; i < ids.length; i++) {
        if (stream[expected + 1 + i]?.id !== ids[i]) return wrong;
      }
      return { ok: true, revision: expected + ids.length, position: null };
    } else if (expected > current) {
      return wrong;
    }
    if (events.length === 0) return { ok: true, revision: current, position: null };
    const written = this.write(streamId, events);
    return { ok: true, revision: written[written.length - 1].revision, position: written[0].position };
  }

  private write(streamId: string, events: Omit<DoubleRecord, 'streamId' | 'revision' | 'position' | 'created'>[]): DoubleRecord[] {
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    const created = BigInt(Date.now()) * TICKS_PER_MS;
    const written = events.map((e) => {
      const record: DoubleRecord = { ...e, streamId, revision: stream.length, position: this.nextPosition, created };
      // Log positions advance by the record's size, so they are sparse like a real transaction file's.
      this.nextPosition += 96 + e.data.length + e.metadata.length + e.type.length + streamId.length;
      stream.push(record);
      this.log.push(record);
      return record;
    });
    for (const sub of this.live) {
      for (const r of written) {
        if (r.position > sub.last && sub.filter(r)) {
          sub.call.write(eventResponse(r));
          sub.last = r.position;
          this.sentToSubscriptions += 1;
        }
      }
    }
    return written;
  }

  // ---- Read ---------------------------------------------------------------------------------------

  private read(call: grpc.ServerWritableStream<ReadReq, ReadResp>): void {
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'options are required' });
      return;
    }
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const filter = filterOf(options);
    if (options.hasSubscription()) {
      if (options.hasAll()) this.subscribe(call, options.getAll()!, filter);
      else call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the test double subscribes to $all only' });
      return;
    }
    const count = Number(options.getCount());
    let selected: DoubleRecord[];
    if (options.hasStream()) {
      const so = options.getStream()!;
      const streamId = Buffer.from(so.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
      const stream = this.streams.get(streamId);
      if (!stream) {
        const resp = new ReadResp();
        const notFound = new ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(streamIdentifier(streamId));
        resp.setStreamNotFound(notFound);
        call.write(resp);
        return void call.end();
      }
      if (backwards) {
        const from = so.hasEnd() ? stream.length - 1 : so.hasStart() ? 0 : Number(so.getRevision());
        selected = stream.filter((r) => r.revision <= from).reverse();
      } else {
        const from = so.hasStart() ? 0 : so.hasEnd() ? stream.length : Number(so.getRevision());
        selected = stream.filter((r) => r.revision >= from);
      }
    } else {
      const ao = options.getAll()!;
      if (backwards) {
        // Backwards reads take post-positions: the event at the position itself is not included.
        const before = ao.hasEnd() ? Number.POSITIVE_INFINITY : ao.hasStart() ? 0 : Number(ao.getPosition()!.getCommitPosition());
        selected = this.log.filter((r) => r.position < before && filter(r)).reverse();
      } else {
        // Forwards reads take pre-positions: the event at the position is included.
        const from = ao.hasStart() ? 0 : ao.hasEnd() ? Number.POSITIVE_INFINITY : Number(ao.getPosition()!.getCommitPosition());
        selected = this.log.filter((r) => r.position >= from && filter(r));
      }
    }
    for (const r of selected.slice(0, count)) call.write(eventResponse(r));
    call.end();
  }

  private subscribe(call: grpc.ServerWritableStream<ReadReq, ReadResp>, all: ReadReq.Options.AllOptions, filter: (r: DoubleRecord) => boolean): void {
    const confirmation = new ReadResp();
    const confirmed = new ReadResp.SubscriptionConfirmation();
    confirmed.setSubscriptionId(randomUUID());
    confirmation.setConfirmation(confirmed);
    call.write(confirmation);

    // A subscription's start position is exclusive: it delivers the events after it.
    const head = this.log.length > 0 ? this.log[this.log.length - 1].position : 0;
    const after = all.hasStart() ? -1 : all.hasEnd() ? head : Number(all.getPosition()!.getCommitPosition());
    const sub: LiveSubscription = { call, filter, last: after };
    // Catch-up and going live happen in one turn of the event loop: no append can fall between them.
    for (const r of this.log) {
      if (r.position > sub.last && filter(r)) {
        call.write(eventResponse(r));
        sub.last = r.position;
        this.sentToSubscriptions += 1;
      }
    }
    const checkpoint = new ReadResp();
    const cp = new ReadResp.Checkpoint();
    cp.setCommitPosition(String(Math.max(0, sub.last)));
    cp.setPreparePosition(String(Math.max(0, sub.last)));
    checkpoint.setCheckpoint(cp);
    call.write(checkpoint);
    const caughtUp = new ReadResp();
    caughtUp.setCaughtUp(new ReadResp.CaughtUp());
    call.write(caughtUp);

    this.live.add(sub);
    const remove = () => this.live.delete(sub);
    call.on('cancelled', remove);
    call.on('close', remove);
    call.on('error', remove);
  }
}

function filterOf(options: ReadReq.Options): (r: DoubleRecord) => boolean {
  if (!options.hasFilter()) return () => true;
  const f = options.getFilter()!;
  const byStream = f.hasStreamIdentifier();
  const expr = byStream ? f.getStreamIdentifier()! : f.getEventType()!;
  const prefixes = expr.getPrefixList();
  const regex = expr.getRegex() ? new RegExp(expr.getRegex()) : null;
  return (r) => {
    const subject = byStream ? r.streamId : r.type;
    if (prefixes.length > 0) return prefixes.some((p) => subject.startsWith(p));
    return regex ? regex.test(subject) : true;
  };
}

function streamIdentifier(streamId: string): StreamIdentifier {
  const id = new StreamIdentifier();
  id.setStreamName(Uint8Array.from(Buffer.from(streamId, 'utf8')));
  return id;
}

function eventResponse(r: DoubleRecord): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const uuid = new UUID();
  uuid.setString(r.id);
  recorded.setId(uuid);
  recorded.setStreamIdentifier(streamIdentifier(r.streamId));
  recorded.setStreamRevision(String(r.revision));
  recorded.setPreparePosition(String(r.position));
  recorded.setCommitPosition(String(r.position));
  recorded.getMetadataMap().set('type', r.type);
  recorded.getMetadataMap().set('content-type', r.contentType);
  recorded.getMetadataMap().set('created', String(r.created));
  recorded.setData(Uint8Array.from(r.data));
  recorded.setCustomMetadata(Uint8Array.from(r.metadata));
  const event = new ReadResp.ReadEvent();
  event.setEvent(recorded);
  event.setCommitPosition(String(r.position));
  const resp = new ReadResp();
  resp.setEvent(event);
  return resp;
}

type Expected = number | 'any' | 'stream_exists';
type ProposedEvent = Omit<DoubleRecord, 'streamId' | 'revision' | 'position' | 'created'>;
/** A success reports the revision and the transaction's position (null: nothing written, `no_position`). */
type Outcome = { ok: true; revision: number; position: number | null } | { ok: false; current: number };

function streamName(identifier: StreamIdentifier): string {
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

/** The proposed events, or null when one lacks the type or content-type the server requires. */
function proposedEvents(messages: (AppendReq.ProposedMessage | BatchAppendReq.ProposedMessage)[]): ProposedEvent[] | null {
  const events: ProposedEvent[] = [];
  for (const m of messages) {
    const type = m.getMetadataMap().get('type');
    const contentType = m.getMetadataMap().get('content-type');
    if (!type || !contentType) return null;
    events.push({ id: m.getId()!.getString().toLowerCase(), type, contentType, data: Buffer.from(m.getData_asU8()), metadata: Buffer.from(m.getCustomMetadata_asU8()) });
  }
  return events;
}
