/**
 * The EventStoreDB adapter, through the real `@eventstore/db-client`, against the event store contract.
 *
 * By default the server is a PROTOCOL TEST DOUBLE (./testing/esdb-test-double.ts): an in-memory gRPC
 * server built from the client's own service definitions that implements the calls the adapter uses with
 * EventStoreDB's documented semantics. It is not EventStoreDB: passing here shows the adapter speaks the
 * protocol and honours the port over it, not that a real server behaves like the double.
 *
 * The double runs twice: once offering Streams.BatchAppend (as 21.10+ servers do, so the client appends
 * over one long-lived call) and once without it (as 20.x servers, so the client uses Streams.Append).
 *
 * With EVENTSTORE_TEST_CONNECTION_STRING set (e.g. `esdb://localhost:2113?tls=false`, an insecure
 * single node with $all readable), the same contract runs against that real server instead; the
 * adapter-specific tests below, which stop, restart or inspect the server, run against the double only.
 */
import { randomUUID } from 'node:crypto';
import { AppConfig, ConfigError } from '@lib/platform/config';
import { Unavailable } from '@lib/platform/errors';
import { EventStoreUnderTest, eventStoreContract } from './event-store.contract';
import { createEventStore } from './event-store.module';
import { EventStore, RecordedEvent, WrongExpectedRevision } from './event-store.port';
import { EventStoreDbEventStore, EventStoreDbOptions } from './eventstoredb.event-store';
import { EsdbTestDouble } from './testing/esdb-test-double';
import { Upcasters } from './upcasting';

const REAL = process.env.EVENTSTORE_TEST_CONNECTION_STRING?.trim() || null;

/** A client per test over one server; the data stays on the server (streams are unique per test). */
function esdbStore(connectionString: () => string) {
  const open = (options: Partial<EventStoreDbOptions> = {}) => new EventStoreDbEventStore({ connectionString: connectionString(), retryDelayMs: 20, maxBackoffMs: 200, ...options });
  return async (): Promise<EventStoreUnderTest> => {
    let current = open();
    const others: EventStore[] = [];
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = open();
        return current;
      },
      connect: async ({ upcasters }: { upcasters?: Upcasters }) => {
        const other = open({ upcasters });
        others.push(other);
        return other;
      },
      dispose: async () => {
        for (const o of others) await o.close();
        await current.close();
      },
    };
  };
}

const ADAPTER_DIFFERENCES = { atomicBatch: false, reopen: true, eventIdsUniqueAcrossStreams: false };

if (REAL) {
  eventStoreContract(`EventStoreDbEventStore against the real server at ${REAL}`, esdbStore(() => REAL), ADAPTER_DIFFERENCES);
}

/** The client appends over Streams.BatchAppend when the server lists it (21.10+), over Streams.Append when it does not (20.x). */
const MODES = [
  { name: 'BatchAppend, as 21.10+ servers offer', batchAppend: true },
  { name: 'Append, as 20.x servers offer', batchAppend: false },
];

