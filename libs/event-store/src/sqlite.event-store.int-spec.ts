import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Unavailable } from '@lib/platform/errors';
import { eventStoreContract } from './event-store.contract';
import { RecordedEvent } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';
import { Upcasters } from './upcasting';

/** A fresh SQLite file in its own temp dir per test, removed afterwards. */
async function sqliteStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-'));
  const file = path.join(dir, 'events.sqlite');
  const open = (upcasters?: Upcasters) => new SqliteEventStore({ file, synchronous: 'NORMAL', pollMs: 20, upcasters });
  let current = open();
  const others: SqliteEventStore[] = [];
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = open();
      return current;
    },
    connect: async ({ upcasters }: { upcasters?: Upcasters }) => {
      const other = open(upcasters);
      others.push(other);
      return other;
    },
    dispose: async () => {
      for (const o of others) await o.close();
      await current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

eventStoreContract('SqliteEventStore', sqliteStore, { atomicBatch: true, reopen: true, eventIdsUniqueAcrossStreams: true });

describe('SqliteEventStore (adapter specifics)', () => {
  let dir: string;
  const opened: SqliteEventStore[] = [];
  const open = () => {
    const store = new SqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'NORMAL', pollMs: 20 });
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-'));
  });

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('given a closed store, when appending, then Unavailable (503) rather than a driver error', async () => {
    const store = open();
    await store.close();
    const error = await store.append({ streamId: 's-1', expectedRevision: 'any', events: [{ id: 'e1', type: 'A', data: {} }] }).catch((e) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ status: 503 });
  });

  it('given two stores on one file (two processes), when one appends, then the other reads it and its subscription delivers it', async () => {
    const writer = open();
    const reader = open();
    const received: RecordedEvent[] = [];
    const sub = reader.subscribeToAll({ after: 0 }, async (events) => {
      received.push(...events);
    });
    try {
      const written = await writer.append({ streamId: 'order-sf1-o1', expectedRevision: 'no_stream', events: [{ id: 'e1', type: 'ConversionRecorded', data: { n: 1 } }] });
      expect((await reader.readStream('order-sf1-o1')).map((e) => e.id)).toEqual(['e1']);
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(received.map((e) => [e.id, e.position])).toEqual([['e1', written.position]]);
    } finally {
      await sub.stop();
    }
  });

  it('given a stale expected revision from a second writer, when both append, then exactly one wins', async () => {
    const a = open();
    const b = open();
    await a.append({ streamId: 'affiliate-a1', expectedRevision: 'no_stream', events: [{ id: 'e0', type: 'AffiliateEnrolled', data: {} }] });
    const results = await Promise.allSettled([
      a.append({ streamId: 'affiliate-a1', expectedRevision: 0, events: [{ id: 'pa', type: 'PayoutRecorded', data: {} }] }),
      b.append({ streamId: 'affiliate-a1', expectedRevision: 0, events: [{ id: 'pb', type: 'PayoutRecorded', data: {} }] }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await a.readStream('affiliate-a1')).toHaveLength(2);
  });
});
