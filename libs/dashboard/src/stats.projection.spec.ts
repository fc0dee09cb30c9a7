import { RecordedEvent } from '@lib/event-store/event-store.port';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { namespaceOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { AttributionOutcome } from '@lib/attribution/attribution.events';
import { AffiliateStatsDoc, BucketDoc, owed, payable, ProgramTotalsDoc, SortKey, statsKeys, statsProjection } from './stats.projection';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2025-03-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ns = namespaceOf(statsProjection);

/** A log in the making: each event gets the next global position and its stream's next revision. */
function log() {
  let position = 0;
  const revisions = new Map<string, number>();
  const events: RecordedEvent[] = [];
  const add = (streamId: string, data: { type: string; occurredAt: string }, recordedAt = data.occurredAt) => {
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    position += 1;
    events.push({ id: `ev-${position}`, streamId, revision, position, type: data.type, schemaVersion: 1, data, metadata: {}, recordedAt });
  };
  return {
    events,
    enrolled(affiliateId: string, occurredAt = at(0)) {
      add(`affiliate-${affiliateId}`, {
        type: 'AffiliateEnrolled',
        programId: 'p1',
        affiliateId,
        name: `Name of ${affiliateId}`,
        email: `${affiliateId}@example.com`,
        code: `code-${affiliateId}`,
        landingUrl: null,
        commission: null,
        occurredAt,
      } as never);
    },
    status(affiliateId: string, status: 'active' | 'suspended', occurredAt: string) {
      add(`affiliate-${affiliateId}`, { type: 'AffiliateStatusChanged', programId: 'p1', affiliateId, status, occurredAt } as never);
    },
    click(affiliateId: string, occurredAt: string, opts: { visitor?: string | null; bot?: boolean } = {}) {
      const clickId = `ck-${position + 1}`;
      add(`click-${clickId}`, {
        type: 'ClickRecorded',
        programId: 'p1',
        affiliateId,
        clickId,
        occurredAt,
        visitorHash: opts.visitor === undefined ? `visitor-${position + 1}` : opts.visitor,
        userAgent: 'Mozilla/5.0',
        referrer: null,
        subId: null,
        bot: opts.bot ?? false,
        source: 'redirect',
        storefrontId: null,
        cookieWindowDays: 30,
      } as never);
    },
    conversion(orderId: string, occurredAt: string, attribution: Partial<AttributionOutcome>) {
      add(`order-sf1-${orderId}`, {
        type: 'ConversionRecorded',
        programId: 'p1',
        storefrontId: 'sf1',
        conversionId: `cv-${orderId}`,
        orderId,
        amountMinor: 10_000,
        currency: 'EUR',
        customerId: null,
        occurredAt,
        clickId: null,
        affiliateCode: null,
        attribution: {
          attributed: false,
          reason: 'no_click',
          method: null,
          affiliateId: null,
          clickId: null,
          clickAt: null,
          expiresAt: null,
          cookieWindowDays: null,
          ...attribution,
        },
        payloadHash: `hash-${orderId}`,
        duplicateOf: null,
      } as never);
    },
    commission(affiliateId: string, amountMinor: number, occurredAt: string, availableAt = occurredAt) {
      add(`affiliate-${affiliateId}`, {
        type: 'CommissionEarned',
        programId: 'p1',
        affiliateId,
        conversionId: `cv-${position + 1}`,
        storefrontId: 'sf1',
        orderId: `o-${position + 1}`,
        orderAmountMinor: amountMinor * 10,
        amountMinor,
        currency: 'EUR',
        rule: { type: 'percent', basisPoints: 1000 },
        ruleSource: 'program',
        ruleVersion: 1,
        occurredAt,
        availableAt,
      } as never);
    },
    payout(affiliateId: string, payoutId: string, amountMinor: number, occurredAt: string) {
      add(`affiliate-${affiliateId}`, {
        type: 'PayoutRecorded',
        programId: 'p1',
        affiliateId,
        payoutId,
        amountMinor,
        currency: 'EUR',
        reference: null,
        paidAt: occurredAt,
        occurredAt,
        idempotencyKey: `key-${payoutId}`,
        requestHash: `req-${payoutId}`,
      } as never);
    },
    voided(affiliateId: string, payoutId: string, amountMinor: number, occurredAt: string) {
      add(`affiliate-${affiliateId}`, { type: 'PayoutVoided', programId: 'p1', affiliateId, payoutId, amountMinor, reason: 'bounced', occurredAt } as never);
    },
  };
}

const attributedTo = (affiliateId: string): Partial<AttributionOutcome> => ({ attributed: true, reason: 'attributed', method: 'code', affiliateId });

async function project(...batches: RecordedEvent[][]): Promise<InMemoryViewStore> {
  const store = new InMemoryViewStore();
  for (const batch of batches) await applyBatch(statsProjection, batch, store);
  return store;
}

const affiliateDoc = (store: InMemoryViewStore, id: string) => store.get<AffiliateStatsDoc>(ns + statsKeys.affiliate(id)).then((d) => d!);
const programDoc = (store: InMemoryViewStore) => store.get<ProgramTotalsDoc>(ns + statsKeys.program('p1')).then((d) => d!);
const bucketDoc = (store: InMemoryViewStore, interval: 'hour' | 'day', start: string) => store.get<BucketDoc>(ns + statsKeys.bucket('p1', interval, start));
const ranking = async (store: InMemoryViewStore, sort: SortKey) =>
  (await store.zrange(ns + statsKeys.rank('p1', sort), { order: 'desc', limit: 100 })).map((e) => [e.member, e.score]);

/** A history touching every counter, without status changes (see the status tests). */
function richHistory() {
  const h = log();
  h.enrolled('a1');
  h.enrolled('a2');
  h.click('a1', at(HOUR), { visitor: 'v1' });
  h.click('a1', at(2 * HOUR), { visitor: 'v1' });
  h.click('a1', at(2 * HOUR), { visitor: 'v2', bot: true });
  h.click('a2', at(3 * HOUR), { visitor: 'v1' });
  h.conversion('o1', at(4 * HOUR), attributedTo('a1'));
  h.commission('a1', 1000, at(4 * HOUR), at(4 * HOUR + 14 * DAY));
  h.conversion('o2', at(5 * HOUR), {});
  h.click('a2', at(DAY + HOUR), { visitor: null });
  h.conversion('o3', at(DAY + 2 * HOUR), attributedTo('a2'));
  h.commission('a2', 2500, at(DAY + 2 * HOUR));
  h.payout('a2', 'po1', 2500, at(2 * DAY));
  h.voided('a2', 'po1', 2500, at(2 * DAY + HOUR));
  h.payout('a2', 'po2', 2000, at(2 * DAY + 2 * HOUR));
  return h.events;
}

describe('stats projection', () => {
  it('given human and bot clicks, when projected, then bots count only as botClicks', async () => {
    const h = log();
    h.enrolled('a1');
    h.click('a1', at(HOUR), { visitor: 'v1' });
    h.click('a1', at(2 * HOUR), { visitor: 'v2', bot: true });
    h.click('a1', at(3 * HOUR), { visitor: 'v3', bot: true });
    const store = await project(h.events);
    expect(await affiliateDoc(store, 'a1')).toMatchObject({ clicks: 1, uniqueClicks: 1, botClicks: 2, lastClickAt: at(HOUR) });
    expect(await programDoc(store)).toMatchObject({ clicks: 1, uniqueClicks: 1, botClicks: 2 });
    expect(await bucketDoc(store, 'hour', at(2 * HOUR))).toBeNull();
  });

  it('given one visitor clicking again within 24 h, when projected, then the second click counts as a click but not a unique one', async () => {
    const h = log();
    h.enrolled('a1');
    h.click('a1', at(0), { visitor: 'v1' });
    h.click('a1', at(DAY - 1), { visitor: 'v1' });
    h.click('a1', at(DAY), { visitor: 'v1' });
    h.click('a1', at(DAY + HOUR), { visitor: 'v1' });
    const store = await project(h.events);
    // 0: unique; 24 h − 1 ms later: not; 24 h after the counted one: unique again; 1 h after that: not.
    expect(await affiliateDoc(store, 'a1')).toMatchObject({ clicks: 4, uniqueClicks: 2 });
    expect(await programDoc(store)).toMatchObject({ clicks: 4, uniqueClicks: 2 });
  });

  it('given the same visitor on two affiliates, and clicks without a visitor hash, when projected, then each counts as unique', async () => {
    const h = log();
    h.enrolled('a1');
    h.enrolled('a2');
    h.click('a1', at(0), { visitor: 'v1' });
    h.click('a2', at(HOUR), { visitor: 'v1' });
    h.click('a1', at(2 * HOUR), { visitor: null });
    h.click('a1', at(3 * HOUR), { visitor: null });
    const store = await project(h.events);
    expect(await affiliateDoc(store, 'a1')).toMatchObject({ clicks: 3, uniqueClicks: 3 });
    expect(await affiliateDoc(store, 'a2')).toMatchObject({ clicks: 1, uniqueClicks: 1 });
    expect(await programDoc(store)).toMatchObject({ clicks: 4, uniqueClicks: 4 });
  });

  it('given attributed and unattributed conversions and a duplicate, when projected, then only attributed ones count as conversions and the duplicate is counted apart', async () => {
    const h = log();
    h.enrolled('a1');
    h.conversion('o1', at(HOUR), attributedTo('a1'));
    h.conversion('o2', at(2 * HOUR), { reason: 'no_click' });
    h.conversion('o3', at(3 * HOUR), { reason: 'self_referral', method: 'code', affiliateId: 'a1' });
    h.conversion('o1', at(4 * HOUR), { reason: 'duplicate_order' });
    const store = await project(h.events);
    expect(await affiliateDoc(store, 'a1')).toMatchObject({ conversions: 1, lastConversionAt: at(HOUR) });
    expect(await programDoc(store)).toMatchObject({ conversions: 1, unattributed: 2, duplicateOrders: 1 });
    expect(await bucketDoc(store, 'hour', at(HOUR))).toMatchObject({ conversions: 1 });
    expect(await bucketDoc(store, 'hour', at(2 * HOUR))).toBeNull();
  });

  it('given commissions, a payout, its void and another payout, when projected, then earned, paid and owed follow', async () => {
    const h = log();
    h.enrolled('a1');
    h.commission('a1', 1000, at(DAY));
    h.commission('a1', 500, at(2 * DAY));
    h.payout('a1', 'po1', 1200, at(20 * DAY));
    const afterFirstPayout = await project(h.events);
    expect(await affiliateDoc(afterFirstPayout, 'a1')).toMatchObject({ earnedMinor: 1500, paidMinor: 1200 });

    h.voided('a1', 'po1', 1200, at(21 * DAY));
    h.payout('a1', 'po2', 1500, at(22 * DAY));
    const store = await project(h.events);
    const a1 = await affiliateDoc(store, 'a1');
    expect(a1).toMatchObject({ earnedMinor: 1500, paidMinor: 1500 });
    expect(owed(a1)).toBe(0);
    expect(await programDoc(store)).toMatchObject({ earnedMinor: 1500, paidMinor: 1500 });
  });

  it('given a commission still in its hold, when payable is read, then it excludes the held amount until the hold ends', async () => {
    const h = log();
    h.enrolled('a1');
    h.commission('a1', 1000, at(0));
    h.commission('a1', 4000, at(DAY), at(15 * DAY));
    const a1 = await affiliateDoc(await project(h.events), 'a1');
    expect(owed(a1)).toBe(5000);
    expect(payable(a1, a1.pending, T0 + 2 * DAY)).toBe(1000);
    expect(payable(a1, a1.pending, T0 + 15 * DAY)).toBe(5000);
  });

  it('given clicks, conversions and commissions over two hours and two days, when projected, then hour and day buckets add up', async () => {
    const h = log();
    h.enrolled('a1');
    h.click('a1', at(10 * HOUR + 15 * 60_000));
    h.click('a1', at(10 * HOUR + 45 * 60_000));
    h.click('a1', at(11 * HOUR + 5 * 60_000));
    h.click('a1', at(11 * HOUR + 6 * 60_000), { bot: true });
    h.conversion('o1', at(10 * HOUR + 30 * 60_000), attributedTo('a1'));
    h.commission('a1', 1250, at(10 * HOUR + 30 * 60_000));
    h.click('a1', at(DAY + 3 * HOUR));
    const store = await project(h.events);
    expect(await bucketDoc(store, 'hour', at(10 * HOUR))).toEqual({ clicks: 2, conversions: 1, commission: 1250 });
    expect(await bucketDoc(store, 'hour', at(11 * HOUR))).toEqual({ clicks: 1, conversions: 0, commission: 0 });
    expect(await bucketDoc(store, 'day', at(0))).toEqual({ clicks: 3, conversions: 1, commission: 1250 });
    expect(await bucketDoc(store, 'day', at(DAY))).toEqual({ clicks: 1, conversions: 0, commission: 0 });
    expect(await bucketDoc(store, 'hour', at(DAY + 3 * HOUR))).toEqual({ clicks: 1, conversions: 0, commission: 0 });
  });

  it('given three affiliates, when projected, then each rank sorted set orders them by its metric', async () => {
    const h = log();
    h.enrolled('a1');
    h.enrolled('a2');
    h.enrolled('a3');
    for (let i = 0; i < 10; i++) h.click('a1', at(i * HOUR));
    for (let i = 0; i < 4; i++) h.click('a2', at(i * HOUR));
    h.conversion('o1', at(HOUR), attributedTo('a1'));
    h.conversion('o2', at(HOUR), attributedTo('a2'));
    h.conversion('o3', at(HOUR), attributedTo('a2'));
    h.commission('a1', 900, at(HOUR));
    h.commission('a2', 300, at(HOUR));
    h.commission('a2', 300, at(HOUR));
    h.payout('a1', 'po1', 800, at(DAY));
    const store = await project(h.events);
    expect(await ranking(store, 'clicks')).toEqual([['a1', 10], ['a2', 4], ['a3', 0]]);
    expect(await ranking(store, 'conversions')).toEqual([['a2', 2], ['a1', 1], ['a3', 0]]);
    expect(await ranking(store, 'conversionRate')).toEqual([['a2', 0.5], ['a1', 0.1], ['a3', 0]]);
    expect(await ranking(store, 'commissionEarnedMinor')).toEqual([['a1', 900], ['a2', 600], ['a3', 0]]);
    expect(await ranking(store, 'commissionOwedMinor')).toEqual([['a2', 600], ['a1', 100], ['a3', 0]]);
  });

  it('given an affiliate enrolled and suspended in the same batch, when projected, then the stats show the status', async () => {
    const h = log();
    h.enrolled('a1');
    h.status('a1', 'suspended', at(HOUR));
    expect(await affiliateDoc(await project(h.events), 'a1')).toMatchObject({ status: 'suspended' });
  });

  it('given an enrolled affiliate, when a suspension arrives in a batch of its own, then the stats show the status', async () => {
    const h = log();
    h.enrolled('a1');
    h.status('a1', 'suspended', at(HOUR));
    const store = await project(h.events.slice(0, 1), h.events.slice(1));
    expect(await affiliateDoc(store, 'a1')).toMatchObject({ status: 'suspended' });
  });

  it('given a history, when it is applied in one batch or split into batches anywhere, then the views have the same content hash', async () => {
    const events = richHistory();
    const expected = await (await project(events)).contentHash(ns);
    for (let cut = 1; cut < events.length; cut++) {
      const store = await project(events.slice(0, cut), events.slice(cut));
      expect({ cut, hash: await store.contentHash(ns) }).toEqual({ cut, hash: expected });
    }
    const oneByOne = await project(...events.map((e) => [e]));
    expect(await oneByOne.contentHash(ns)).toBe(expected);
  });

  it('given the last batch was committed, when it is delivered again, then nothing changes', async () => {
    const events = richHistory();
    const store = await project(events.slice(0, 8), events.slice(8));
    const hash = await store.contentHash(ns);
    await applyBatch(statsProjection, events.slice(8), store);
    expect(await store.contentHash(ns)).toBe(hash);
    expect(await store.checkpoint('stats')).toBe(events[events.length - 1].position);
  });

  it('given a committed batch, when a batch overlapping it is delivered (redelivery plus new events), then only the events after the checkpoint count', async () => {
    const events = richHistory();
    const expected = await (await project(events)).contentHash(ns);
    const store = await project(events.slice(0, 8), events.slice(5));
    expect(await store.contentHash(ns)).toBe(expected);
    expect(await store.checkpoint('stats')).toBe(events[events.length - 1].position);
  });

  it('given two committed batches, when the older one is delivered again, then nothing changes: neither the views nor the checkpoint', async () => {
    const events = richHistory();
    const store = await project(events.slice(0, 8), events.slice(8));
    const hash = await store.contentHash(ns);
    await applyBatch(statsProjection, events.slice(0, 8), store);
    expect(await store.contentHash(ns)).toBe(hash);
    expect(await store.checkpoint('stats')).toBe(events[events.length - 1].position);
  });

  it('given two committed batches, when both are redelivered in order (a subscription restarted from an older position), then no total is counted twice', async () => {
    const events = richHistory();
    const store = await project(events.slice(0, 8), events.slice(8));
    const hash = await store.contentHash(ns);
    await applyBatch(statsProjection, events.slice(0, 8), store);
    await applyBatch(statsProjection, events.slice(8), store);
    expect(await store.contentHash(ns)).toBe(hash);
  });
});
