import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { Unavailable } from '@lib/platform/errors';
import {
  AppendRequest,
  AppendResult,
  EventStore,
  matchesFilter,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamRead,
  SubscribeOptions,
  Subscription,
} from './event-store.port';
import { CatchUpSubscription } from './catch-up.subscription';
import { Upcasters } from './upcasting';
import { SqliteWriter } from './sqlite.writer';

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
  private readonly writer: SqliteWriter;

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
    // Appends go through a writer thread with a connection of its own; this connection only reads.
    this.writer = new SqliteWriter({ file: options.file, synchronous: options.synchronous ?? 'FULL' });
    this.stmts = {
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
    const results = await this.writer.append(requests, new Date().toISOString());
    if (results.some((r) => !r.duplicate)) this.appended.emit('appended');
    return results;
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
    await this.writer.close();
    if (this.db.open) this.db.close();
  }

  /** Driver errors stop here: callers see the port's errors, never a SqliteError. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw new Unavailable(`event store unavailable: ${(e as Error).message}`);
    }
  }
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
