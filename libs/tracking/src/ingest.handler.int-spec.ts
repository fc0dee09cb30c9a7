import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@lib/event-store/sqlite.event-store';
import { StreamCache } from '@lib/event-store/unit-of-work';
import { loadConfig } from '@lib/platform/config';
import { Metrics } from '@lib/platform/metrics';
import { createProgram, enrollAffiliate } from '@lib/programs/programs.decider';
import { affiliateStream, codeStream, programStream } from '@lib/programs/programs.events';
import { evolveProgram } from '@lib/programs/program.state';
import { orderStream } from '@lib/attribution/attribution.events';
import { IngestTrackingBatchCommand, IngestTrackingBatchHandler } from './ingest.handler';
import { conversionMessage } from './tracking.messages';

/** The ingest command against a real SQLite store: redelivery is a no-op, and a lost commission is completed. */
describe('IngestTrackingBatchHandler (SQLite)', () => {
  const NOW = new Date('2026-03-01T12:00:00.000Z');
  let dir: string;
  const stores: SqliteEventStore[] = [];

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ingest-'))));
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(name: string) {
    const store = new SqliteEventStore({ file: join(dir, `${name}.sqlite`), synchronous: 'NORMAL' });
    stores.push(store);
    const created = createProgram({
      programId: 'p1',
      now: '2026-01-01T00:00:00.000Z',
      settings: {
        name: 'Shop',
        currency: 'EUR',
        defaultLandingUrl: 'https://shop.example.com/',
        allowedLandingHosts: [],
        cookieWindowDays: 30,
        commission: { type: 'percent', basisPoints: 1000 },
        holdDays: 0,
        minimumPayoutMinor: 0,
      },
    });
    const [claim, enrolled] = enrollAffiliate(evolveProgram(null, created)!, { affiliateId: 'a1', name: 'Ann', email: 'ann@example.com', code: 'ann', now: '2026-01-02T00:00:00.000Z' });
    await store.appendBatch([
      { streamId: programStream('p1'), expectedRevision: 'no_stream', events: [{ id: `${name}-1`, type: created.type, data: { ...created } }] },
      { streamId: codeStream('ann'), expectedRevision: 'no_stream', events: [{ id: `${name}-2`, type: claim.type, data: { ...claim } }] },
      { streamId: affiliateStream('a1'), expectedRevision: 'no_stream', events: [{ id: `${name}-3`, type: enrolled.type, data: { ...enrolled } }] },
    ]);
    const config = { ...loadConfig({ DATA_DIR: dir, TRACKING_SECRET: 'a-tracking-secret' }) };
    const handler = new IngestTrackingBatchHandler(store, new StreamCache(store), new Metrics(), config);
    return { store, handler };
  }

  const message = conversionMessage({ storefrontId: 'sf1', programId: 'p1' }, { orderId: 'o-1', amountMinor: 5000, currency: 'EUR', affiliateCode: 'ann' }, NOW);

  it('given a processed batch, when it is delivered again, then nothing new is appended', async () => {
    const { store, handler } = await setUp('a');
    expect(await handler.execute(new IngestTrackingBatchCommand([message]))).toEqual([{ status: 'processed' }]);
    const head = await store.headPosition();
    expect(await handler.execute(new IngestTrackingBatchCommand([message, message]))).toEqual([{ status: 'processed' }, { status: 'processed' }]);
    expect(await store.headPosition()).toBe(head);
    const ledger = await store.readStream(affiliateStream('a1'));
    expect(ledger.filter((e) => e.type === 'CommissionEarned').map((e) => e.data.amountMinor)).toEqual([500]);
  });

  it('given an order on record whose commission append was lost, when the order is redelivered, then the same commission is appended once', async () => {
    const first = await setUp('a');
    await first.handler.execute(new IngestTrackingBatchCommand([message]));
    const [conversion] = await first.store.readStream(orderStream('sf1', 'o-1'));
    const [commission] = (await first.store.readStream(affiliateStream('a1'))).filter((e) => e.type === 'CommissionEarned');

    // Another store holds the order but not the commission: what a crash between the two appends leaves.
    const crashed = await setUp('b');
    await crashed.store.append({ streamId: orderStream('sf1', 'o-1'), expectedRevision: 'no_stream', events: [{ id: conversion.id, type: conversion.type, data: conversion.data }] });

    await crashed.handler.execute(new IngestTrackingBatchCommand([message]));
    await crashed.handler.execute(new IngestTrackingBatchCommand([message]));
    const completed = (await crashed.store.readStream(affiliateStream('a1'))).filter((e) => e.type === 'CommissionEarned');
    expect(completed).toHaveLength(1);
    expect(completed[0].id).toBe(commission.id);
    expect(completed[0].data).toEqual(commission.data);
  });
});
