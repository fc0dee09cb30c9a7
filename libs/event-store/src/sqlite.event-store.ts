import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { Conflict, Unavailable } from '@lib/platform/errors';
import {
  AppendRequest,
  AppendResult,
  EventStore,
  ExpectedRevision,
  matchesFilter,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamRead,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevision,
} from './event-store.port';
import { CatchUpSubscription } from './catch-up.subscription';
import { Upcasters } from './upcasting';

type Row = {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: string;
};

export interface SqliteEventStoreOptions {
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** How often a subscription looks for events written by another process; local appends wake it at once. */
  pollMs?: number;
  /** Old event shapes are upcast on read; the file keeps what was appended. */
  upcasters?: Upcasters;
}

/** Embedded event store: one SQLite file in WAL mode; the rowid is the global position. */
export class SqliteEventStore extends EventStore {
  private readonly db: Database.Database;
  private readonly appended = new EventEmitter();
  private readonly pollMs: number;
  private readonly upcasters: Upcasters;
  private readonly stmts;

  constructor(options: SqliteEventStoreOptions) {
    super();
    this.pollMs = options.pollMs ?? 200;
    this.upcasters = options.upcasters ?? new Upcasters();
    this.db = new Database(options.file);
    this.db.pragma('journal_mode = WAL');
    // FULL fsyncs the WAL at every commit, so an acknowledged event survives power loss, not just kill -9.
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        stream_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        type TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (stream_id, revision)
      );
    `);
    this.appended.setMaxListeners(0);
    this.stmts = {
      lastRevision: this.db.prepare<[string], { revision: number }>(
        'SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
      ),
      byEventId: this.db.prepare<[string], { stream_id: string; position: number; revision: number }>(
        'SELECT stream_id, position, revision FROM events WHERE event_id = ?',
      ),
      insert: this.db.prepare(
        `INSERT INTO events (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      forwards: this.db.prepare<[string, number, number], Row>(
        'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      ),
      backwards: this.db.prepare<[string, number, number], Row>(
        'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
      ),
      // One statement for many streams: the (stream_id, revision) index is probed once per requested stream.
      many: this.db.prepare<[string], Row>(
        `SELECT events.* FROM json_each(?) AS wanted
         JOIN events ON events.stream_id = json_extract(wanted.value, '$[0]') AND events.revision >= json_extract(wanted.value, '$[1]')
         ORDER BY wanted.key, events.revision`,
      ),
      all: this.db.prepare<[number, number], Row>('SELECT * FROM events WHERE position > ? ORDER BY position ASC LIMIT ?'),
      head: this.db.prepare<[], { head: number | null }>('SELECT MAX(position) AS head FROM events'),
    };
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    return (await this.appendBatch([request]))[0];
  }

  async appendBatch(requests: AppendRequest[]): Promise<AppendResult[]> {
    if (requests.length === 0) return [];
    const recordedAt = new Date().toISOString();
    const results = this.guard(() => this.db.transaction(() => requests.map((r) => this.appendOne(r, recordedAt)))());
    if (results.some((r) => !r.duplicate)) this.appended.emit('appended');
    return results;
  }

  private appendOne(request: AppendRequest, recordedAt: string): AppendResult {
    const { streamId, events, expectedRevision } = request;
    if (events.length === 0) throw new Conflict(`append to ${streamId} carries no events`);
    const current = this.stmts.lastRevision.get(streamId)?.revision ?? -1;
    // Idempotent append: the same event id again in the same stream is a repeat, not a conflict.
    const existing = this.stmts.byEventId.get(events[0].id);
    if (existing) {
      if (existing.stream_id !== streamId) {
        throw new Conflict(`event ${events[0].id} already exists in stream ${existing.stream_id}`);
      }
      const last = events.length > 1 ? this.stmts.byEventId.get(events[events.length - 1].id) : existing;
      if (!last) throw new WrongExpectedRevision(streamId, expectedRevision, current);
      return { streamId, nextExpectedRevision: current, position: last.position, duplicate: true };
    }
    checkExpected(streamId, expectedRevision, current);
    let revision = current;
    let position = 0;
    for (const e of events) {
      revision += 1;
      const info = this.stmts.insert.run(
        e.id,
        streamId,
        revision,
        e.type,
        e.schemaVersion ?? 1,
        JSON.stringify(e.data),
        JSON.stringify(e.metadata ?? {}),
        recordedAt,
      );
      position = Number(info.lastInsertRowid);
    }
    return { streamId, nextExpectedRevision: revision, position, duplicate: false };
  }

  async readStream<D = any>(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent<D>[]> {
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const rows =
      options.direction === 'backwards'
        ? this.stmts.backwards.all(streamId, options.fromRevision ?? Number.MAX_SAFE_INTEGER, max)
        : this.stmts.forwards.all(streamId, options.fromRevision ?? 0, max);
    return rows.map((row) => this.upcasters.apply(toRecorded(row)));
  }

  override async readStreams<D = any>(reads: StreamRead[]): Promise<Map<string, RecordedEvent<D>[]>> {
    const out = new Map<string, RecordedEvent<D>[]>(reads.map((r) => [r.streamId, []]));
    if (reads.length === 0) return out;
    const rows = this.stmts.many.all(JSON.stringify(reads.map((r) => [r.streamId, r.fromRevision])));
    for (const row of rows) out.get(row.stream_id)!.push(this.upcasters.apply(toRecorded(row)));
    return out;
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let after = options.after;
    // With a filter, keep reading until enough matching events are found or the log ends.
    for (;;) {
      const rows = this.stmts.all.all(after, options.maxCount);
      for (const row of rows) {
        after = row.position;
        if (!options.filter || matchesFilter({ streamId: row.stream_id, type: row.type }, options.filter)) {
          out.push(this.upcasters.apply(toRecorded(row)));
          if (out.length === options.maxCount) return out;
        }
      }
      if (rows.length < options.maxCount || !options.filter) return out;
    }
  }

  async headPosition(): Promise<number> {
    return this.stmts.head.get()?.head ?? 0;
  }

  subscribeToAll(options: SubscribeOptions, handler: (events: RecordedEvent[]) => Promise<void>): Subscription {
    return new CatchUpSubscription(this, options, handler, (wake) => {
      this.appended.on('appended', wake);
      const timer = setInterval(wake, this.pollMs);
      timer.unref();
      return () => {
        this.appended.off('appended', wake);
        clearInterval(timer);
      };
    });
  }

  async ping(): Promise<void> {
    this.guard(() => this.stmts.head.get());
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Driver errors stop here: callers see the port's errors, never a SqliteError. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Conflict) throw e;
      const code = (e as { code?: string }).code ?? '';
      if (code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Conflict('a concurrent append wrote the same revision');
      throw new Unavailable(`event store unavailable: ${(e as Error).message}`);
    }
  }
}

function checkExpected(streamId: string, expected: ExpectedRevision, current: number): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === -1) ||
    (expected === 'stream_exists' && current >= 0) ||
    expected === current;
  if (!ok) throw new WrongExpectedRevision(streamId, expected, current === -1 ? 'no_stream' : current);
}

function toRecorded(row: Row): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    type: row.type,
    schemaVersion: row.schema_version,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    recordedAt: row.recorded_at,
  };
}
