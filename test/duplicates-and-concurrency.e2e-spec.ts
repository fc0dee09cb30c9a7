/**
 * Nothing is counted twice (retries, duplicate orders, batches) and a payout never spends the same
 * balance twice, even when requests race.
 */
import { countEvents, readEvents, RunningApp, settle, startApp } from './support/app';
import { ensureBuilt } from './support/build';
import { expectError, expectStatus } from './support/expect';
import { affiliateStats, attribution, browserUA, click, convert, dashboard, enroll, programWithStorefront } from './support/fixtures';

let app: RunningApp;

beforeAll(async () => {
  ensureBuilt();
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.stop();
  app?.cleanup();
});

describe('the same order sent again', () => {
  let programId: string;
  let storefrontId: string;
  let key: string;
  let affiliate: Record<string, any>;
  let clickId: string;
  let firstConversionId: string;
  const order = { orderId: 'dup-1', amountMinor: 10000, currency: 'EUR' };

  beforeAll(async () => {
    const setup = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 } });
    programId = setup.program.id;
    storefrontId = setup.storefront.id;
    key = setup.key;
    affiliate = await enroll(app, programId);
    clickId = await click(app, key, { code: affiliate.code, ip: '198.51.100.1', userAgent: browserUA() });
  });

  it('twice via /v1/conversions and again inside /v1/batch counts once', async () => {
    const first = await app.sf(key, 'POST', '/v1/conversions', { ...order, clickId });
    expectStatus(first, 202);
    firstConversionId = first.body.conversionId;
    await settle(app, programId);
    const totalsAfterFirst = (await dashboard(app, programId)).totals;
    expect(totalsAfterFirst).toMatchObject({ conversions: 1, commissionEarnedMinor: 1000 });

    const again = await app.sf(key, 'POST', '/v1/conversions', { ...order, clickId });
    expectStatus(again, 202);
    expect(again.body.conversionId).toBe(firstConversionId);
    const batch = await app.sf(key, 'POST', '/v1/batch', { events: [{ type: 'conversion', ...order, clickId }] });
    expectStatus(batch, 202);
    expect(batch.body.results).toEqual([{ index: 0, status: 'accepted', id: firstConversionId }]);

    await settle(app, programId);
    expect((await dashboard(app, programId)).totals).toEqual(totalsAfterFirst);
    expect(await affiliateStats(app, programId, affiliate.id)).toMatchObject({ conversions: 1, commissionEarnedMinor: 1000 });
    const recorded = readEvents(app.dataDir, { type: 'ConversionRecorded', programId }).filter((e) => e.data.orderId === 'dup-1');
    expect(recorded).toHaveLength(1);
    expect(recorded[0].streamId).toBe(`order-${storefrontId}-dup-1`);
    expect(readEvents(app.dataDir, { type: 'CommissionEarned', programId }).filter((e) => e.data.orderId === 'dup-1')).toHaveLength(1);
  });

  it('a different payload for the same order id is recorded as duplicate_order and earns nothing', async () => {
    await settle(app, programId);
    const totalsBefore = (await dashboard(app, programId)).totals;
    const res = await app.sf(key, 'POST', '/v1/conversions', { ...order, amountMinor: 25000, clickId });
    expectStatus(res, 202);
    await settle(app, programId);

    const totalsAfter = (await dashboard(app, programId)).totals;
    expect({ conversions: totalsAfter.conversions, earned: totalsAfter.commissionEarnedMinor }).toEqual({
      conversions: totalsBefore.conversions,
      earned: totalsBefore.commissionEarnedMinor,
    });
    const recorded = readEvents(app.dataDir, { type: 'ConversionRecorded', programId }).filter((e) => e.data.orderId === 'dup-1');
    expect(recorded.map((e) => [e.data.attribution.reason, e.data.amountMinor])).toEqual([
      ['attributed', 10000],
      ['duplicate_order', 25000],
    ]);
    expect(recorded[1].data.attribution.attributed).toBe(false);
    expect(readEvents(app.dataDir, { type: 'CommissionEarned', programId }).filter((e) => e.data.orderId === 'dup-1')).toHaveLength(1);

    // The counted conversion stays the answer for the order; the copy is on record with its reason.
    const a = await attribution(app, programId, { orderId: 'dup-1' });
    expect(a).toMatchObject({ attributed: true, reason: 'attributed' });
    expect(JSON.stringify(a)).toContain('duplicate_order');
  });
});

