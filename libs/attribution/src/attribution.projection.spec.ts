import { RecordedEvent } from '@lib/event-store/event-store.port';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { namespaceOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { attributionKeys, attributionProjection, ConversionDoc } from './attribution.projection';
import { AttributionOutcome, ConversionRecorded } from './attribution.events';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ns = namespaceOf(attributionProjection);

const outcome = (over: Partial<AttributionOutcome> = {}): AttributionOutcome => ({
  attributed: false,
  reason: 'no_click',
  method: null,
  affiliateId: null,
  clickId: null,
  clickAt: null,
  expiresAt: null,
  cookieWindowDays: null,
  ...over,
});

const clicked = (clickId: string): AttributionOutcome =>
  outcome({ attributed: true, reason: 'attributed', method: 'click', affiliateId: 'a1', clickId, clickAt: at(0), expiresAt: at(30 * 24 * HOUR), cookieWindowDays: 30 });

function conversion(orderId: string, occurredAt: string, attribution: AttributionOutcome, over: Partial<ConversionRecorded> = {}): ConversionRecorded {
  return {
    type: 'ConversionRecorded',
    programId: 'p1',
    storefrontId: 'sf1',
    conversionId: `cv-${orderId}`,
    orderId,
    amountMinor: 10_000,
    currency: 'EUR',
    customerId: 'cust-1',
    occurredAt,
    clickId: attribution.clickId,
    affiliateCode: null,
    attribution,
    payloadHash: `hash-${orderId}`,
    duplicateOf: null,
    ...over,
  };
}

/** Wraps events the way the store records them: global positions increasing, a revision per stream. */
function recorded(...events: ConversionRecorded[]): RecordedEvent<ConversionRecorded>[] {
  const revisions = new Map<string, number>();
  return events.map((data, i) => {
    const streamId = `order-${data.storefrontId}-${data.orderId}`;
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    return { id: `rec-${i + 1}`, streamId, revision, position: i + 1, type: data.type, schemaVersion: 1, data, metadata: {}, recordedAt: at(100 * HOUR + i) };
  });
}

async function project(...batches: RecordedEvent[][]): Promise<InMemoryViewStore> {
  const store = new InMemoryViewStore();
  for (const batch of batches) await applyBatch(attributionProjection, batch, store);
  return store;
}

const history = () =>
  recorded(
    conversion('o1', at(3 * HOUR), clicked('ck1')),
    conversion('o2', at(1 * HOUR), outcome({ reason: 'no_click' })),
    conversion('o3', at(2 * HOUR), outcome({ reason: 'click_expired', method: 'click', affiliateId: 'a1', clickId: 'ck1' })),
    conversion('o1', at(4 * HOUR), outcome({ reason: 'duplicate_order', clickId: 'ck1' }), { conversionId: 'cv-o1-again', duplicateOf: 'cv-o1', payloadHash: 'other' }),
    conversion('o4', at(5 * HOUR), outcome({ reason: 'unknown_code', method: 'code' }), { affiliateCode: 'nobody' }),
  );

describe('attribution projection', () => {
  it('given a recorded conversion, when projected, then its document carries the outcome and the recorded time', async () => {
    const events = history();
    const store = await project(events);
    expect(await store.get<ConversionDoc>(ns + attributionKeys.record('rec-1'))).toEqual({
      recordId: 'rec-1',
      conversionId: 'cv-o1',
      programId: 'p1',
      storefrontId: 'sf1',
      orderId: 'o1',
      amountMinor: 10_000,
      currency: 'EUR',
      customerId: 'cust-1',
      occurredAt: at(3 * HOUR),
      recordedAt: events[0].recordedAt,
      clickId: 'ck1',
      affiliateCode: null,
      attribution: clicked('ck1'),
      duplicateOf: null,
    });
  });

  it('given an order and its duplicate, when projected, then the order index lists both records in order, the duplicate pointing at the first', async () => {
    const store = await project(history());
    expect(await store.get(ns + attributionKeys.order('p1', 'o1'))).toEqual(['rec-1', 'rec-4']);
    expect(await store.get<ConversionDoc>(ns + attributionKeys.record('rec-4'))).toMatchObject({ duplicateOf: 'cv-o1', attribution: { reason: 'duplicate_order' } });
    expect(await store.get(ns + attributionKeys.order('p1', 'o2'))).toEqual(['rec-2']);
  });

  it('given conversions that carried a click id, when projected, then the click index lists them', async () => {
    const store = await project(history());
    expect(await store.get(ns + attributionKeys.click('ck1'))).toEqual(['rec-1', 'rec-3', 'rec-4']);
    expect(await store.get(ns + attributionKeys.click('ck-unknown'))).toBeNull();
  });

  it('given attributed and unattributed conversions, when projected, then only the unattributed are indexed, by the time they happened', async () => {
    const store = await project(history());
    const entries = await store.zrange(ns + attributionKeys.unattributed('p1'), { order: 'asc', limit: 100 });
    expect(entries).toEqual([
      { member: 'rec-2', score: T0 + 1 * HOUR },
      { member: 'rec-3', score: T0 + 2 * HOUR },
      { member: 'rec-4', score: T0 + 4 * HOUR },
      { member: 'rec-5', score: T0 + 5 * HOUR },
    ]);
  });

  it('given a history, when it is applied in one batch or split into batches anywhere, then the views have the same content hash', async () => {
    const events = history();
    const expected = await (await project(events)).contentHash(ns);
    for (let cut = 1; cut < events.length; cut++) {
      expect({ cut, hash: await (await project(events.slice(0, cut), events.slice(cut))).contentHash(ns) }).toEqual({ cut, hash: expected });
    }
  });

  it('given a committed batch, when it is delivered again, then the indexes do not list anything twice', async () => {
    const events = history();
    const store = await project(events.slice(0, 2), events.slice(2));
    const hash = await store.contentHash(ns);
    await applyBatch(attributionProjection, events.slice(2), store);
    expect(await store.contentHash(ns)).toBe(hash);
    expect(await store.get(ns + attributionKeys.order('p1', 'o1'))).toEqual(['rec-1', 'rec-4']);
    expect(await store.checkpoint('attribution')).toBe(5);
  });
});