describe.each(REAL ? [] : MODES)('against the protocol test double (not EventStoreDB), appending with $name', ({ batchAppend }) => {
  let double: EsdbTestDouble;

  beforeAll(async () => {
    double = await EsdbTestDouble.start({ batchAppend });
  });

  afterAll(async () => {
    await double?.stop();
  });

  eventStoreContract('EventStoreDbEventStore', esdbStore(() => double.connectionString), ADAPTER_DIFFERENCES);

  const open = (options: Partial<EventStoreDbOptions> = {}) =>
    new EventStoreDbEventStore({ connectionString: double.connectionString, retryDelayMs: 20, maxBackoffMs: 200, ...options });

  describe('EventStoreDbEventStore (adapter specifics)', () => {
    const opened: EventStore[] = [];
    const store = (options: Partial<EventStoreDbOptions> = {}) => {
      const s = open(options);
      opened.push(s);
      return s;
    };
    let n = 0;
    const stream = (category: string) => `${category}-spec${++n}`;

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      if (!double.running) await double.restart();
      double.forgetIdsForAny = false;
    });

    it(`given this server's features, when appending, then the client uses Streams.${batchAppend ? 'BatchAppend' : 'Append'}`, async () => {
      const before = { ...double.appendsBy };
      await store().append({ streamId: stream('program'), expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'A', data: {} }] });
      expect(double.appendsBy.BatchAppend - before.BatchAppend).toBe(batchAppend ? 1 : 0);
      expect(double.appendsBy.Append - before.Append).toBe(batchAppend ? 0 : 1);
    });

    it('given an event with business keys and causation, when appended, then EventStoreDB stores a JSON event whose metadata carries the envelope', async () => {
      const s = store();
      const id = '0b6a4c53-5d6f-4e0a-9f1e-2f6f7d1c3a10';
      await s.append({
        streamId: 'affiliate-aff_1',
        expectedRevision: 'no_stream',
        events: [{ id, type: 'CommissionEarned', schemaVersion: 2, data: { programId: 'prg_1', occurredAt: '2026-01-02T03:04:05.000Z', amountMinor: 200 }, metadata: { causationId: 'msg-1', receivedAt: '2026-01-02T03:04:06.000Z' } }],
      });
      const record = double.records().find((r) => r.id === id)!;
      expect(record).toMatchObject({ streamId: 'affiliate-aff_1', revision: 0, type: 'CommissionEarned', contentType: 'application/json' });
      expect(JSON.parse(record.data.toString())).toEqual({ programId: 'prg_1', occurredAt: '2026-01-02T03:04:05.000Z', amountMinor: 200 });
      expect(JSON.parse(record.metadata.toString())).toEqual({
        schemaVersion: 2,
        programId: 'prg_1',
        occurredAt: '2026-01-02T03:04:05.000Z',
        $correlationId: 'msg-1',
        $causationId: 'msg-1',
        meta: { causationId: 'msg-1', receivedAt: '2026-01-02T03:04:06.000Z' },
      });
      const [read] = await s.readStream('affiliate-aff_1');
      expect(read).toMatchObject({ id, schemaVersion: 2, metadata: { causationId: 'msg-1', receivedAt: '2026-01-02T03:04:06.000Z' }, position: record.position });
    });

    it('given an event id that is not a UUID, when appended and appended again, then it is stored under a UUID derived from it, read back as given, and the repeat is a duplicate', async () => {
      const s = store();
      const streamId = stream('order');
      const first = await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id: 'e1', type: 'A', data: {} }] });
      const again = await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id: 'e1', type: 'A', data: {} }] });
      expect(again).toEqual({ ...first, duplicate: true });
      const record = double.records().find((r) => r.streamId === streamId)!;
      expect(record.id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await s.readStream(streamId)).map((e) => e.id)).toEqual(['e1']);
    });

    it("given positions, then they are the server's commit positions: sparse, increasing, and 0 reads from the start", async () => {
      const s = store();
      const streamId = stream('click');
      await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'A', data: { pad: 'x'.repeat(50) } }, { id: randomUUID(), type: 'B', data: {} }] });
      const stored = double.records().filter((r) => r.streamId === streamId);
      const read = await s.readStream(streamId);
      expect(read.map((e) => e.position)).toEqual(stored.map((r) => r.position));
      expect(read[1].position - read[0].position).toBeGreaterThan(1);
      const fromStart = await s.readAll({ after: 0, maxCount: 100_000 });
      const firstUserRecord = double.records().find((r) => !r.streamId.startsWith('$'))!;
      expect(fromStart[0].position).toBe(firstUserRecord.position);
    });

    it('given system events in $all, then readAll, headPosition and subscriptions never return them', async () => {
      const s = store();
      const streamId = stream('program');
      const start = await s.headPosition();
      const written = await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'ProgramCreated', data: {} }] });
      double.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected');
      double.appendDirect('$$' + streamId, '$metadata', { $maxAge: 1 });
      expect(await s.headPosition()).toBe(written.position);
      const all = await s.readAll({ after: start, maxCount: 100 });
      expect(all.map((e) => e.type)).toEqual(['ProgramCreated']);
      expect(await s.readAll({ after: written.position, maxCount: 100 })).toEqual([]);

      const received: RecordedEvent[] = [];
      const sub = s.subscribeToAll({ after: start }, async (events) => {
        received.push(...events);
      });
      try {
        await eventually(() => received.length === 1);
        const more = await s.append({ streamId, expectedRevision: 0, events: [{ id: randomUUID(), type: 'ProgramSettingsChanged', data: {} }] });
        await eventually(() => received.length === 2);
        expect(received.map((e) => [e.type, e.position])).toEqual([
          ['ProgramCreated', written.position],
          ['ProgramSettingsChanged', more.position],
        ]);
      } finally {
        await sub.stop();
      }
    });

    it('given a filter, when subscribed, then the server filters: only matching events travel to the client', async () => {
      const s = store();
      const start = await s.headPosition();
      const prefix = stream('ledger');
      const received: RecordedEvent[] = [];
      const sub = s.subscribeToAll({ after: start, filter: { eventTypes: ['PayoutRecorded'] } }, async (events) => {
        received.push(...events);
      });
      try {
        const before = double.sentToSubscriptions;
        for (let i = 0; i < 10; i++) await s.append({ streamId: `${prefix}-${i}`, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'CommissionEarned', data: {} }] });
        await s.append({ streamId: `${prefix}-p`, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'PayoutRecorded', data: { n: 1 } }] });
        await eventually(() => received.length === 1);
        expect(received[0].data).toEqual({ n: 1 });
        expect(double.sentToSubscriptions - before).toBe(1);
      } finally {
        await sub.stop();
      }
    });

    it('given a writer that gets in between the check and the append, when a batch is appended, then WrongExpectedRevision (never a gRPC error), the requests before it stay written and the retried batch completes', async () => {
      const s = store();
      const [a, b] = [stream('order'), stream('affiliate')];
      await s.append({ streamId: b, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'AffiliateEnrolled', data: {} }] });
      const batch = [
        { streamId: a, expectedRevision: 'no_stream' as const, events: [{ id: randomUUID(), type: 'ConversionRecorded', data: {} }] },
        { streamId: b, expectedRevision: 0, events: [{ id: randomUUID(), type: 'CommissionEarned', data: {} }] },
      ];
      double.interceptNextAppend(b, () => double.appendDirect(b, 'PayoutRecorded'));
      const error = await s.appendBatch(batch).catch((e) => e);
      expect(error).toBeInstanceOf(WrongExpectedRevision);
      expect(error).toMatchObject({ streamId: b, expected: 0, actual: 1 });
      expect((await s.readStream(a)).map((e) => e.type)).toEqual(['ConversionRecorded']);
      expect((await s.readStream(b)).map((e) => e.type)).toEqual(['AffiliateEnrolled', 'PayoutRecorded']);

      // The handler re-reads and decides again (here: the same commission, now after the payout).
      const retried = await s.appendBatch([batch[0], { ...batch[1], expectedRevision: 1 }]);
      expect(retried.map((r) => r.duplicate)).toEqual([true, false]);
      expect((await s.readStream(b)).map((e) => e.type)).toEqual(['AffiliateEnrolled', 'PayoutRecorded', 'CommissionEarned']);
    });

    it('given the same request appended by another process between the check and the append, then it is a duplicate, not a conflict', async () => {
      const s = store();
      const streamId = stream('order');
      const id = randomUUID();
      double.interceptNextAppend(streamId, () => double.appendDirect(streamId, 'ConversionRecorded', {}, id));
      const result = await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id, type: 'ConversionRecorded', data: {} }] });
      expect(result).toMatchObject({ duplicate: true, nextExpectedRevision: 0 });
      expect(result.position).toBe(double.records().find((r) => r.id === id)!.position);
      expect(await s.readStream(streamId)).toHaveLength(1);
    });

    it('given the idempotency window, then a repeat is recognised within the last N events whatever revision it carries, at the revision it was first sent with however old, and beyond both it is written again', async () => {
      const s = store({ idempotencyWindow: 2 });
      const streamId = stream('ledger');
      const event = (type: string) => ({ id: randomUUID(), type, data: {} });
      const x = event('X');
      await s.append({ streamId, expectedRevision: 'no_stream', events: [event('A')] });
      const first = await s.append({ streamId, expectedRevision: 0, events: [x] });
      await s.append({ streamId, expectedRevision: 1, events: [event('B')] });
      expect(await s.append({ streamId, expectedRevision: 2, events: [x] })).toMatchObject({ duplicate: true, position: first.position });
      await s.append({ streamId, expectedRevision: 2, events: [event('C'), event('D')] });
      // X is now 3 events back: outside the window, but sent with its first expected revision it is still a repeat.
      expect(await s.append({ streamId, expectedRevision: 0, events: [x] })).toMatchObject({ duplicate: true, position: first.position });
      // Outside the window and sent as if new (the sender's view of the stream is current): EventStoreDB stores it again.
      expect(await s.append({ streamId, expectedRevision: 4, events: [x] })).toMatchObject({ duplicate: false, nextExpectedRevision: 5 });
      expect((await s.readStream(streamId)).map((e) => e.type)).toEqual(['A', 'X', 'B', 'C', 'D', 'X']);
    });

    it("given a server that no longer remembers an id appended with 'any' (its id cache is bounded), when it is appended again, then the adapter still answers duplicate and writes nothing", async () => {
      const s = store();
      const streamId = stream('click');
      const e = { id: randomUUID(), type: 'ClickRecorded', data: {} };
      await s.append({ streamId, expectedRevision: 'any', events: [e] });
      double.forgetIdsForAny = true;
      expect(await s.append({ streamId, expectedRevision: 'any', events: [e] })).toMatchObject({ duplicate: true });
      expect(await s.readStream(streamId)).toHaveLength(1);
    });

    it('given the server is down, when appending, reading or pinging, then Unavailable (503) and no gRPC error; once it is back, the same store works again', async () => {
      const s = store({ attempts: 2 });
      const streamId = stream('program');
      await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'A', data: {} }] });
      await double.stop();

      for (const attempt of [
        () => s.append({ streamId, expectedRevision: 0, events: [{ id: randomUUID(), type: 'B', data: {} }] }),
        () => s.readStream(streamId),
        () => s.readAll({ after: 0, maxCount: 1 }),
        () => s.headPosition(),
        () => s.ping(),
      ]) {
        const error = await attempt().catch((e) => e);
        expect(error).toBeInstanceOf(Unavailable);
        expect(error).toMatchObject({ status: 503, code: 'unavailable' });
        expect(error.message).toMatch(/^event store/);
      }

      await double.restart();
      await s.ping();
      expect(await s.append({ streamId, expectedRevision: 0, events: [{ id: randomUUID(), type: 'B', data: {} }] })).toMatchObject({ nextExpectedRevision: 1 });
    });

    it('given a subscription, when the server drops it, then it resubscribes from the last position handled: every event once, in order', async () => {
      const s = store();
      const streamId = stream('ledger');
      const start = await s.headPosition();
      const received: RecordedEvent[] = [];
      const errors: Error[] = [];
      const sub = s.subscribeToAll({ after: start, batchSize: 2, filter: { streamPrefixes: [streamId] }, onError: (e) => errors.push(e) }, async (events) => {
        received.push(...events);
      });
      try {
        for (const t of ['E0', 'E1', 'E2']) await s.append({ streamId, expectedRevision: 'any', events: [{ id: randomUUID(), type: t, data: {} }] });
        await eventually(() => received.length === 3);
        expect(double.dropSubscriptions()).toBeGreaterThan(0);
        for (const t of ['E3', 'E4']) await s.append({ streamId, expectedRevision: 'any', events: [{ id: randomUUID(), type: t, data: {} }] });
        await eventually(() => received.length === 5);
        expect(received.map((e) => e.type)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
        expect(errors[0]).toBeInstanceOf(Unavailable);
      } finally {
        await sub.stop();
      }
    });

    it('given a subscription, when the server restarts, then the subscription continues after it without gaps or repeats', async () => {
      const s = store();
      const streamId = stream('ledger');
      const start = await s.headPosition();
      const received: RecordedEvent[] = [];
      const sub = s.subscribeToAll({ after: start, filter: { streamPrefixes: [streamId] } }, async (events) => {
        received.push(...events);
      });
      try {
        await s.append({ streamId, expectedRevision: 'no_stream', events: [{ id: randomUUID(), type: 'E0', data: {} }] });
        await eventually(() => received.length === 1);
        await double.stop();
        double.appendDirect(streamId, 'E1');
        await double.restart();
        await s.append({ streamId, expectedRevision: 1, events: [{ id: randomUUID(), type: 'E2', data: {} }] });
        await eventually(() => received.length === 3);
        expect(received.map((e) => e.type)).toEqual(['E0', 'E1', 'E2']);
      } finally {
        await sub.stop();
      }
    });

    it('given a closed store, when it is used, then Unavailable', async () => {
      const s = store();
      await s.close();
      await expect(s.append({ streamId: stream('x'), expectedRevision: 'any', events: [{ id: randomUUID(), type: 'A', data: {} }] })).rejects.toBeInstanceOf(Unavailable);
      await expect(s.ping()).rejects.toBeInstanceOf(Unavailable);
    });

    it('given EVENTSTORE_CONNECTION_STRING, when the store is created from configuration, then it is this adapter (esdb:// and kurrentdb://), and a malformed one stops start-up with a ConfigError', async () => {
      const config = (eventStoreConnectionString: string) => ({ eventStoreConnectionString, dataDir: '/nonexistent', sqliteSynchronous: 'NORMAL' }) as AppConfig;
      for (const cs of [double.connectionString, double.connectionString.replace('esdb://', 'kurrentdb://')]) {
        const s = createEventStore(config(cs));
        opened.push(s);
        expect(s).toBeInstanceOf(EventStoreDbEventStore);
        await s.ping();
      }
      expect(() => createEventStore(config('esdb://'))).toThrow(ConfigError);
    });
  });
});

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