describe('/v1/batch', () => {
  let programId: string;
  let storefrontId: string;
  let key: string;
  let affiliate: Record<string, any>;

  beforeAll(async () => {
    const setup = await programWithStorefront(app);
    programId = setup.program.id;
    storefrontId = setup.storefront.id;
    key = setup.key;
    affiliate = await enroll(app, programId);
  });

  it('answers per item: accepted with an id, rejected with an error; only the accepted ones are stored', async () => {
    const res = await app.sf(key, 'POST', '/v1/batch', {
      events: [
        { type: 'click', code: affiliate.code, ip: '198.51.100.20', userAgent: browserUA(20) },
        { type: 'click', code: 'x' },
        { type: 'conversion', orderId: 'batch-ok', amountMinor: 1500, currency: 'EUR', affiliateCode: affiliate.code },
        { type: 'conversion', orderId: 'batch-no-amount', currency: 'EUR' },
        { type: 'teleport', code: affiliate.code },
        { type: 'click', code: 'nobody-has-this' },
        { type: 'conversion', orderId: 'batch-usd', amountMinor: 1500, currency: 'USD' },
      ],
    });
    expectStatus(res, 202);
    const results = res.body.results;
    expect(results.map((r: any) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'rejected'],
      [2, 'accepted'],
      [3, 'rejected'],
      [4, 'rejected'],
      [5, 'rejected'],
      [6, 'rejected'],
    ]);
    for (const r of results.filter((r: any) => r.status === 'accepted')) expect(r.id).toEqual(expect.any(String));
    for (const r of results.filter((r: any) => r.status === 'rejected')) {
      expect(r.error).toEqual({ error: expect.any(String), message: expect.any(String), details: expect.any(Array) });
    }
    expect(results[1].error.error).toBe('validation_failed');
    expect(results[1].error.details.map((d: any) => d.field)).toContain('code');
    expect(results[3].error.error).toBe('validation_failed');
    expect(results[3].error.details.map((d: any) => d.field)).toContain('amountMinor');
    expect(results[4].error.error).toBe('validation_failed');
    expect(results[5].error.error).toBe('not_found');
    expect(results[6].error.error).toBe('currency_mismatch');

    expect(readEvents(app.dataDir, { streamId: `click-${results[0].id}` })).toHaveLength(1);
    expect(readEvents(app.dataDir, { streamId: `order-${storefrontId}-batch-ok` })).toHaveLength(1);
    expect(readEvents(app.dataDir, { streamId: `order-${storefrontId}-batch-no-amount` })).toHaveLength(0);
    expect(readEvents(app.dataDir, { streamId: `order-${storefrontId}-batch-usd` })).toHaveLength(0);
    await settle(app, programId);
    expect(await attribution(app, programId, { orderId: 'batch-ok' })).toMatchObject({ attributed: true, affiliateId: affiliate.id });
    expect(await affiliateStats(app, programId, affiliate.id)).toMatchObject({ clicks: 1, conversions: 1 });
  });

  it('more than 1000 items → 400 and nothing is appended', async () => {
    const before = countEvents(app.dataDir);
    const events = Array.from({ length: 1001 }, () => ({ type: 'click', code: affiliate.code }));
    expectError(await app.sf(key, 'POST', '/v1/batch', { events }), 400, 'validation_failed');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('exactly 1000 items are accepted', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({ type: 'click', code: affiliate.code, ip: `10.0.${i >> 8}.${i & 255}`, userAgent: browserUA(i) }));
    const before = countEvents(app.dataDir, 'ClickRecorded');
    const res = await app.sf(key, 'POST', '/v1/batch', { events });
    expectStatus(res, 202);
    expect(res.body.results.filter((r: any) => r.status === 'accepted')).toHaveLength(1000);
    expect(countEvents(app.dataDir, 'ClickRecorded')).toBe(before + 1000);
  });
});

