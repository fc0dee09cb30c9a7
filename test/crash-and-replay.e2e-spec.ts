/**
 * Nothing acknowledged is lost across a crash (kill -9 in the middle of a burst), every figure survives a
 * restart, and replaying the log from position 0 gives exactly the live views.
 */
import { headPosition, readEvents, RunningApp, settle, startApp } from './support/app';
import { ensureBuilt } from './support/build';
import { expectStatus } from './support/expect';
import {
  ago,
  attribution,
  browserUA,
  click,
  convert,
  dashboard,
  DAY_MS,
  enroll,
  HOUR_MS,
  iso,
  programWithStorefront,
  redirectClick,
  utcDayStart,
} from './support/fixtures';

const GOOGLEBOT_UA = 'Googlebot/2.1 (+http://www.google.com/bot.html)';

let app: RunningApp;

beforeAll(async () => {
  ensureBuilt();
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.stop();
  app?.cleanup();
});

/** What the store says the dashboard totals of a program must be. */
function totalsFromStore(programId: string) {
  const events = readEvents(app.dataDir, { type: ['ClickRecorded', 'ConversionRecorded', 'CommissionEarned'], programId });
  return {
    clicks: events.filter((e) => e.type === 'ClickRecorded' && !e.data.bot).length,
    conversions: events.filter((e) => e.type === 'ConversionRecorded' && e.data.attribution.attributed).length,
    commissionEarnedMinor: events.filter((e) => e.type === 'CommissionEarned').reduce((sum, e) => sum + e.data.amountMinor, 0),
  };
}

async function verifyViews() {
  const res = await app.op('POST', '/api/admin/views/verify');
  expect([200, 201]).toContain(res.status);
  return res.body;
}

