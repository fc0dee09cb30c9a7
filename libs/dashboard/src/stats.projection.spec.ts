import { RecordedEvent } from '@lib/event-store/event-store.port';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { namespaceOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { at, attributedTo, DAY, HOUR, log, richHistory, T0 } from './testing/stats-history';
import { AffiliateStatsDoc, BucketDoc, manyClicksLevelFor, manyClicksLevels, owed, payable, ProgramTotalsDoc, SortKey, statsKeys, statsProjection } from './stats.projection';
import { MIN_MANY_CLICKS } from './insights';

const ns = namespaceOf(statsProjection);

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

  it('given commissions in their hold, when projected, then the program keeps them per day of release, and indexes those days', async () => {
    const h = log();
    h.enrolled('a1');
    h.commission('a1', 1000, at(0));
    h.commission('a1', 4000, at(DAY), at(15 * DAY + HOUR));
    h.commission('a1', 500, at(DAY), at(15 * DAY + 2 * HOUR));
    h.commission('a1', 700, at(2 * DAY), at(20 * DAY));
    const store = await project(h.events);
    expect(await store.get(ns + statsKeys.held('p1', T0 + 15 * DAY))).toEqual([
      [T0 + 15 * DAY + HOUR, 4000],
      [T0 + 15 * DAY + 2 * HOUR, 500],
    ]);
    const days = await store.zrangeByScore(ns + statsKeys.heldDays('p1'), { min: T0 + 16 * DAY, order: 'asc', limit: 10 });
    expect(days).toEqual([{ member: String(T0 + 20 * DAY), score: T0 + 20 * DAY }]);
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

  describe('the distribution and attention indexes', () => {
    const members = async (store: InMemoryViewStore, key: string) =>
      (await store.zrange(ns + key, { order: 'asc', limit: 1000 })).map((e) => [e.member, e.score]);

    it('given active affiliates, when projected, then the active index holds each with its clicks, read by rank for the median', async () => {
      const h = log();
      for (const id of ['a1', 'a2', 'a3']) h.enrolled(id);
      for (let i = 0; i < 5; i++) h.click('a1', at(i * HOUR));
      h.click('a2', at(HOUR));
      h.click('a2', at(HOUR), { bot: true });
      const store = await project(h.events);
      expect(await members(store, statsKeys.active('p1'))).toEqual([['a3', 0], ['a2', 1], ['a1', 5]]);
      expect(await store.zrangeByRank(ns + statsKeys.active('p1'), 1, 1)).toEqual([{ member: 'a2', score: 1 }]);
    });

    it(`given clicks crossing ${MIN_MANY_CLICKS} and ${2 * MIN_MANY_CLICKS}, when projected, then the affiliate joins each many-clicks level it reaches, scored by its conversion rate`, async () => {
      const h = log();
      h.enrolled('a1');
      h.enrolled('a2');
      for (let i = 0; i < 2 * MIN_MANY_CLICKS; i++) h.click('a1', at(i * 60_000));
      for (let i = 0; i < MIN_MANY_CLICKS - 1; i++) h.click('a2', at(i * 60_000));
      h.conversion('o1', at(DAY), attributedTo('a1'));
      const store = await project(h.events);
      const rate = 1 / (2 * MIN_MANY_CLICKS);
      expect(await members(store, statsKeys.manyClicks('p1', 0))).toEqual([['a1', rate]]);
      expect(await members(store, statsKeys.manyClicks('p1', 1))).toEqual([['a1', rate]]);
      expect(await members(store, statsKeys.manyClicks('p1', 2))).toEqual([]);
    });

    it('given a suspension and a reactivation, when projected, then the affiliate leaves every active index and comes back', async () => {
      const h = log();
      h.enrolled('a1');
      h.enrolled('a2');
      for (let i = 0; i < MIN_MANY_CLICKS; i++) h.click('a1', at(i * 60_000));
      h.status('a1', 'suspended', at(DAY));
      const suspended = await project(h.events);
      expect(await members(suspended, statsKeys.active('p1'))).toEqual([['a2', 0]]);
      expect(await members(suspended, statsKeys.manyClicks('p1', 0))).toEqual([]);
      // The list's sort indexes keep suspended affiliates: the list shows everyone.
      expect(await ranking(suspended, 'clicks')).toEqual([['a1', MIN_MANY_CLICKS], ['a2', 0]]);

      h.status('a1', 'active', at(2 * DAY));
      const back = await project(h.events);
      expect(await members(back, statsKeys.active('p1'))).toEqual([['a2', 0], ['a1', MIN_MANY_CLICKS]]);
      expect(await members(back, statsKeys.manyClicks('p1', 0))).toEqual([['a1', 0]]);
    });

    it('levels: an affiliate with n clicks is in the levels whose bar (MIN_MANY_CLICKS · 2^level) it reaches; a bar is served by the level just under it', () => {
      expect([0, MIN_MANY_CLICKS - 1, MIN_MANY_CLICKS, 2 * MIN_MANY_CLICKS - 1, 2 * MIN_MANY_CLICKS, 4 * MIN_MANY_CLICKS].map(manyClicksLevels)).toEqual([0, 0, 1, 1, 2, 3]);
      for (const bar of [MIN_MANY_CLICKS, 30, 2 * MIN_MANY_CLICKS, 99, 1000, 123_457]) {
        const level = manyClicksLevelFor(bar);
        const levelBar = MIN_MANY_CLICKS * 2 ** level;
        // Every member of the level has at least half the bar; nobody with the bar's clicks is missing from it.
        expect(levelBar).toBeLessThanOrEqual(bar);
        expect(levelBar * 2).toBeGreaterThan(bar);
      }
    });
  });
});