describe('concurrent payouts', () => {
  let programId: string;
  let key: string;

  beforeAll(async () => {
    const setup = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 }, holdDays: 0, minimumPayoutMinor: 100 });
    programId = setup.program.id;
    key = setup.key;
  });

  const payoutUrl = (affiliateId: string) => `/api/programs/${programId}/affiliates/${affiliateId}/payouts`;

  it('5 requests with different keys, each for the full payable amount: one 201, four 409, paid once', async () => {
    const affiliate = await enroll(app, programId);
    await convert(app, key, { orderId: 'race-1', amountMinor: 50000, affiliateCode: affiliate.code });
    await settle(app, programId);
    const payable = (await affiliateStats(app, programId, affiliate.id)).commissionPayableMinor;
    expect(payable).toBe(5000);

    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => app.op('POST', payoutUrl(affiliate.id), { amountMinor: payable }, { 'idempotency-key': `race-key-${i}` })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const a of answers.filter((a) => a.status === 409)) expectError(a, 409, 'conflict');
    expect(answers.find((a) => a.status === 201)!.body.amountMinor).toBe(5000);

    const payouts = readEvents(app.dataDir, { type: 'PayoutRecorded', programId }).filter((e) => e.data.affiliateId === affiliate.id);
    expect(payouts).toHaveLength(1);
    const ledger = (await app.op('GET', `/api/programs/${programId}/affiliates/${affiliate.id}/ledger`)).body;
    for (const e of ledger.entries) expect(e.balance.owedMinor).toBeGreaterThanOrEqual(0);
    expect(ledger.balance).toEqual({ earnedMinor: 5000, paidMinor: 5000, owedMinor: 0 });
    await settle(app, programId);
    expect(await affiliateStats(app, programId, affiliate.id)).toMatchObject({ commissionPaidMinor: 5000, commissionOwedMinor: 0, commissionPayableMinor: 0 });
  });

  it('10 concurrent requests with the same Idempotency-Key make one payout and all get its answer', async () => {
    const affiliate = await enroll(app, programId);
    await convert(app, key, { orderId: 'race-2', amountMinor: 30000, affiliateCode: affiliate.code });
    await settle(app, programId);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => app.op('POST', payoutUrl(affiliate.id), { amountMinor: 3000 }, { 'idempotency-key': 'same-key' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((a) => a.body.payoutId)).size).toBe(1);
    for (const a of answers) expect(a.body).toEqual(answers[0].body);

    const payouts = readEvents(app.dataDir, { type: 'PayoutRecorded', programId }).filter((e) => e.data.affiliateId === affiliate.id);
    expect(payouts).toHaveLength(1);
    await settle(app, programId);
    expect(await affiliateStats(app, programId, affiliate.id)).toMatchObject({ commissionPaidMinor: 3000, commissionOwedMinor: 0 });
  });

  it('concurrent payouts for less than the balance never pay out more than was earned', async () => {
    const affiliate = await enroll(app, programId);
    await convert(app, key, { orderId: 'race-3', amountMinor: 25000, affiliateCode: affiliate.code });
    await settle(app, programId);
    // 2500 payable; 8 requests of 1000 each: exactly two fit.
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => app.op('POST', payoutUrl(affiliate.id), { amountMinor: 1000 }, { 'idempotency-key': `partial-${i}` })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(6);
    const ledger = (await app.op('GET', `/api/programs/${programId}/affiliates/${affiliate.id}/ledger`)).body;
    expect(ledger.balance).toEqual({ earnedMinor: 2500, paidMinor: 2000, owedMinor: 500 });
    for (const e of ledger.entries) expect(e.balance.owedMinor).toBeGreaterThanOrEqual(0);
  });
});

