import { randomUUID } from 'node:crypto';
import { Conflict } from '@lib/platform/errors';
import { EventStore, EventToAppend, RecordedEvent, Subscription, WrongExpectedRevision } from './event-store.port';
import { Upcasters } from './upcasting';

/**
 * The behaviour every EventStore adapter owes its callers, as one suite: the SQLite int-spec and the
 * EventStoreDB int-spec run it. Streams get a fresh suffix per test and reads of the global log start
 * from the head seen at the test's start, so a shared server works too. Where adapters differ, an
 * option names the difference and each side has a test that states what that adapter guarantees.
 */
export interface EventStoreUnderTest {
  store: EventStore;
  /** Closes the store and opens a new one over the same data (needed when options.reopen is true). */
  reopen?: () => Promise<EventStore>;
  /** Opens a second store over the same data, as another process would; dispose() closes it. */
  connect: (options: { upcasters?: Upcasters }) => Promise<EventStore>;
  /** Closes whatever is open and removes the data. */
  dispose: () => Promise<void>;
}

export interface ContractOptions {
  /**
   * appendBatch writes all requests or none (SQLite: one transaction). EventStoreDB has no multi-stream
   * transaction: requests are appended in order, and a conflict that only shows once earlier requests
   * are written leaves those written.
   */
  atomicBatch: boolean;
  /** The fixture can close and reopen the same data (a file); a server-backed one may leave this to its own suite. */
  reopen: boolean;
  /**
   * An event id is unique in the whole store (SQLite: a unique index), so reusing one in another stream
   * is a Conflict. EventStoreDB checks ids per stream only; callers derive ids from their stream's inputs.
   */
  eventIdsUniqueAcrossStreams: boolean;
}