describe('a crash in the middle of a burst', () => {
  let programId: string;
  let key: string;
  const codes: string[] = [];
  const conversionBodies: Record<string, unknown>[] = [];

  it('keeps every acknowledged click and conversion, and the dashboard equals what the store says', async () => {
    const setup = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 } });
    programId = setup.program.id;
    key = setup.key;
    for (let i = 0; i < 3; i++) codes.push((await enroll(app, programId)).code);
    const seedClicks: string[] = [];
    for (let i = 0; i < 30; i++) seedClicks.push(await click(app, key, { code: codes[i % 3], ip: `198.51.100.${i + 1}`, userAgent: browserUA(i) }));

    const TOTAL = 300;
    const CONCURRENCY = 20;
    const KILL_AFTER = 100;
    const ackedClicks: string[] = [];
    const ackedOrders: string[] = [];
    const acknowledged = () => ackedClicks.length + ackedOrders.length;
    let crash: Promise<void> | null = null;
    let refused = 0;

    const send = async (i: number) => {
      const code = codes[i % codes.length];
      try {
        if (i % 3 === 0) {
          const ua = i % 15 === 0 ? GOOGLEBOT_UA : browserUA(i);
          const res = await app.request('GET', `/r/${code}`, { headers: { 'user-agent': ua } });
          if (res.status === 302) ackedClicks.push(new URL(res.headers.get('location')!).searchParams.get('aff_click')!);
        } else if (i % 3 === 1) {
          const res = await app.sf(key, 'POST', '/v1/clicks', { code, ip: `203.0.113.${i % 250}`, userAgent: browserUA(i) });
          if (res.status === 202) ackedClicks.push(res.body.clickId);
        } else {
          const orderId = `burst-${i}`;
          const body = { orderId, amountMinor: 1000 + i, currency: 'EUR', ...(i % 4 === 2 ? {} : { clickId: seedClicks[i % seedClicks.length] }) };
          conversionBodies.push(body);
          const res = await app.sf(key, 'POST', '/v1/conversions', body);
          if (res.status === 202) ackedOrders.push(orderId);
        }
      } catch {
        // Connection refused or reset by the crash: not acknowledged, so the client would retry.
        refused += 1;
      }
      if (crash === null && acknowledged() >= KILL_AFTER) crash = app.kill9();
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await send(next++);
      }),
    );
    expect(crash).not.toBeNull();
    await crash;
    expect(app.running()).toBe(false);
    // The crash happened in the middle: some requests were acknowledged, some never answered.
    expect(acknowledged()).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(refused).toBeGreaterThan(0);

    await app.restart();

    const clickStreams = new Set(readEvents(app.dataDir, { type: 'ClickRecorded', programId }).map((e) => e.streamId));
    expect(ackedClicks.filter((id) => !clickStreams.has(`click-${id}`))).toEqual([]);
    const storedOrders = new Set(readEvents(app.dataDir, { type: 'ConversionRecorded', programId }).map((e) => e.data.orderId));
    expect(ackedOrders.filter((orderId) => !storedOrders.has(orderId))).toEqual([]);

    const lostClicks: string[] = [];
    for (const clickId of ackedClicks) {
      if ((await attribution(app, programId, { clickId })).reason === 'click_not_found') lostClicks.push(clickId);
    }
    expect(lostClicks).toEqual([]);
    const lostOrders: string[] = [];
    for (const orderId of ackedOrders) {
      if ((await attribution(app, programId, { orderId })).reason === 'not_received') lostOrders.push(orderId);
    }
    expect(lostOrders).toEqual([]);

    const expected = totalsFromStore(programId);
    expect(expected.clicks).toBeGreaterThan(0);
    expect(expected.conversions).toBeGreaterThan(0);
    expect((await dashboard(app, programId)).totals).toMatchObject(expected);
  }, 60_000);

  it('clients retrying every conversion of the burst after the restart count each order once', async () => {
    const before = (await dashboard(app, programId)).totals;
    const answers = [];
    for (let i = 0; i < conversionBodies.length; i += 50) {
      const res = await app.sf(key, 'POST', '/v1/batch', { events: conversionBodies.slice(i, i + 50).map((b) => ({ type: 'conversion', ...b })) });
      expectStatus(res, 202);
      answers.push(...res.body.results);
    }
    expect(answers.filter((r: any) => r.status !== 'accepted')).toEqual([]);
    await settle(app, programId);

    const recorded = readEvents(app.dataDir, { type: 'ConversionRecorded', programId });
    const perOrder = new Map<string, number>();
    for (const e of recorded) perOrder.set(e.data.orderId, (perOrder.get(e.data.orderId) ?? 0) + 1);
    expect([...perOrder.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(perOrder.size).toBe(conversionBodies.length);
    const earned = readEvents(app.dataDir, { type: 'CommissionEarned', programId });
    expect(new Set(earned.map((e) => e.data.orderId)).size).toBe(earned.length);

    const after = (await dashboard(app, programId)).totals;
    expect(after).toMatchObject(totalsFromStore(programId));
    // Only the orders the crash had swallowed are new.
    expect(after.conversions).toBeGreaterThanOrEqual(before.conversions);
  }, 60_000);

  it('a normal restart keeps every figure', async () => {
    const affiliates = (await app.op('GET', `/api/programs/${programId}/affiliates?limit=50`)).body.items;
    const payee = affiliates.find((a: any) => a.commissionPayableMinor >= 500);
    expect(payee).toBeDefined();
    expectStatus(await app.op('POST', `/api/programs/${programId}/affiliates/${payee.id}/payouts`, { amountMinor: 500 }, { 'idempotency-key': 'restart-pay' }), 201);
    await settle(app, programId);

    // Ranges fixed once: both snapshots ask the same questions.
    const hourNow = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const today = utcDayStart(0);
    const snapshot = async () => {
      const get = async (path: string) => {
        const res = await app.op('GET', path);
        expectStatus(res, 200);
        return res.body;
      };
      const { freshness: _freshness, ...dash } = await get(`/api/programs/${programId}/dashboard`);
      const lists: Record<string, unknown> = {};
      for (const sort of ['clicks', 'conversions', 'conversionRate', 'commissionEarnedMinor', 'commissionOwedMinor']) {
        lists[sort] = await get(`/api/programs/${programId}/affiliates?sort=${sort}&order=desc&limit=50`);
      }
      const one: Record<string, unknown> = {};
      for (const a of affiliates) one[a.id] = await get(`/api/programs/${programId}/affiliates/${a.id}`);
      const series: Record<string, unknown> = {};
      for (const metric of ['clicks', 'conversions', 'commission']) {
        series[`${metric}/day`] = await get(`/api/programs/${programId}/timeseries?metric=${metric}&interval=day&from=${iso(today - 2 * DAY_MS)}&to=${iso(today)}`);
        series[`${metric}/hour`] = await get(`/api/programs/${programId}/timeseries?metric=${metric}&interval=hour&from=${iso(hourNow - 3 * HOUR_MS)}&to=${iso(hourNow + HOUR_MS)}`);
      }
      const ledgers: Record<string, unknown> = {};
      for (const a of affiliates) ledgers[a.id] = await get(`/api/programs/${programId}/affiliates/${a.id}/ledger`);
      return {
        dash,
        lists,
        one,
        series,
        ledgers,
        program: await get(`/api/programs/${programId}`),
        unattributed: await get(`/api/programs/${programId}/unattributed`),
        payables: await get(`/api/programs/${programId}/payables`),
      };
    };

    const before = await snapshot();
    await app.restart();
    const after = await snapshot();
    expect(after).toEqual(before);
  }, 60_000);
});