describe('races on codes and orders', () => {
  it('concurrent enrolments with the same code (in two programs): exactly one 201, the rest 409', async () => {
    const a = await programWithStorefront(app);
    const b = await programWithStorefront(app);
    const code = 'contested-code';
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        app.op('POST', `/api/programs/${i % 2 ? a.program.id : b.program.id}/affiliates`, { name: `Racer ${i}`, email: `racer${i}@example.com`, code }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of answers.filter((r) => r.status === 409)) expectError(r, 409, 'conflict');
    expect(readEvents(app.dataDir, { type: 'AffiliateEnrolled' }).filter((e) => e.data.code === code)).toHaveLength(1);
    expect(readEvents(app.dataDir, { streamId: `code-${code}` })).toHaveLength(1);
  });

  it('the same conversion sent 10 times at once is recorded once', async () => {
    const { program, key } = await programWithStorefront(app, { commission: { type: 'flat', amountMinor: 250 } });
    const affiliate = await enroll(app, program.id);
    const body = { orderId: 'burst-same', amountMinor: 4000, currency: 'EUR', affiliateCode: affiliate.code };
    const answers = await Promise.all(Array.from({ length: 10 }, () => app.sf(key, 'POST', '/v1/conversions', body)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((r) => r.body.conversionId)).size).toBe(1);
    expect(readEvents(app.dataDir, { type: 'ConversionRecorded', programId: program.id })).toHaveLength(1);
    expect(readEvents(app.dataDir, { type: 'CommissionEarned', programId: program.id })).toHaveLength(1);
    await settle(app, program.id);
    expect((await dashboard(app, program.id)).totals).toMatchObject({ conversions: 1, commissionEarnedMinor: 250 });
  });

  it('10 different payloads for one order id at once: one is counted, the others are duplicate_order', async () => {
    const { program, key } = await programWithStorefront(app, { commission: { type: 'flat', amountMinor: 250 } });
    const affiliate = await enroll(app, program.id);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        app.sf(key, 'POST', '/v1/conversions', { orderId: 'burst-varied', amountMinor: 4000 + i, currency: 'EUR', affiliateCode: affiliate.code }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(202));
    const recorded = readEvents(app.dataDir, { type: 'ConversionRecorded', programId: program.id });
    expect(recorded).toHaveLength(10);
    expect(recorded.filter((e) => e.data.attribution.reason === 'attributed')).toHaveLength(1);
    expect(recorded.filter((e) => e.data.attribution.reason === 'duplicate_order')).toHaveLength(9);
    expect(readEvents(app.dataDir, { type: 'CommissionEarned', programId: program.id })).toHaveLength(1);
    await settle(app, program.id);
    expect((await dashboard(app, program.id)).totals).toMatchObject({ conversions: 1, commissionEarnedMinor: 250 });
  });
});

describe('payouts racing with incoming conversions', () => {
  it('keeps owed = earned − paid, never negative, in the ledger, the store and the dashboard', async () => {
    const { program, key } = await programWithStorefront(app, { commission: { type: 'flat', amountMinor: 100 }, minimumPayoutMinor: 100 });
    const affiliate = await enroll(app, program.id);
    await convert(app, key, { orderId: 'seed-0', amountMinor: 1000, affiliateCode: affiliate.code });
    await settle(app, program.id);

    const conversions = Array.from({ length: 40 }, (_, i) =>
      app.sf(key, 'POST', '/v1/conversions', { orderId: `stream-${i}`, amountMinor: 1000, currency: 'EUR', affiliateCode: affiliate.code }),
    );
    const payouts = Array.from({ length: 20 }, (_, i) =>
      app.op('POST', `/api/programs/${program.id}/affiliates/${affiliate.id}/payouts`, { amountMinor: 100 }, { 'idempotency-key': `stream-pay-${i}` }),
    );
    const [conversionAnswers, payoutAnswers] = await Promise.all([Promise.all(conversions), Promise.all(payouts)]);
    expect(conversionAnswers.map((r) => r.status)).toEqual(Array(40).fill(202));
    for (const r of payoutAnswers) expect([201, 409, 422]).toContain(r.status);
    const paidCount = payoutAnswers.filter((r) => r.status === 201).length;
    expect(paidCount).toBeGreaterThanOrEqual(1);

    const stored = readEvents(app.dataDir, { streamId: `affiliate-${affiliate.id}` });
    expect(stored.filter((e) => e.type === 'CommissionEarned')).toHaveLength(41);
    expect(stored.filter((e) => e.type === 'PayoutRecorded')).toHaveLength(paidCount);
    let earned = 0;
    let paid = 0;
    for (const e of stored) {
      if (e.type === 'CommissionEarned') earned += e.data.amountMinor;
      if (e.type === 'PayoutRecorded') paid += e.data.amountMinor;
      // Every payout was covered by what had been earned before it.
      expect(earned - paid).toBeGreaterThanOrEqual(0);
    }

    const ledger = (await app.op('GET', `/api/programs/${program.id}/affiliates/${affiliate.id}/ledger`)).body;
    expect(ledger.balance).toEqual({ earnedMinor: 4100, paidMinor: paidCount * 100, owedMinor: 4100 - paidCount * 100 });
    for (const e of ledger.entries) expect(e.balance.owedMinor).toBeGreaterThanOrEqual(0);
    await settle(app, program.id);
    expect(await affiliateStats(app, program.id, affiliate.id)).toMatchObject({
      commissionEarnedMinor: 4100,
      commissionPaidMinor: paidCount * 100,
      commissionOwedMinor: 4100 - paidCount * 100,
    });
  });
});
