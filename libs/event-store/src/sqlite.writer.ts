import { Worker } from 'node:worker_threads';
import { Conflict, Unavailable } from '@lib/platform/errors';
import { AppendRequest, AppendResult, ExpectedRevision, WrongExpectedRevision } from './event-store.port';

/** An append request as it crosses to the writer thread: data and metadata already serialised. */
type WireRequest = [streamId: string, expected: ExpectedRevision, events: [id: string, type: string, schemaVersion: number, data: string, metadata: string][]];

type WireFailure =
  | { kind: 'wrong_expected_revision'; streamId: string; expected: ExpectedRevision; actual: number | 'no_stream' }
  | { kind: 'conflict'; message: string }
  | { kind: 'unavailable'; message: string };

type Reply = { id: number; results: AppendResult[] } | { id: number; failure: WireFailure };

interface WriterData {
  driver: string;
  file: string;
  synchronous: 'FULL' | 'NORMAL';
}

/**
 * The writer thread's whole program. It runs from its source text (`new Worker(…, { eval: true })`), so it
 * loads the same way from the build and under ts-jest: it must not use anything from outside its body.
 */
function writerThread(data: WriterData, port: import('node:worker_threads').MessagePort): void {
  const Database = require(data.driver);
  const db = new Database(data.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${data.synchronous}`);
  db.pragma('busy_timeout = 5000');
  const lastRevision = db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1');
  const byEventId = db.prepare('SELECT stream_id, position, revision FROM events WHERE event_id = ?');
  const insert = db.prepare(
    'INSERT INTO events (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );

  class Refused extends Error {
    constructor(readonly failure: WireFailure) {
      super('refused');
    }
  }

  const appendOne = ([streamId, expected, events]: WireRequest, recordedAt: string): AppendResult => {
    if (events.length === 0) throw new Refused({ kind: 'conflict', message: `append to ${streamId} carries no events` });
    const current: number = lastRevision.get(streamId)?.revision ?? -1;
    // Idempotent append: the same event id again in the same stream is a repeat, not a conflict.
    const existing = byEventId.get(events[0][0]);
    if (existing) {
      if (existing.stream_id !== streamId) throw new Refused({ kind: 'conflict', message: `event ${events[0][0]} already exists in stream ${existing.stream_id}` });
      const last = events.length > 1 ? byEventId.get(events[events.length - 1][0]) : existing;
      if (!last) throw new Refused({ kind: 'wrong_expected_revision', streamId, expected, actual: current === -1 ? 'no_stream' : current });
      return { streamId, nextExpectedRevision: current, position: last.position, duplicate: true };
    }
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && current === -1) ||
      (expected === 'stream_exists' && current >= 0) ||
      expected === current;
    if (!ok) throw new Refused({ kind: 'wrong_expected_revision', streamId, expected, actual: current === -1 ? 'no_stream' : current });
    let revision = current;
    let position = 0;
    for (const [id, type, schemaVersion, json, metadata] of events) {
      revision += 1;
      position = Number(insert.run(id, streamId, revision, type, schemaVersion, json, metadata, recordedAt).lastInsertRowid);
    }
    return { streamId, nextExpectedRevision: revision, position, duplicate: false };
  };
  // One transaction per batch: all of it is written, or none of it.
  const write = db.transaction((requests: WireRequest[], recordedAt: string) => requests.map((r) => appendOne(r, recordedAt)));

  port.on('message', (message: { id: number; requests: WireRequest[]; recordedAt: string } | 'close') => {
    if (message === 'close') {
      db.close();
      port.close();
      return;
    }
    let reply: Reply;
    try {
      reply = { id: message.id, results: write(message.requests, message.recordedAt) };
    } catch (e) {
      if (e instanceof Refused) reply = { id: message.id, failure: e.failure };
      else if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') reply = { id: message.id, failure: { kind: 'conflict', message: 'a concurrent append wrote the same revision' } };
      else reply = { id: message.id, failure: { kind: 'unavailable', message: `event store unavailable: ${(e as Error).message}` } };
    }
    port.postMessage(reply);
  });
}

/**
 * Appends run on a thread of their own. A commit with synchronous=FULL waits for fsync: on this thread the
 * event loop keeps parsing, validating and projecting meanwhile, and the next group commit fills up.
 */
export class SqliteWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (r: AppendResult[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly data: Omit<WriterData, 'driver'>) {}

  append(requests: AppendRequest[], recordedAt: string): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Unavailable('event store unavailable: it is closed'));
    const wire: WireRequest[] = requests.map((r) => [
      r.streamId,
      r.expectedRevision,
      r.events.map((e) => [e.id, e.type, e.schemaVersion ?? 1, JSON.stringify(e.data), JSON.stringify(e.metadata ?? {})]),
    ]);
    const id = this.nextId++;
    const worker = this.thread();
    // The thread keeps the process alive only while an append waits for it.
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, requests: wire, recordedAt });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    // Appends already sent finish first: the thread handles messages in order.
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('close');
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const source = `const { workerData, parentPort } = require('node:worker_threads'); (${writerThread.toString()})(workerData, parentPort);`;
    const worker = new Worker(source, { eval: true, workerData: { ...this.data, driver: require.resolve('better-sqlite3') } });
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('results' in reply) waiting.resolve(reply.results);
      else waiting.reject(toError(reply.failure));
    });
    // A thread that dies takes its unanswered appends with it (their transaction rolled back): they fail
    // as unavailable, and the next append starts a new thread.
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting.reject(new Unavailable(`event store unavailable: ${why}`));
      }
    };
    worker.on('error', (e) => fail(`the writer thread failed: ${e.message}`));
    worker.on('exit', (code) => fail(`the writer thread exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

function toError(failure: WireFailure): Error {
  if (failure.kind === 'wrong_expected_revision') return new WrongExpectedRevision(failure.streamId, failure.expected, failure.actual);
  if (failure.kind === 'conflict') return new Conflict(failure.message);
  return new Unavailable(failure.message);
}