describe('replay from position 0', () => {
  it('gives exactly the live views after a mixed workload, and after a restart', async () => {
    const { program, key } = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 }, minimumPayoutMinor: 100 });
    const programId = program.id;
    const [w1, w2, w3] = [await enroll(app, programId), await enroll(app, programId), await enroll(app, programId, { commission: { type: 'flat', amountMinor: 333 } })];

    const c1 = await redirectClick(app, w1.code);
    const c2 = await redirectClick(app, w2.code, browserUA(2));
    await redirectClick(app, w1.code, GOOGLEBOT_UA);
    const c3 = await click(app, key, { code: w3.code, ip: '198.51.100.3', userAgent: browserUA(3) });
    await click(app, key, { code: w3.code, ip: '198.51.100.3', userAgent: browserUA(3) });
    await convert(app, key, { orderId: 'mix-1', amountMinor: 12345, clickId: c1 });
    await convert(app, key, { orderId: 'mix-2', amountMinor: 20000, clickId: c2 });
    await convert(app, key, { orderId: 'mix-3', amountMinor: 5000, clickId: c3 });
    await convert(app, key, { orderId: 'mix-4', amountMinor: 700 });
    await convert(app, key, { orderId: 'mix-2', amountMinor: 99999, clickId: c2 });
    const batch = await app.sf(key, 'POST', '/v1/batch', {
      events: [
        { type: 'click', code: w2.code, ip: '198.51.100.9', userAgent: browserUA(9) },
        { type: 'conversion', orderId: 'mix-5', amountMinor: 4000, currency: 'EUR', affiliateCode: w2.code },
      ],
    });
    expectStatus(batch, 202);
    await settle(app, programId);

    const pay = (affiliateId: string, amountMinor: number, idempotencyKey: string) =>
      app.op('POST', `/api/programs/${programId}/affiliates/${affiliateId}/payouts`, { amountMinor }, { 'idempotency-key': idempotencyKey });
    const p1 = await pay(w1.id, 1000, 'mix-pay-1');
    expectStatus(p1, 201);
    const p2 = await pay(w2.id, 2000, 'mix-pay-2');
    expectStatus(p2, 201);
    expectStatus(await app.op('POST', `/api/programs/${programId}/payouts/${p2.body.payoutId}/void`, { reason: 'bounced' }), 200);
    expectStatus(await app.op('PATCH', `/api/programs/${programId}`, { commission: { type: 'percent', basisPoints: 1500 }, cookieWindowDays: 60 }), 200);
    await convert(app, key, { orderId: 'mix-6', amountMinor: 10000, clickId: await click(app, key, { code: w1.code, ip: '198.51.100.6', userAgent: browserUA(6) }) });
    expectStatus(await app.op('PATCH', `/api/programs/${programId}/affiliates/${w3.id}`, { status: 'suspended' }), 200);
    await convert(app, key, { orderId: 'mix-7', amountMinor: 10000, clickId: c3 });
    await settle(app, programId);

    // A program with a hold: one commission matured, one still held, a payout of the matured part.
    const held = await programWithStorefront(app, { holdDays: 14, minimumPayoutMinor: 100, commission: { type: 'percent', basisPoints: 1000 } });
    const h1 = await enroll(app, held.program.id);
    await convert(app, held.key, { orderId: 'held-old', amountMinor: 30000, affiliateCode: h1.code, occurredAt: ago(20 * DAY_MS) });
    await convert(app, held.key, { orderId: 'held-new', amountMinor: 50000, affiliateCode: h1.code });
    await settle(app, held.program.id);
    expectStatus(await app.op('POST', `/api/programs/${held.program.id}/affiliates/${h1.id}/payouts`, {}, { 'idempotency-key': 'held-pay' }), 201);
    await settle(app, held.program.id);
    const heldBefore = await dashboard(app, held.program.id);
    expect(heldBefore.totals).toMatchObject({ commissionEarnedMinor: 8000, commissionPaidMinor: 3000, commissionOwedMinor: 5000, commissionPayableMinor: 0 });

    const verified = await verifyViews();
    expect(verified).toMatchObject({ identical: true, mismatches: [] });
    expect(verified.replay).toEqual(verified.live);
    expect(verified.position).toBe(headPosition(app.dataDir));
    expect((await dashboard(app, programId)).totals).toMatchObject(totalsFromStore(programId));

    await app.restart();
    const afterRestart = await verifyViews();
    expect(afterRestart).toMatchObject({ identical: true, mismatches: [] });
    // Views rebuilt at boot hash the same as the views the live projection had built.
    expect(afterRestart.live).toEqual(verified.live);
    expect((await dashboard(app, programId)).totals).toMatchObject(totalsFromStore(programId));
    const { freshness: _f1, ...heldDashBefore } = heldBefore;
    const { freshness: _f2, ...heldDashAfter } = await dashboard(app, held.program.id);
    expect(heldDashAfter).toEqual(heldDashBefore);
  }, 60_000);

  it('every event in the store carries its program, its business time and its recorded time', async () => {
    const events = readEvents(app.dataDir);
    expect(events.length).toBeGreaterThan(100);
    const bad = events.filter(
      (e) =>
        typeof e.data.programId !== 'string' ||
        typeof e.data.occurredAt !== 'string' ||
        Number.isNaN(Date.parse(e.data.occurredAt)) ||
        Number.isNaN(Date.parse(e.recordedAt)) ||
        e.data.type !== e.type,
    );
    expect(bad.map((e) => `${e.position} ${e.type}`)).toEqual([]);
  });

  it('gives exactly the live views right after a suspension', async () => {
    const { program, key } = await programWithStorefront(app);
    const affiliate = await enroll(app, program.id);
    await convert(app, key, { orderId: 'before-suspension', amountMinor: 1000, affiliateCode: affiliate.code });
    await settle(app, program.id);
    expectStatus(await app.op('PATCH', `/api/programs/${program.id}/affiliates/${affiliate.id}`, { status: 'suspended' }), 200);
    try {
      const verified = await verifyViews();
      expect({ identical: verified.identical, mismatches: verified.mismatches, position: verified.position }).toEqual({
        identical: true,
        mismatches: [],
        position: headPosition(app.dataDir),
      });
    } finally {
      // Another event of the program lets a stuck projector move on, so the next tests are not affected.
      await convert(app, key, { orderId: 'after-suspension', amountMinor: 1000 });
      await settle(app, program.id, 10_000);
    }
  }, 30_000);
});