export function eventStoreContract(
  name: string,
  makeStore: () => Promise<EventStoreUnderTest>,
  contractOptions: Partial<ContractOptions> = {},
): void {
  const options: ContractOptions = { atomicBatch: true, reopen: true, eventIdsUniqueAcrossStreams: true, ...contractOptions };
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreUnderTest;
    let store: EventStore;
    let suffix: string;
    let start: number;
    const subscriptions: Subscription[] = [];

    const stream = (category: string) => `${category}-${suffix}`;
    const event = (type: string, data: Record<string, unknown> = {}, extra: Partial<EventToAppend> = {}): EventToAppend => ({
      id: randomUUID(),
      type,
      data,
      ...extra,
    });
    const subscribe = (after: number, received: RecordedEvent[], filter?: { streamPrefixes?: string[]; eventTypes?: string[] }) => {
      const sub = store.subscribeToAll({ after, filter, batchSize: 2 }, async (events) => {
        received.push(...events);
      });
      subscriptions.push(sub);
      return sub;
    };
    const ours = (events: RecordedEvent[]) => events.filter((e) => e.streamId.endsWith(suffix));

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
      suffix = randomUUID().slice(0, 8);
      start = await store.headPosition();
    });

    afterEach(async () => {
      for (const s of subscriptions.splice(0)) await s.stop();
      await fixture.dispose();
    });

    describe('append with an expected revision', () => {
      it('given no stream, when appending with no_stream, then revisions start at 0 and the events read back as appended', async () => {
        const s = stream('order');
        const first = event('ConversionRecorded', { orderId: 'o1', amountMinor: 1999, nested: { list: [1, 'two', null] } }, { metadata: { causationId: 'm1' } });
        const second = event('ConversionRecorded', { orderId: 'o1' }, { schemaVersion: 2 });
        const result = await store.append({ streamId: s, expectedRevision: 'no_stream', events: [first, second] });
        expect(result).toMatchObject({ streamId: s, nextExpectedRevision: 1, duplicate: false });
        expect(result.position).toBeGreaterThan(start);

        const read = await store.readStream(s);
        expect(read.map((e) => ({ id: e.id, streamId: e.streamId, revision: e.revision, type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata }))).toEqual([
          { id: first.id, streamId: s, revision: 0, type: 'ConversionRecorded', schemaVersion: 1, data: first.data, metadata: { causationId: 'm1' } },
          { id: second.id, streamId: s, revision: 1, type: 'ConversionRecorded', schemaVersion: 2, data: second.data, metadata: {} },
        ]);
        expect(read[1].position).toBe(result.position);
        expect(read[0].position).toBeLessThan(read[1].position);
        expect(new Date(read[0].recordedAt).toISOString()).toBe(read[0].recordedAt);
      });

      it('given a stream at revision 1, when appending with expected revision 1, then the event lands at revision 2', async () => {
        const s = stream('affiliate');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('A'), event('B')] });
        const result = await store.append({ streamId: s, expectedRevision: 1, events: [event('C')] });
        expect(result).toMatchObject({ nextExpectedRevision: 2, duplicate: false });
        expect((await store.readStream(s)).map((e) => [e.revision, e.type])).toEqual([[0, 'A'], [1, 'B'], [2, 'C']]);
      });

      it('given a stream at revision 1, when appending with a stale revision 0, then WrongExpectedRevision and nothing is written', async () => {
        const s = stream('affiliate');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('A'), event('B')] });
        const head = await store.headPosition();
        const error = await store.append({ streamId: s, expectedRevision: 0, events: [event('C')] }).catch((e) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toBeInstanceOf(Conflict);
        expect(error).toMatchObject({ status: 409, streamId: s, expected: 0, actual: 1 });
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B']);
        expect(await store.headPosition()).toBe(head);
      });

      it('given an existing stream, when appending with no_stream, then WrongExpectedRevision', async () => {
        const s = stream('affiliate');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('A')] });
        const error = await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('B')] }).catch((e) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toMatchObject({ expected: 'no_stream', actual: 0 });
        expect(await store.readStream(s)).toHaveLength(1);
      });

      it('given no stream, when appending with stream_exists or a revision number, then WrongExpectedRevision and the stream stays absent', async () => {
        const s = stream('affiliate');
        const error = await store.append({ streamId: s, expectedRevision: 'stream_exists', events: [event('A')] }).catch((e) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
        await expect(store.append({ streamId: s, expectedRevision: 0, events: [event('A')] })).rejects.toBeInstanceOf(WrongExpectedRevision);
        expect(await store.readStream(s)).toEqual([]);
      });

      it('given an existing stream, when appending with stream_exists, then it is appended', async () => {
        const s = stream('program');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('A')] });
        expect(await store.append({ streamId: s, expectedRevision: 'stream_exists', events: [event('B')] })).toMatchObject({ nextExpectedRevision: 1 });
      });

      it("given 'any', when appending to a missing and then to an existing stream, then both are appended", async () => {
        const s = stream('click');
        expect(await store.append({ streamId: s, expectedRevision: 'any', events: [event('A')] })).toMatchObject({ nextExpectedRevision: 0 });
        expect(await store.append({ streamId: s, expectedRevision: 'any', events: [event('B')] })).toMatchObject({ nextExpectedRevision: 1 });
      });
    });

    describe('idempotent appends', () => {
      it('given events already appended, when the same event ids are appended again, then duplicate: true, no new row, the same position', async () => {
        const s = stream('order');
        const events = [event('A'), event('B')];
        const first = await store.append({ streamId: s, expectedRevision: 'no_stream', events });
        const head = await store.headPosition();
        // A redelivery carries the expected revision it was first sent with: a repeat must not turn into a conflict.
        const again = await store.append({ streamId: s, expectedRevision: 'no_stream', events });
        expect(again).toEqual({ streamId: s, nextExpectedRevision: 1, position: first.position, duplicate: true });
        expect(await store.readStream(s)).toHaveLength(2);
        expect(await store.headPosition()).toBe(head);
        expect(ours(await store.readAll({ after: start, maxCount: 100 }))).toHaveLength(2);
      });

      it('given events already appended, when they are sent again with a newer expected revision (the sender re-read the stream), then duplicate: true and nothing is written', async () => {
        const s = stream('affiliate');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('A')] });
        const commission = event('CommissionEarned');
        const first = await store.append({ streamId: s, expectedRevision: 0, events: [commission] });
        await store.append({ streamId: s, expectedRevision: 1, events: [event('B')] });
        const again = await store.append({ streamId: s, expectedRevision: 2, events: [commission] });
        expect(again).toEqual({ streamId: s, nextExpectedRevision: 2, position: first.position, duplicate: true });
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'CommissionEarned', 'B']);
      });

      it("given events appended with 'any', when they are sent again with 'any', then duplicate: true and nothing is written", async () => {
        const s = stream('click');
        const events = [event('A'), event('B')];
        const first = await store.append({ streamId: s, expectedRevision: 'any', events });
        await store.append({ streamId: s, expectedRevision: 'any', events: [event('C')] });
        const again = await store.append({ streamId: s, expectedRevision: 'any', events });
        expect(again).toEqual({ streamId: s, nextExpectedRevision: 2, position: first.position, duplicate: true });
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('given a stored event, when it is sent again together with a new event, then WrongExpectedRevision and the new one is not written', async () => {
        const s = stream('order');
        const stored = event('A');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [stored] });
        const error = await store.append({ streamId: s, expectedRevision: 'no_stream', events: [stored, event('B')] }).catch((e) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A']);
      });

      if (options.eventIdsUniqueAcrossStreams) {
        it('given an event id used in one stream, when it is appended to another stream, then Conflict and nothing is written there', async () => {
          const e = event('A');
          await store.append({ streamId: stream('one'), expectedRevision: 'no_stream', events: [e] });
          const error = await store.append({ streamId: stream('two'), expectedRevision: 'no_stream', events: [e] }).catch((x) => x);
          expect(error).toBeInstanceOf(Conflict);
          expect(await store.readStream(stream('two'))).toEqual([]);
        });
      } else {
        it('given an event id used in one stream, when it is appended to another stream, then it is stored there too (ids are unique per stream only)', async () => {
          const e = event('A');
          await store.append({ streamId: stream('one'), expectedRevision: 'no_stream', events: [e] });
          const other = await store.append({ streamId: stream('two'), expectedRevision: 'no_stream', events: [e] });
          expect(other).toMatchObject({ nextExpectedRevision: 0, duplicate: false });
          expect((await store.readStream(stream('two'))).map((x) => x.id)).toEqual([e.id]);
        });
      }
    });

    describe('appendBatch', () => {
      it('given requests for several streams, when appended as a batch, then each result answers its request, in order', async () => {
        const results = await store.appendBatch([
          { streamId: stream('a'), expectedRevision: 'no_stream', events: [event('A1'), event('A2')] },
          { streamId: stream('b'), expectedRevision: 'no_stream', events: [event('B1')] },
        ]);
        expect(results.map((r) => [r.streamId, r.nextExpectedRevision, r.duplicate])).toEqual([
          [stream('a'), 1, false],
          [stream('b'), 0, false],
        ]);
        expect(results[0].position).toBeLessThan(results[1].position);
        expect((await store.readStream(stream('b')))[0].position).toBe(results[1].position);
      });

      it('given a batch in which one request is already stored, when appended again, then that request is a duplicate and the rest is written', async () => {
        const repeat = { streamId: stream('a'), expectedRevision: 'no_stream' as const, events: [event('A1')] };
        const first = await store.append(repeat);
        const results = await store.appendBatch([repeat, { streamId: stream('b'), expectedRevision: 'no_stream', events: [event('B1')] }]);
        expect(results.map((r) => r.duplicate)).toEqual([true, false]);
        expect(results[0].position).toBe(first.position);
        expect(await store.readStream(stream('a'))).toHaveLength(1);
        expect(await store.readStream(stream('b'))).toHaveLength(1);
      });

      it('given a batch with one stale expected revision, when appended, then WrongExpectedRevision and nothing of the batch is written', async () => {
        await store.append({ streamId: stream('b'), expectedRevision: 'no_stream', events: [event('B0')] });
        const head = await store.headPosition();
        const error = await store
          .appendBatch([
            { streamId: stream('a'), expectedRevision: 'no_stream', events: [event('A1')] },
            { streamId: stream('b'), expectedRevision: 'no_stream', events: [event('B1')] },
            { streamId: stream('c'), expectedRevision: 'no_stream', events: [event('C1')] },
          ])
          .catch((e) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toMatchObject({ streamId: stream('b') });
        expect(await store.readStream(stream('a'))).toEqual([]);
        expect((await store.readStream(stream('b'))).map((e) => e.type)).toEqual(['B0']);
        expect(await store.readStream(stream('c'))).toEqual([]);
        expect(await store.headPosition()).toBe(head);
      });

      // Two requests for one new stream, both expecting no stream: the second only conflicts once the first is written.
      const selfConflicting = () => [
        { streamId: stream('a'), expectedRevision: 'no_stream' as const, events: [event('A1')] },
        { streamId: stream('b'), expectedRevision: 'no_stream' as const, events: [event('B1')] },
        { streamId: stream('b'), expectedRevision: 'no_stream' as const, events: [event('B2')] },
        { streamId: stream('c'), expectedRevision: 'no_stream' as const, events: [event('C1')] },
      ];

      if (options.atomicBatch) {
        it('given a batch whose conflict only shows once part of it is written, when appended, then WrongExpectedRevision and nothing of the batch is written', async () => {
          const head = await store.headPosition();
          const error = await store.appendBatch(selfConflicting()).catch((e) => e);
          expect(error).toBeInstanceOf(WrongExpectedRevision);
          for (const s of ['a', 'b', 'c']) expect(await store.readStream(stream(s))).toEqual([]);
          expect(await store.headPosition()).toBe(head);
        });
      } else {
        it('given a batch whose conflict only shows once part of it is written, when appended, then WrongExpectedRevision, the requests before it are written and the rest is not; sending the batch again repeats nothing', async () => {
          const batch = selfConflicting();
          const error = await store.appendBatch(batch).catch((e) => e);
          expect(error).toBeInstanceOf(WrongExpectedRevision);
          expect(error).toMatchObject({ streamId: stream('b'), expected: 'no_stream', actual: 0 });
          const written = async () => [(await store.readStream(stream('a'))).map((e) => e.type), (await store.readStream(stream('b'))).map((e) => e.type), (await store.readStream(stream('c'))).map((e) => e.type)];
          expect(await written()).toEqual([['A1'], ['B1'], []]);
          await expect(store.appendBatch(batch)).rejects.toBeInstanceOf(WrongExpectedRevision);
          expect(await written()).toEqual([['A1'], ['B1'], []]);
        });
      }

      if (options.eventIdsUniqueAcrossStreams) {
        it('given a batch reusing an event id of another stream, when appended, then Conflict and nothing of the batch is written', async () => {
          const taken = event('X');
          await store.append({ streamId: stream('x'), expectedRevision: 'no_stream', events: [taken] });
          const error = await store
            .appendBatch([
              { streamId: stream('a'), expectedRevision: 'no_stream', events: [event('A1')] },
              { streamId: stream('b'), expectedRevision: 'no_stream', events: [taken] },
            ])
            .catch((e) => e);
          expect(error).toBeInstanceOf(Conflict);
          expect(await store.readStream(stream('a'))).toEqual([]);
          expect(await store.readStream(stream('b'))).toEqual([]);
        });
      }
    });

    describe('reading', () => {
      it('given appends to three streams interleaved, when the log is read, then global positions increase strictly in append order', async () => {
        const positions: number[] = [];
        for (let i = 0; i < 9; i++) {
          const s = stream(['a', 'b', 'c'][i % 3]);
          const r = await store.append({ streamId: s, expectedRevision: 'any', events: [event(`E${i}`)] });
          positions.push(r.position);
        }
        const all = ours(await store.readAll({ after: start, maxCount: 100 }));
        expect(all.map((e) => e.type)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8']);
        expect(all.map((e) => e.position)).toEqual(positions);
        for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeGreaterThan(positions[i - 1]);
      });

      it('given a stream of 5 events, when read forwards or backwards from a revision with a maximum count, then the right slice comes back', async () => {
        const s = stream('ledger');
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: ['E0', 'E1', 'E2', 'E3', 'E4'].map((t) => event(t)) });
        const types = (events: RecordedEvent[]) => events.map((e) => e.type);
        expect(types(await store.readStream(s))).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
        expect(types(await store.readStream(s, { fromRevision: 2 }))).toEqual(['E2', 'E3', 'E4']);
        expect(types(await store.readStream(s, { fromRevision: 1, maxCount: 2 }))).toEqual(['E1', 'E2']);
        expect(types(await store.readStream(s, { fromRevision: 5 }))).toEqual([]);
        expect(types(await store.readStream(s, { direction: 'backwards' }))).toEqual(['E4', 'E3', 'E2', 'E1', 'E0']);
        expect(types(await store.readStream(s, { direction: 'backwards', maxCount: 1 }))).toEqual(['E4']);
        expect(types(await store.readStream(s, { direction: 'backwards', fromRevision: 2, maxCount: 2 }))).toEqual(['E2', 'E1']);
      });

      it('given several streams, when they are read together each from its own revision, then each comes back as readStream gives it, a missing one empty', async () => {
        const [a, b, missing] = [stream('order'), stream('ledger'), stream('nothing')];
        await store.append({ streamId: a, expectedRevision: 'no_stream', events: ['A0', 'A1', 'A2'].map((t) => event(t, { n: t })) });
        await store.append({ streamId: b, expectedRevision: 'no_stream', events: ['B0', 'B1'].map((t) => event(t)) });
        await store.append({ streamId: a, expectedRevision: 2, events: [event('A3')] });
        const read = await store.readStreams([
          { streamId: missing, fromRevision: 0 },
          { streamId: a, fromRevision: 1 },
          { streamId: b, fromRevision: 0 },
        ]);
        expect([...read.keys()].sort()).toEqual([a, b, missing].sort());
        expect(read.get(a)).toEqual(await store.readStream(a, { fromRevision: 1 }));
        expect(read.get(a)!.map((e) => [e.type, e.revision])).toEqual([['A1', 1], ['A2', 2], ['A3', 3]]);
        expect(read.get(b)!.map((e) => e.type)).toEqual(['B0', 'B1']);
        expect(read.get(missing)).toEqual([]);
        expect((await store.readStreams([{ streamId: b, fromRevision: 2 }])).get(b)).toEqual([]);
        expect((await store.readStreams([])).size).toBe(0);
      });

      it('given no stream, when it is read, then it is empty', async () => {
        expect(await store.readStream(stream('nothing'))).toEqual([]);
        expect(await store.readStream(stream('nothing'), { direction: 'backwards' })).toEqual([]);
      });

      it('given 10 events, when the log is read in pages of 3 after each last position, then every event comes exactly once, in order', async () => {
        for (let i = 0; i < 10; i++) await store.append({ streamId: stream(`s${i % 4}`), expectedRevision: 'any', events: [event(`E${i}`)] });
        const seen: string[] = [];
        let after = start;
        for (;;) {
          const page = await store.readAll({ after, maxCount: 3 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(3);
          seen.push(...ours(page).map((e) => e.type));
          after = page[page.length - 1].position;
        }
        expect(seen).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'E9']);
      });

      it('given events of several types and streams, when the log is read with a filter, then only matching events come back, even past many that do not match', async () => {
        for (let i = 0; i < 12; i++) await store.append({ streamId: stream('click'), expectedRevision: 'any', events: [event('ClickRecorded')] });
        await store.append({ streamId: stream('order'), expectedRevision: 'any', events: [event('ConversionRecorded', { n: 1 })] });
        for (let i = 0; i < 12; i++) await store.append({ streamId: stream('click'), expectedRevision: 'any', events: [event('ClickRecorded')] });
        await store.append({ streamId: stream('order'), expectedRevision: 'any', events: [event('ConversionRecorded', { n: 2 })] });
        await store.append({ streamId: stream('refund'), expectedRevision: 'any', events: [event('ConversionRecorded', { n: 3 })] });

        const byType = await store.readAll({ after: start, maxCount: 2, filter: { eventTypes: ['ConversionRecorded'] } });
        expect(byType.map((e) => e.data.n)).toEqual([1, 2]);
        const byPrefix = await store.readAll({ after: start, maxCount: 10, filter: { streamPrefixes: [`order-${suffix}`, `refund-${suffix}`] } });
        expect(byPrefix.map((e) => e.data.n)).toEqual([1, 2, 3]);
        const both = await store.readAll({ after: byType[0].position, maxCount: 10, filter: { eventTypes: ['ConversionRecorded'], streamPrefixes: [`order-${suffix}`] } });
        expect(both.map((e) => e.data.n)).toEqual([2]);
      });

      it('given appends, when the head is asked for, then it is the position of the last event written, and nothing is after it', async () => {
        await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event('A')] });
        const last = await store.append({ streamId: stream('b'), expectedRevision: 'any', events: [event('B'), event('C')] });
        expect(await store.headPosition()).toBe(last.position);
        expect(await store.readAll({ after: last.position, maxCount: 10 })).toEqual([]);
      });
    });

    describe('subscribeToAll', () => {
      it('given existing events, when subscribed, then it delivers them and then new ones, in order', async () => {
        for (const t of ['E0', 'E1', 'E2']) await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event(t)] });
        const received: RecordedEvent[] = [];
        subscribe(start, received);
        await eventually(() => ours(received).length === 3);
        await store.append({ streamId: stream('b'), expectedRevision: 'any', events: [event('E3')] });
        await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event('E4'), event('E5')] });
        await eventually(() => ours(received).length === 6);
        expect(ours(received).map((e) => e.type)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5']);
        const positions = received.map((e) => e.position);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        expect(new Set(positions).size).toBe(positions.length);
      });

      it('given a stopped subscription, when a new one starts from the last position seen, then it delivers only what came after', async () => {
        for (const t of ['E0', 'E1']) await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event(t)] });
        const first: RecordedEvent[] = [];
        const sub = subscribe(start, first);
        await eventually(() => ours(first).length === 2);
        await sub.stop();
        const seen = first[first.length - 1].position;

        for (const t of ['E2', 'E3']) await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event(t)] });
        const second: RecordedEvent[] = [];
        subscribe(seen, second);
        await eventually(() => ours(second).length === 2);
        expect(ours(second).map((e) => e.type)).toEqual(['E2', 'E3']);
        expect(ours(first).map((e) => e.type)).toEqual(['E0', 'E1']);
      });

      it('given a filter, when subscribed, then only matching events are delivered', async () => {
        const received: RecordedEvent[] = [];
        subscribe(start, received, { eventTypes: ['PayoutRecorded'] });
        await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event('CommissionEarned'), event('PayoutRecorded', { n: 1 })] });
        await store.append({ streamId: stream('b'), expectedRevision: 'any', events: [event('CommissionEarned')] });
        await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event('PayoutRecorded', { n: 2 })] });
        await eventually(() => ours(received).length === 2);
        expect(received.map((e) => [e.type, e.data.n])).toEqual([
          ['PayoutRecorded', 1],
          ['PayoutRecorded', 2],
        ]);
      });

      it('given a handler that fails once, when events arrive, then the same batch is delivered again and nothing is skipped', async () => {
        for (const t of ['E0', 'E1', 'E2']) await store.append({ streamId: stream('a'), expectedRevision: 'any', events: [event(t)] });
        const handled: string[] = [];
        const errors: Error[] = [];
        let failures = 0;
        const sub = store.subscribeToAll({ after: start, batchSize: 2, onError: (e) => errors.push(e) }, async (events) => {
          if (failures === 0 && events.some((e) => e.type === 'E2')) {
            failures += 1;
            throw new Error('view store down');
          }
          handled.push(...ours(events).map((e) => e.type));
        });
        subscriptions.push(sub);
        await eventually(() => handled.length === 3);
        expect(handled).toEqual(['E0', 'E1', 'E2']);
        expect(errors.map((e) => e.message)).toEqual(['view store down']);
      });
    });

    describe('upcasting', () => {
      const upcasters = () =>
        new Upcasters([
          // v1 stored the amount as a decimal string of major units; v2 is integer minor units (the current shape).
          { type: 'LegacyCommissionEarned', fromVersion: 1, upcast: (d: { amount: string }) => ({ amountMinor: Math.round(Number(d.amount) * 100) }) },
          { type: 'LegacyCommissionEarned', fromVersion: 2, upcast: (d: { amountMinor: number }) => ({ ...d, currency: 'EUR' }) },
        ]);

      it('given an event stored in an old shape, when read through a store with upcasters, then readStream, readAll and subscriptions return the current shape; the stored shape is unchanged', async () => {
        const s = stream('affiliate');
        const old = event('LegacyCommissionEarned', { amount: '12.50' }, { schemaVersion: 1 });
        const current = event('LegacyCommissionEarned', { amountMinor: 700, currency: 'EUR' }, { schemaVersion: 3 });
        await store.append({ streamId: s, expectedRevision: 'no_stream', events: [old, current] });

        const upcasting = await fixture.connect({ upcasters: upcasters() });
        const expected = [
          { id: old.id, schemaVersion: 3, data: { amountMinor: 1250, currency: 'EUR' } },
          { id: current.id, schemaVersion: 3, data: { amountMinor: 700, currency: 'EUR' } },
        ];
        const shape = (events: RecordedEvent[]) => events.map((e) => ({ id: e.id, schemaVersion: e.schemaVersion, data: e.data }));
        expect(shape(await upcasting.readStream(s))).toEqual(expected);
        expect(shape(await upcasting.readStream(s, { direction: 'backwards' }))).toEqual([...expected].reverse());
        expect(shape((await upcasting.readStreams([{ streamId: s, fromRevision: 0 }])).get(s)!)).toEqual(expected);
        expect(shape(ours(await upcasting.readAll({ after: start, maxCount: 100 })))).toEqual(expected);
        const received: RecordedEvent[] = [];
        const sub = upcasting.subscribeToAll({ after: start, batchSize: 1 }, async (events) => {
          received.push(...events);
        });
        subscriptions.push(sub);
        await eventually(() => ours(received).length === 2);
        expect(shape(ours(received))).toEqual(expected);

        // History is never rewritten: a store without the upcasters reads what was appended.
        expect((await store.readStream(s)).map((e) => ({ schemaVersion: e.schemaVersion, data: e.data }))).toEqual([
          { schemaVersion: 1, data: { amount: '12.50' } },
          { schemaVersion: 3, data: { amountMinor: 700, currency: 'EUR' } },
        ]);
      });
    });

    if (options.reopen) {
      it('given events written, when the store is closed and opened again, then the same events are there and appends continue after them', async () => {
        if (!fixture.reopen) throw new Error('the fixture must provide reopen() when options.reopen is true');
        const s = stream('affiliate');
        const written = await store.append({ streamId: s, expectedRevision: 'no_stream', events: [event('A', { amountMinor: 1250 }), event('B')] });
        const before = await store.readStream(s);
        store = await fixture.reopen();
        expect(await store.readStream(s)).toEqual(before);
        expect(await store.headPosition()).toBe(written.position);
        const next = await store.append({ streamId: s, expectedRevision: 1, events: [event('C')] });
        expect(next.nextExpectedRevision).toBe(2);
        expect(next.position).toBeGreaterThan(written.position);
      });
    }
  });
}

/** Waits for a condition the store reaches asynchronously; fails the test with a clear message instead of hanging. */
async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
