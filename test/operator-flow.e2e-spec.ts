/**
 * Steps 1–8 of the operator flow over HTTP against the built standalone app, as API.md specifies them:
 * setup, storefronts, affiliates, tracking, attribution, commission, dashboard and payouts.
 */
import { countEvents, readEvents, RunningApp, settle, startApp, storeContains } from './support/app';
import { ensureBuilt } from './support/build';
import { expectError, expectStatus } from './support/expect';
import {
  affiliateStats,
  ago,
  attribution,
  browserUA,
  click,
  convert,
  createProgram,
  createStorefront,
  dashboard,
  DAY_MS,
  enroll,
  HOUR_MS,
  iso,
  MINUTE_MS,
  programBody,
  programWithStorefront,
  redirectClick,
  uniqueCode,
  utcDayStart,
} from './support/fixtures';

const PUBLIC_BASE_URL = 'https://go.example.test';
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const GOOGLEBOT_UA = 'Googlebot/2.1 (+http://www.google.com/bot.html)';

let app: RunningApp;

beforeAll(async () => {
  ensureBuilt();
  app = await startApp({ publicBaseUrl: PUBLIC_BASE_URL });
}, 300_000);

afterAll(async () => {
  await app?.stop();
  app?.cleanup();
});

/** The order id of an item of /unattributed, wherever the item puts it. */
const orderIdOf = (item: any): string => item.orderId ?? item.conversion?.orderId;

describe('operations endpoints', () => {
  it('GET /health answers 200 and GET /ready answers 200', async () => {
    const health = await app.request('GET', '/health');
    expectStatus(health, 200);
    expect(health.body).toEqual(expect.objectContaining({ status: 'ok' }));
    expectStatus(await app.request('GET', '/ready'), 200);
  });

  it('GET /metrics is Prometheus text with http_requests_total and events_appended_total', async () => {
    const res = await app.request('GET', '/metrics');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toMatch(/^# TYPE http_requests_total counter$/m);
    expect(res.text).toMatch(/^http_requests_total\{[^}]*\} \d+/m);
    expect(res.text).toMatch(/^# TYPE events_appended_total counter$/m);
  });

  it('GET /api/docs-json is the OpenAPI document with the operator and storefront paths', async () => {
    const res = await app.request('GET', '/api/docs-json');
    expectStatus(res, 200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/programs', '/v1/conversions', '/v1/clicks', '/v1/batch']));
  });
});

describe('step 1: programs, and the error shape', () => {
  it('POST /api/programs answers 201 with the id and every setting it was given', async () => {
    const body = programBody({
      name: 'Echo Program',
      cookieWindowDays: 45,
      commission: { type: 'percent', basisPoints: 1250 },
      holdDays: 3,
      minimumPayoutMinor: 2500,
    });
    const res = await app.op('POST', '/api/programs', body);
    expectStatus(res, 201);
    expect(res.body).toMatchObject({ ...body, id: expect.any(String) });

    const one = await app.op('GET', `/api/programs/${res.body.id}`);
    expectStatus(one, 200);
    expect(one.body).toMatchObject({ ...body, id: res.body.id });

    const all = await app.op('GET', '/api/programs');
    expectStatus(all, 200);
    const items = Array.isArray(all.body) ? all.body : all.body.items;
    expect(items.map((p: any) => p.id)).toContain(res.body.id);

    const events = readEvents(app.dataDir, { streamId: `program-${res.body.id}` });
    expect(events.map((e) => e.type)).toEqual(['ProgramCreated']);
  });

  it('GET /api/programs/{id} of an unknown program → 404 not_found', async () => {
    expectError(await app.op('GET', '/api/programs/prg_does_not_exist'), 404, 'not_found');
  });

  it('invalid settings → 400 validation_failed with one detail per bad field, and nothing is appended', async () => {
    const before = countEvents(app.dataDir);
    const res = await app.op(
      'POST',
      '/api/programs',
      programBody({ currency: 'EURO', cookieWindowDays: 0, defaultLandingUrl: 'not a url', commission: { type: 'percent', basisPoints: 0 } }),
    );
    expectError(res, 400, 'validation_failed');
    expect([...new Set(res.body.details.map((d: any) => d.field))].sort()).toEqual(['commission.basisPoints', 'cookieWindowDays', 'currency', 'defaultLandingUrl']);
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('malformed JSON → 400 in the error shape', async () => {
    const before = countEvents(app.dataDir);
    const res = await app.request('POST', '/api/programs', {
      rawBody: '{"name": "Broken", "currency": ',
      headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' },
    });
    expectError(res, 400, 'validation_failed');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('a body over 1 MiB → 413 payload_too_large', async () => {
    const before = countEvents(app.dataDir);
    const res = await app.request('POST', '/api/programs', {
      rawBody: JSON.stringify(programBody({ name: 'x'.repeat(1024 * 1024 + 10) })),
      headers: { authorization: `Bearer ${app.token}` },
    });
    expectError(res, 413, 'payload_too_large');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('an unknown route → 404 not_found in the error shape', async () => {
    expectError(await app.op('GET', '/api/no-such-thing'), 404, 'not_found');
    expectError(await app.request('GET', '/definitely/not/here'), 404, 'not_found');
  });

  it('a missing or wrong operator token → 401 unauthorized, and nothing is appended', async () => {
    const before = countEvents(app.dataDir);
    expectError(await app.request('GET', '/api/programs'), 401, 'unauthorized');
    expectError(await app.request('GET', '/api/programs', { headers: { authorization: 'Bearer not-the-token' } }), 401, 'unauthorized');
    expectError(await app.request('GET', '/api/programs', { headers: { authorization: `Basic ${app.token}` } }), 401, 'unauthorized');
    expectError(await app.request('POST', '/api/programs', { body: programBody() }), 401, 'unauthorized');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('PATCH settings → 200, and the change is a ProgramSettingsChanged event (version 2) in the history', async () => {
    const program = await createProgram(app);
    const res = await app.op('PATCH', `/api/programs/${program.id}`, { cookieWindowDays: 45, minimumPayoutMinor: 1000 });
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ id: program.id, cookieWindowDays: 45, minimumPayoutMinor: 1000, currency: 'EUR' });
    expect((await app.op('GET', `/api/programs/${program.id}`)).body).toMatchObject({ cookieWindowDays: 45, minimumPayoutMinor: 1000 });

    const history = await app.op('GET', `/api/programs/${program.id}/history`);
    expectStatus(history, 200);
    const items = Array.isArray(history.body) ? history.body : history.body.items;
    expect(items.map((i: any) => i.type)).toEqual(['ProgramCreated', 'ProgramSettingsChanged']);
    expect(items[1]).toMatchObject({ type: 'ProgramSettingsChanged', version: 2, changes: { cookieWindowDays: 45, minimumPayoutMinor: 1000 } });

    const stored = readEvents(app.dataDir, { streamId: `program-${program.id}` });
    expect(stored.map((e) => e.type)).toEqual(['ProgramCreated', 'ProgramSettingsChanged']);
    expect(stored[1].data).toMatchObject({ version: 2, changes: { cookieWindowDays: 45, minimumPayoutMinor: 1000 } });
  });

  it('changing the currency → 422 and changes nothing', async () => {
    const program = await createProgram(app);
    const before = countEvents(app.dataDir);
    const res = await app.op('PATCH', `/api/programs/${program.id}`, { currency: 'USD' });
    expectError(res, 422);
    expect(countEvents(app.dataDir)).toBe(before);
    expect((await app.op('GET', `/api/programs/${program.id}`)).body.currency).toBe('EUR');
  });
});

describe('settings and input validation', () => {
  it('invalid or empty setting changes → 400 validation_failed, nothing appended', async () => {
    const program = await createProgram(app);
    const before = countEvents(app.dataDir);
    const P = `/api/programs/${program.id}`;
    expectError(await app.op('PATCH', P, { cookieWindowDays: 0 }), 400, 'validation_failed');
    expectError(await app.op('PATCH', P, { commission: { type: 'percent', basisPoints: 10001 } }), 400, 'validation_failed');
    expectError(await app.op('PATCH', P, { allowedLandingHosts: ['not a host!'] }), 400, 'validation_failed');
    expectError(await app.op('PATCH', P, { holdDays: 1.5 }), 400, 'validation_failed');
    expectError(await app.op('PATCH', P, {}), 400, 'validation_failed');
    expectError(await app.op('PATCH', P, { effectiveAt: '2020-01-01T00:00:00Z', holdDays: 2 }), 400, 'validation_failed');
    expectError(await app.op('POST', '/api/programs', programBody({ commission: { type: 'flat', amountMinor: 9.99 } })), 400, 'validation_failed');
    expectError(await app.op('POST', '/api/programs', programBody({ minimumPayoutMinor: -1 })), 400, 'validation_failed');
    expectError(await app.op('POST', '/api/programs', programBody({ unexpected: true })), 400, 'validation_failed');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('a change scheduled for later is in the history and listed as scheduled, not applied yet', async () => {
    const program = await createProgram(app, { cookieWindowDays: 30 });
    const later = new Date(Date.now() + 7 * DAY_MS).toISOString();
    const res = await app.op('PATCH', `/api/programs/${program.id}`, { cookieWindowDays: 60, effectiveAt: later });
    expectStatus(res, 200);
    expect(res.body.cookieWindowDays).toBe(30);
    const history = (await app.op('GET', `/api/programs/${program.id}/history`)).body;
    const items = Array.isArray(history) ? history : history.items;
    expect(items[1]).toMatchObject({ type: 'ProgramSettingsChanged', version: 2, effectiveAt: later, changes: { cookieWindowDays: 60 } });
    expect(JSON.stringify((await app.op('GET', `/api/programs/${program.id}`)).body)).toContain(later);
  });

  it('removing a host from allowedLandingHosts sends its affiliates to the default landing page (no open redirect)', async () => {
    const program = await createProgram(app, { allowedLandingHosts: ['blog.example.com'] });
    const affiliate = await enroll(app, program.id, { landingUrl: 'https://blog.example.com/post' });
    const first = await app.request('GET', `/r/${affiliate.code}`, { headers: { 'user-agent': BROWSER_UA } });
    expect(new URL(first.headers.get('location')!).host).toBe('blog.example.com');
    expectStatus(await app.op('PATCH', `/api/programs/${program.id}`, { allowedLandingHosts: [] }), 200);
    const after = await app.request('GET', `/r/${affiliate.code}`, { headers: { 'user-agent': BROWSER_UA } });
    expectStatus(after, 302);
    expect(new URL(after.headers.get('location')!).host).toBe('shop.example.com');
  });

  it('bad storefront input → 400 validation_failed naming the field, nothing appended', async () => {
    const { program, key } = await programWithStorefront(app);
    const affiliate = await enroll(app, program.id);
    const before = countEvents(app.dataDir);
    const field = async (path: string, body: unknown) => {
      const res = await app.sf(key, 'POST', path, body);
      expectError(res, 400, 'validation_failed');
      return res.body.details.map((d: any) => d.field);
    };
    expect(await field('/v1/clicks', { code: affiliate.code, occurredAt: new Date(Date.now() + DAY_MS).toISOString() })).toContain('occurredAt');
    expect(await field('/v1/clicks', { code: affiliate.code, ip: '999.1.1.1' })).toContain('ip');
    expect(await field('/v1/clicks', {})).toContain('code');
    expect(await field('/v1/conversions', { orderId: 'neg', amountMinor: -1, currency: 'EUR' })).toContain('amountMinor');
    expect(await field('/v1/conversions', { orderId: 'float', amountMinor: 10.5, currency: 'EUR' })).toContain('amountMinor');
    expect(await field('/v1/conversions', { amountMinor: 100, currency: 'EUR' })).toContain('orderId');
    expect(await field('/v1/conversions', { orderId: 'cur', amountMinor: 100, currency: 'EURO' })).toContain('currency');
    expect(await field('/v1/batch', { events: [] })).toContain('events');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('a currency code sent in lower case is refused or normalised, never stored so that no conversion can match it', async () => {
    const res = await app.op('POST', '/api/programs', programBody({ currency: 'eur' }));
    expectStatus(res, 201);
    const storefront = await createStorefront(app, res.body.id);
    const affiliate = await enroll(app, res.body.id);
    expectStatus(await app.sf(storefront.apiKey, 'POST', '/v1/conversions', { orderId: 'lc-1', amountMinor: 1000, currency: 'EUR', affiliateCode: affiliate.code }), 202);
    expectStatus(await app.sf(storefront.apiKey, 'POST', '/v1/conversions', { orderId: 'lc-2', amountMinor: 1000, currency: 'eur', affiliateCode: affiliate.code }), 202);
    expect(res.body.currency).toBe('EUR');
  });

  it('a program with no activity has an all-zero dashboard', async () => {
    const program = await createProgram(app, { currency: 'JPY' });
    expect(await dashboard(app, program.id)).toMatchObject({
      currency: 'JPY',
      totals: {
        clicks: 0,
        uniqueClicks: 0,
        conversions: 0,
        conversionRate: 0,
        commissionEarnedMinor: 0,
        commissionPaidMinor: 0,
        commissionOwedMinor: 0,
        commissionPayableMinor: 0,
      },
      topAffiliates: [],
      needsAttention: [],
    });
  });
});

describe('step 2: storefronts', () => {
  it('POST storefronts → 201 {id, name, apiKey}; the key is shown once and never stored or shown again', async () => {
    const program = await createProgram(app);
    const res = await app.op('POST', `/api/programs/${program.id}/storefronts`, { name: 'main shop' });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'main shop', apiKey: expect.any(String) });
    const apiKey: string = res.body.apiKey;
    expect(apiKey.length).toBeGreaterThanOrEqual(20);

    const shown = await app.op('GET', `/api/programs/${program.id}`);
    expect(shown.text).not.toContain(apiKey);
    expect(shown.text).not.toContain('apiKey');
    expect(shown.body.storefronts).toEqual([expect.objectContaining({ id: res.body.id, name: 'main shop' })]);
    const list = await app.op('GET', '/api/programs');
    expect(list.text).not.toContain(apiKey);
    const history = await app.op('GET', `/api/programs/${program.id}/history`);
    expect(history.text).not.toContain(apiKey);
    expect(storeContains(app.dataDir, apiKey)).toBe(false);

    // The key it showed works on the storefront API.
    const affiliate = await enroll(app, program.id);
    expectStatus(await app.sf(apiKey, 'POST', '/v1/clicks', { code: affiliate.code }), 202);
  });
});

describe('step 3: affiliates', () => {
  let programId: string;
  let otherProgramId: string;
  let key: string;

  beforeAll(async () => {
    const setup = await programWithStorefront(app);
    programId = setup.program.id;
    key = setup.key;
    otherProgramId = (await createProgram(app)).id;
  });

  it('enrolling with a code → 201 with the link <PUBLIC_BASE_URL>/r/<code>', async () => {
    const code = uniqueCode('jane');
    const res = await app.op('POST', `/api/programs/${programId}/affiliates`, { name: 'Jane Doe', email: 'jane@example.com', code });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({ id: expect.any(String), code, link: `${PUBLIC_BASE_URL}/r/${code}`, name: 'Jane Doe', status: 'active' });
  });

  it('enrolling without a code generates one, and its link works', async () => {
    const res = await app.op('POST', `/api/programs/${programId}/affiliates`, { name: 'No Code', email: 'nocode@example.com' });
    expectStatus(res, 201);
    expect(res.body.code).toMatch(/^[A-Za-z0-9_-]{3,32}$/);
    expect(res.body.link).toBe(`${PUBLIC_BASE_URL}/r/${res.body.code}`);
    expectStatus(await app.request('GET', `/r/${res.body.code}`, { headers: { 'user-agent': BROWSER_UA } }), 302);
  });

  it('a code taken in another program → 409, and nothing is appended', async () => {
    const code = uniqueCode('taken');
    await enroll(app, programId, { code });
    const before = countEvents(app.dataDir);
    const res = await app.op('POST', `/api/programs/${otherProgramId}/affiliates`, { name: 'Copycat', email: 'copy@example.com', code });
    expectError(res, 409, 'conflict');
    expectError(await app.op('POST', `/api/programs/${programId}/affiliates`, { name: 'Copycat', email: 'copy@example.com', code }), 409, 'conflict');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('a landing URL on a host the program does not allow → 422; an allowed one is where /r/{code} sends the browser', async () => {
    const before = countEvents(app.dataDir);
    const refused = await app.op('POST', `/api/programs/${programId}/affiliates`, {
      name: 'Evil',
      email: 'evil@example.com',
      code: uniqueCode('evil'),
      landingUrl: 'https://evil.example.net/phish',
    });
    expectError(refused, 422);
    expect(countEvents(app.dataDir)).toBe(before);

    const blogger = await enroll(app, programId, { landingUrl: 'https://blog.example.com/review?x=1' });
    const res = await app.request('GET', `/r/${blogger.code}`, { headers: { 'user-agent': BROWSER_UA } });
    expectStatus(res, 302);
    const location = new URL(res.headers.get('location')!);
    expect(location.host).toBe('blog.example.com');
    expect(location.pathname).toBe('/review');
    expect(location.searchParams.get('x')).toBe('1');
    expect(location.searchParams.get('aff_click')).toBeTruthy();
  });

  it('suspending → /r/{code} 404 with no event and code conversions get affiliate_suspended; reactivating → works again', async () => {
    const affiliate = await enroll(app, programId);
    const clickBefore = await redirectClick(app, affiliate.code);

    const suspended = await app.op('PATCH', `/api/programs/${programId}/affiliates/${affiliate.id}`, { status: 'suspended' });
    expectStatus(suspended, 200);
    expect(suspended.body).toMatchObject({ id: affiliate.id, status: 'suspended' });

    const before = countEvents(app.dataDir);
    expectError(await app.request('GET', `/r/${affiliate.code}`, { headers: { 'user-agent': BROWSER_UA } }), 404, 'not_found');
    expect(countEvents(app.dataDir)).toBe(before);

    await convert(app, key, { orderId: 'suspended-by-code', amountMinor: 1000, affiliateCode: affiliate.code });
    await convert(app, key, { orderId: 'suspended-by-click', amountMinor: 1000, clickId: clickBefore });
    await settle(app, programId);
    for (const orderId of ['suspended-by-code', 'suspended-by-click']) {
      const a = await attribution(app, programId, { orderId });
      expect(a).toMatchObject({ attributed: false, reason: 'affiliate_suspended' });
    }
    expect((await affiliateStats(app, programId, affiliate.id)).conversions).toBe(0);

    const active = await app.op('PATCH', `/api/programs/${programId}/affiliates/${affiliate.id}`, { status: 'active' });
    expectStatus(active, 200);
    expect(active.body.status).toBe('active');
    await redirectClick(app, affiliate.code);
    await convert(app, key, { orderId: 'reactivated-by-code', amountMinor: 1000, affiliateCode: affiliate.code });
    await settle(app, programId);
    expect(await attribution(app, programId, { orderId: 'reactivated-by-code' })).toMatchObject({ attributed: true, reason: 'attributed', affiliateId: affiliate.id });
    expect((await affiliateStats(app, programId, affiliate.id)).conversions).toBe(1);
  });
  it('a suspension with no other traffic after it shows in the stats, and the views keep catching up', async () => {
    const quiet = await programWithStorefront(app);
    const affiliate = await enroll(app, quiet.program.id);
    await settle(app, quiet.program.id);
    expectStatus(await app.op('PATCH', `/api/programs/${quiet.program.id}/affiliates/${affiliate.id}`, { status: 'suspended' }), 200);
    try {
      await expect(settle(app, quiet.program.id, 5000)).resolves.toBeUndefined();
      expect((await affiliateStats(app, quiet.program.id, affiliate.id)).status).toBe('suspended');
    } finally {
      // Another event of the program in the same projection batch unblocks a stuck projector, so later tests are not affected.
      await convert(app, quiet.key, { orderId: 'unblock-after-suspension', amountMinor: 100 });
      await settle(app, quiet.program.id, 10_000);
    }
  });
});

describe('step 4: tracking', () => {
  let programId: string;
  let key: string;
  let affiliate: Record<string, any>;

  beforeAll(async () => {
    const setup = await programWithStorefront(app, { cookieWindowDays: 30 });
    programId = setup.program.id;
    key = setup.key;
    affiliate = await enroll(app, programId);
  });

  it('GET /r/{code} → 302 to the landing host with aff_click, the cookie for the window, and a ClickRecorded event', async () => {
    const res = await app.request('GET', `/r/${affiliate.code}`, { headers: { 'user-agent': BROWSER_UA } });
    expectStatus(res, 302);
    const location = new URL(res.headers.get('location')!);
    expect(location.host).toBe('shop.example.com');
    expect(location.pathname).toBe('/landing');
    const clickId = location.searchParams.get('aff_click')!;
    expect(clickId).toBeTruthy();
    expect(res.headers.get('set-cookie')).toBe(`aff_click=${clickId}; Max-Age=${30 * 86400}; Path=/; SameSite=Lax`);

    const events = readEvents(app.dataDir, { streamId: `click-${clickId}` });
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('ClickRecorded');
    expect(events[0].data).toMatchObject({ programId, affiliateId: affiliate.id, clickId, bot: false });
  });

  it('HEAD /r/{code} (link checkers, prefetchers) → 302 to the landing page, no cookie, no event', async () => {
    const before = countEvents(app.dataDir);
    const res = await app.request('HEAD', `/r/${affiliate.code}`, { headers: { 'user-agent': BROWSER_UA } });
    expectStatus(res, 302);
    expect(new URL(res.headers.get('location')!).host).toBe('shop.example.com');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('GET /r/{unknown code} → 404 and no event', async () => {
    const before = countEvents(app.dataDir);
    expectError(await app.request('GET', '/r/nobody-has-this-code', { headers: { 'user-agent': BROWSER_UA } }), 404, 'not_found');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('a bot is recorded (bot: true in the event) but not counted in clicks', async () => {
    await settle(app, programId);
    const before = await affiliateStats(app, programId, affiliate.id);
    const totalsBefore = (await dashboard(app, programId)).totals;

    const res = await app.request('GET', `/r/${affiliate.code}`, { headers: { 'user-agent': GOOGLEBOT_UA } });
    expectStatus(res, 302);
    const clickId = new URL(res.headers.get('location')!).searchParams.get('aff_click')!;
    const events = readEvents(app.dataDir, { streamId: `click-${clickId}` });
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ bot: true, affiliateId: affiliate.id });

    await settle(app, programId);
    const after = await affiliateStats(app, programId, affiliate.id);
    expect(after.clicks).toBe(before.clicks);
    expect(after.uniqueClicks).toBe(before.uniqueClicks);
    const totalsAfter = (await dashboard(app, programId)).totals;
    expect(totalsAfter.clicks).toBe(totalsBefore.clicks);
    expect(totalsAfter.uniqueClicks).toBe(totalsBefore.uniqueClicks);
  });

  it('two clicks from the same ip + user agent count 2 clicks and 1 unique click', async () => {
    const visitor = await enroll(app, programId);
    const first = await click(app, key, { code: visitor.code, ip: '198.51.100.7', userAgent: BROWSER_UA });
    const second = await click(app, key, { code: visitor.code, ip: '198.51.100.7', userAgent: BROWSER_UA });
    expect(first).not.toBe(second);
    await settle(app, programId);
    expect(await affiliateStats(app, programId, visitor.id)).toMatchObject({ clicks: 2, uniqueClicks: 1 });
  });

  it('GET /t.js is JavaScript that keeps aff_click for the program cookie window', async () => {
    const res = await app.request('GET', '/t.js');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.text).toContain('aff_click');
    const weekly = await createProgram(app, { cookieWindowDays: 7 });
    const scoped = await app.request('GET', `/t.js?program=${weekly.id}`);
    expectStatus(scoped, 200);
    expect(scoped.text).toContain(String(7 * 86400));
  });
});

describe('storefront API: keys and currency', () => {
  let programA: string;
  let programB: string;
  let keyA: string;
  let affiliateB: Record<string, any>;

  beforeAll(async () => {
    const a = await programWithStorefront(app);
    const b = await programWithStorefront(app);
    programA = a.program.id;
    keyA = a.key;
    programB = b.program.id;
    await enroll(app, programA);
    affiliateB = await enroll(app, programB);
  });

  it('a missing or unknown X-Api-Key → 401', async () => {
    const before = countEvents(app.dataDir);
    expectError(await app.request('POST', '/v1/clicks', { body: { code: affiliateB.code } }), 401, 'unauthorized');
    expectError(await app.sf('sk_not_a_real_key', 'POST', '/v1/clicks', { code: affiliateB.code }), 401, 'unauthorized');
    expectError(await app.request('POST', '/v1/conversions', { body: { orderId: 'x', amountMinor: 1, currency: 'EUR' } }), 401, 'unauthorized');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it("program A's key with program B's code in POST /v1/clicks → 404, nothing appended", async () => {
    const before = countEvents(app.dataDir);
    expectError(await app.sf(keyA, 'POST', '/v1/clicks', { code: affiliateB.code }), 404, 'not_found');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it("program A's conversion naming program B's affiliate code → unknown_code, and B is not credited", async () => {
    await convert(app, keyA, { orderId: 'cross-program-1', amountMinor: 1000, affiliateCode: affiliateB.code });
    await settle(app, programA);
    expect(await attribution(app, programA, { orderId: 'cross-program-1' })).toMatchObject({ attributed: false, reason: 'unknown_code' });
    expect((await dashboard(app, programB)).totals).toMatchObject({ conversions: 0, commissionEarnedMinor: 0 });
    expect(readEvents(app.dataDir, { type: 'CommissionEarned', programId: programB })).toHaveLength(0);
  });

  it('a conversion in another currency → 422 currency_mismatch and nothing appended', async () => {
    const before = countEvents(app.dataDir);
    const res = await app.sf(keyA, 'POST', '/v1/conversions', { orderId: 'usd-order', amountMinor: 1000, currency: 'USD' });
    expectError(res, 422, 'currency_mismatch');
    expect(countEvents(app.dataDir)).toBe(before);
    expect(await attribution(app, programA, { orderId: 'usd-order' })).toMatchObject({ attributed: false, reason: 'not_received' });
  });
});

describe('step 5: attribution', () => {
  let programId: string;
  let key: string;
  let affiliate: Record<string, any>;
  let redirectClickId: string;
  let expiredClickId: string;
  const expected: Record<string, string> = {
    'att-click': 'attributed',
    'att-made-up': 'click_not_found',
    'att-none': 'no_click',
    'att-expired': 'click_expired',
  };

  beforeAll(async () => {
    const setup = await programWithStorefront(app, { cookieWindowDays: 30 });
    programId = setup.program.id;
    key = setup.key;
    affiliate = await enroll(app, programId);
    redirectClickId = await redirectClick(app, affiliate.code);
    await convert(app, key, { orderId: 'att-click', amountMinor: 1000, clickId: redirectClickId });
    await convert(app, key, { orderId: 'att-made-up', amountMinor: 1000, clickId: 'made-up-click-id' });
    await convert(app, key, { orderId: 'att-none', amountMinor: 1000 });
    expiredClickId = await click(app, key, { code: affiliate.code, occurredAt: ago(40 * DAY_MS) });
    await convert(app, key, { orderId: 'att-expired', amountMinor: 1000, clickId: expiredClickId });
    await settle(app, programId);
  });

  it('GET attribution?orderId= gives each outcome with its reason and an explanation sentence', async () => {
    for (const [orderId, reason] of Object.entries(expected)) {
      const a = await attribution(app, programId, { orderId });
      expect({ orderId, attributed: a.attributed, reason: a.reason }).toEqual({ orderId, attributed: reason === 'attributed', reason });
      expect(typeof a.explanation).toBe('string');
      expect(a.explanation).toContain(orderId);
      expect(a.cookieWindowDays === null || typeof a.cookieWindowDays === 'number').toBe(true);
    }
    const ok = await attribution(app, programId, { orderId: 'att-click' });
    expect(ok).toMatchObject({ affiliateId: affiliate.id, cookieWindowDays: 30, click: { clickId: redirectClickId, affiliateId: affiliate.id } });
    expect(Date.parse(ok.click.expiresAt) - Date.parse(ok.click.occurredAt)).toBe(30 * DAY_MS);
    const expired = await attribution(app, programId, { orderId: 'att-expired' });
    expect(expired.click).toMatchObject({ clickId: expiredClickId });
    expect(Date.parse(expired.click.expiresAt) - Date.parse(expired.click.occurredAt)).toBe(30 * DAY_MS);
  });

  it('the outcome is recorded in the ConversionRecorded event itself', async () => {
    const recorded = readEvents(app.dataDir, { type: 'ConversionRecorded', programId });
    const byOrder = Object.fromEntries(recorded.map((e) => [e.data.orderId, e.data.attribution.reason]));
    expect(byOrder).toEqual(expected);
  });

  it('GET attribution?clickId= explains a click; an unknown click id → click_not_found', async () => {
    const byClick = await attribution(app, programId, { clickId: redirectClickId });
    expect(byClick).toMatchObject({ attributed: true, reason: 'attributed', affiliateId: affiliate.id, click: { clickId: redirectClickId } });
    expect(typeof byClick.explanation).toBe('string');
    expect(await attribution(app, programId, { clickId: 'made-up-click-id' })).toMatchObject({ attributed: false, reason: 'click_not_found' });
  });

  it('GET attribution?orderId=never-sent → not_received', async () => {
    const a = await attribution(app, programId, { orderId: 'never-sent' });
    expect(a).toMatchObject({ attributed: false, reason: 'not_received' });
    expect(typeof a.explanation).toBe('string');
  });

  it('GET unattributed lists exactly the unattributed conversions with their reasons', async () => {
    const res = await app.op('GET', `/api/programs/${programId}/unattributed`);
    expectStatus(res, 200);
    const items = Array.isArray(res.body) ? res.body : res.body.items;
    const listed = Object.fromEntries(items.map((i: any) => [orderIdOf(i), i.reason]));
    expect(listed).toEqual({ 'att-made-up': 'click_not_found', 'att-none': 'no_click', 'att-expired': 'click_expired' });
    for (const i of items) expect(typeof i.explanation).toBe('string');
  });
});

describe('attribution edge cases', () => {
  it("a click id of another program → click_not_found, and the other program's affiliate is not credited", async () => {
    const a = await programWithStorefront(app);
    const b = await programWithStorefront(app);
    const bAffiliate = await enroll(app, b.program.id);
    const bClick = await redirectClick(app, bAffiliate.code);
    await convert(app, a.key, { orderId: 'foreign-click', amountMinor: 1000, clickId: bClick });
    await settle(app, a.program.id);
    expect(await attribution(app, a.program.id, { orderId: 'foreign-click' })).toMatchObject({ attributed: false, reason: 'click_not_found' });
    expect(await attribution(app, a.program.id, { clickId: bClick })).toMatchObject({ attributed: false, reason: 'click_not_found' });
    await settle(app, b.program.id);
    expect((await affiliateStats(app, b.program.id, bAffiliate.id)).conversions).toBe(0);
    expect(await attribution(app, b.program.id, { orderId: 'foreign-click' })).toMatchObject({ reason: 'not_received' });
  });

  it('the last instant of the cookie window still counts; one millisecond later the click has expired', async () => {
    const { program, key } = await programWithStorefront(app, { cookieWindowDays: 30 });
    const affiliate = await enroll(app, program.id);
    const clickAt = Date.now() - 30 * DAY_MS - HOUR_MS;
    const clickId = await click(app, key, { code: affiliate.code, occurredAt: iso(clickAt) });
    await convert(app, key, { orderId: 'edge-in', amountMinor: 1000, clickId, occurredAt: iso(clickAt + 30 * DAY_MS) });
    await convert(app, key, { orderId: 'edge-out', amountMinor: 1000, clickId, occurredAt: iso(clickAt + 30 * DAY_MS + 1) });
    await settle(app, program.id);
    expect(await attribution(app, program.id, { orderId: 'edge-in' })).toMatchObject({ attributed: true, reason: 'attributed' });
    const out = await attribution(app, program.id, { orderId: 'edge-out' });
    expect(out).toMatchObject({ attributed: false, reason: 'click_expired', click: { clickId, expiresAt: iso(clickAt + 30 * DAY_MS) } });
  });

  it("an order placed with the affiliate's own email → self_referral, earning nothing", async () => {
    const { program, key } = await programWithStorefront(app);
    const affiliate = await enroll(app, program.id, { email: 'Self.Buyer@Example.com' });
    const clickId = await redirectClick(app, affiliate.code);
    await convert(app, key, { orderId: 'self-1', amountMinor: 5000, clickId, customerEmail: 'self.buyer@example.com' });
    await settle(app, program.id);
    expect(await attribution(app, program.id, { orderId: 'self-1' })).toMatchObject({ attributed: false, reason: 'self_referral' });
    expect((await affiliateStats(app, program.id, affiliate.id)).commissionEarnedMinor).toBe(0);
  });

  it('shrinking the cookie window later does not expire a click made under the old window', async () => {
    const { program, key } = await programWithStorefront(app, { cookieWindowDays: 30 });
    const affiliate = await enroll(app, program.id);
    const oldClick = await click(app, key, { code: affiliate.code, occurredAt: ago(10 * DAY_MS) });
    expectStatus(await app.op('PATCH', `/api/programs/${program.id}`, { cookieWindowDays: 5 }), 200);
    await convert(app, key, { orderId: 'window-1', amountMinor: 1000, clickId: oldClick });
    await settle(app, program.id);
    expect(await attribution(app, program.id, { orderId: 'window-1' })).toMatchObject({ attributed: true, reason: 'attributed', cookieWindowDays: 30 });
    // A redirect now hands out the new window.
    const res = await app.request('GET', `/r/${affiliate.code}`, { headers: { 'user-agent': BROWSER_UA } });
    expect(res.headers.get('set-cookie')).toContain(`Max-Age=${5 * 86400};`);
  });
});

describe('ids of another program look unknown on the operator API', () => {
  it('affiliates, ledgers, payouts and voids across programs → 404', async () => {
    const a = await programWithStorefront(app, { minimumPayoutMinor: 100 });
    const b = await programWithStorefront(app, { minimumPayoutMinor: 100 });
    const bAffiliate = await enroll(app, b.program.id);
    await convert(app, b.key, { orderId: 'b-sale', amountMinor: 10000, affiliateCode: bAffiliate.code });
    await settle(app, b.program.id);
    const payout = await app.op('POST', `/api/programs/${b.program.id}/affiliates/${bAffiliate.id}/payouts`, { amountMinor: 500 }, { 'idempotency-key': 'b-pay' });
    expectStatus(payout, 201);

    const before = countEvents(app.dataDir);
    const A = `/api/programs/${a.program.id}`;
    expectError(await app.op('GET', `${A}/affiliates/${bAffiliate.id}`), 404, 'not_found');
    expectError(await app.op('GET', `${A}/affiliates/${bAffiliate.id}/ledger`), 404, 'not_found');
    expectError(await app.op('PATCH', `${A}/affiliates/${bAffiliate.id}`, { status: 'suspended' }), 404, 'not_found');
    expectError(await app.op('POST', `${A}/affiliates/${bAffiliate.id}/payouts`, { amountMinor: 500 }, { 'idempotency-key': 'a-pay' }), 404, 'not_found');
    expectError(await app.op('POST', `${A}/payouts/${payout.body.payoutId}/void`, { reason: 'wrong program' }), 404, 'not_found');
    expectError(await app.op('POST', `/api/programs/prg_nope/storefronts`, { name: 'x' }), 404, 'not_found');
    expectError(await app.op('POST', `/api/programs/prg_nope/affiliates`, { name: 'x', email: 'x@example.com' }), 404, 'not_found');
    expectError(await app.op('GET', `/api/programs/prg_nope/dashboard`), 404, 'not_found');
    expect(countEvents(app.dataDir)).toBe(before);
    expect((await affiliateStats(app, b.program.id, bAffiliate.id)).status).toBe('active');
  });
});

describe('step 6: commission', () => {
  it('is exact, an override takes precedence, and a later rule change applies only to new conversions', async () => {
    const { program, key } = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1250 } });
    const plain = await enroll(app, program.id);
    const special = await enroll(app, program.id, { commission: { type: 'flat', amountMinor: 700 } });
    const ledger = async (affiliateId: string) => {
      const res = await app.op('GET', `/api/programs/${program.id}/affiliates/${affiliateId}/ledger`);
      expectStatus(res, 200);
      return res.body;
    };

    await convert(app, key, { orderId: 'com-1', amountMinor: 1999, clickId: await click(app, key, { code: plain.code }) });
    await convert(app, key, { orderId: 'com-2', amountMinor: 1999, clickId: await click(app, key, { code: special.code }) });
    await settle(app, program.id);

    // 1999 at 1250 bp = 249.875 → 250.
    const plainBefore = await ledger(plain.id);
    expect(plainBefore.entries.map((e: any) => [e.type, e.amountMinor, e.orderId])).toEqual([['CommissionEarned', 250, 'com-1']]);
    expect(plainBefore.balance).toEqual({ earnedMinor: 250, paidMinor: 0, owedMinor: 250 });
    const specialBefore = await ledger(special.id);
    expect(specialBefore.entries.map((e: any) => [e.type, e.amountMinor, e.orderId])).toEqual([['CommissionEarned', 700, 'com-2']]);
    const earned = readEvents(app.dataDir, { type: 'CommissionEarned', programId: program.id });
    expect(earned.map((e) => [e.data.orderId, e.data.amountMinor])).toEqual([
      ['com-1', 250],
      ['com-2', 700],
    ]);

    const patched = await app.op('PATCH', `/api/programs/${program.id}`, { commission: { type: 'percent', basisPoints: 500 } });
    expectStatus(patched, 200);
    expect(patched.body.commission).toEqual({ type: 'percent', basisPoints: 500 });

    // Earned commissions stay as they were decided.
    expect(await ledger(plain.id)).toEqual(plainBefore);
    expect(await ledger(special.id)).toEqual(specialBefore);

    await convert(app, key, { orderId: 'com-3', amountMinor: 1999, clickId: await click(app, key, { code: plain.code }) });
    await convert(app, key, { orderId: 'com-4', amountMinor: 1999, clickId: await click(app, key, { code: special.code }) });
    await settle(app, program.id);

    // 1999 at 500 bp = 99.95 → 100; the override still decides for the special affiliate.
    const plainAfter = await ledger(plain.id);
    expect(plainAfter.entries.map((e: any) => [e.amountMinor, e.orderId])).toEqual([
      [250, 'com-1'],
      [100, 'com-3'],
    ]);
    expect(plainAfter.entries[0]).toEqual(plainBefore.entries[0]);
    expect(plainAfter.balance).toEqual({ earnedMinor: 350, paidMinor: 0, owedMinor: 350 });
    expect((await ledger(special.id)).entries.map((e: any) => [e.amountMinor, e.orderId])).toEqual([
      [700, 'com-2'],
      [700, 'com-4'],
    ]);
    const ruleVersions = readEvents(app.dataDir, { type: 'CommissionEarned', programId: program.id })
      .filter((e) => e.data.affiliateId === plain.id)
      .map((e) => e.data.ruleVersion);
    expect(ruleVersions).toEqual([1, 2]);
    expect((await dashboard(app, program.id)).totals.commissionEarnedMinor).toBe(250 + 700 + 100 + 700);
  });
});

describe('step 7: dashboard', () => {
  // Four affiliates whose figures differ on every sort key, with clicks at known times.
  // Days fixed once, so a run across midnight UTC still asks for the buckets the clicks went to.
  const dayM0 = utcDayStart(0);
  const dayM1 = dayM0 - DAY_MS;
  const dayM2 = dayM0 - 2 * DAY_MS;
  const dayM3 = dayM0 - 3 * DAY_MS;
  let programId: string;
  let key: string;
  const aff: Record<'alpha' | 'bravo' | 'charlie' | 'delta', Record<string, any>> = {} as never;

  beforeAll(async () => {
    const setup = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 }, minimumPayoutMinor: 500 });
    programId = setup.program.id;
    key = setup.key;
    for (const name of ['alpha', 'bravo', 'charlie', 'delta'] as const) aff[name] = await enroll(app, programId, { code: uniqueCode(name), name });

    const clicks = async (name: keyof typeof aff, times: number[], visitor: (i: number) => string) => {
      const ids: string[] = [];
      for (const [i, t] of times.entries()) {
        ids.push(await click(app, key, { code: aff[name].code, occurredAt: iso(t), ip: visitor(i), userAgent: browserUA(1) }));
      }
      return ids;
    };
    await clicks('charlie', [dayM2 + 10 * HOUR_MS + 15 * MINUTE_MS, dayM2 + 10 * HOUR_MS + 45 * MINUTE_MS], (i) => `192.0.2.${i + 1}`);
    const bravo = await clicks('bravo', [5, 10, 20, 30, 40].map((m) => dayM1 + 8 * HOUR_MS + m * MINUTE_MS), (i) => `192.0.2.${i + 11}`);
    // Alpha's last two clicks come back from the visitors of its first two: 10 clicks, 8 unique.
    const alpha = await clicks('alpha', Array.from({ length: 10 }, (_, i) => dayM1 + 14 * HOUR_MS + i * MINUTE_MS), (i) => `192.0.2.${(i % 8) + 21}`);
    const delta = await clicks('delta', Array.from({ length: 8 }, (_, i) => dayM1 + 15 * HOUR_MS + i * MINUTE_MS), (i) => `192.0.2.${i + 31}`);

    const sale = (n: number) => iso(dayM1 + 20 * HOUR_MS + n * MINUTE_MS);
    await convert(app, key, { orderId: 'dash-a1', amountMinor: 10000, clickId: alpha[0], occurredAt: sale(0) });
    await convert(app, key, { orderId: 'dash-a2', amountMinor: 10000, clickId: alpha[1], occurredAt: sale(1) });
    await convert(app, key, { orderId: 'dash-a3', amountMinor: 10000, clickId: alpha[2], occurredAt: sale(2) });
    await convert(app, key, { orderId: 'dash-b1', amountMinor: 5000, clickId: bravo[0], occurredAt: sale(3) });
    await convert(app, key, { orderId: 'dash-b2', amountMinor: 5000, clickId: bravo[1], occurredAt: sale(4) });
    await convert(app, key, { orderId: 'dash-d1', amountMinor: 40000, clickId: delta[0], occurredAt: sale(5) });
    await convert(app, key, { orderId: 'dash-none', amountMinor: 9999, occurredAt: sale(6) });
    expectStatus(await app.op('POST', `/api/programs/${programId}/affiliates/${aff.alpha.id}/payouts`, { amountMinor: 1000 }, { 'idempotency-key': 'dash-pay-1' }), 201);
    await settle(app, programId);
  });

  it('totals are exact', async () => {
    const d = await dashboard(app, programId);
    expect(d.currency).toBe('EUR');
    expect(d.totals).toMatchObject({
      clicks: 25,
      uniqueClicks: 23,
      conversions: 6,
      conversionRate: 6 / 25,
      commissionEarnedMinor: 8000,
      commissionPaidMinor: 1000,
      commissionOwedMinor: 7000,
      commissionPayableMinor: 7000,
    });
    expect(d.topAffiliates.map((a: any) => a.id)).toEqual([aff.delta.id, aff.alpha.id, aff.bravo.id, aff.charlie.id]);
    expect(d.needsAttention).toEqual([]);
    expect(d.freshness).toEqual(expect.objectContaining({ position: expect.any(Number), lagMs: expect.any(Number) }));
  });

  it("GET affiliates/{id} gives the affiliate's exact stats", async () => {
    expect(await affiliateStats(app, programId, aff.alpha.id)).toEqual(
      expect.objectContaining({
        id: aff.alpha.id,
        name: 'alpha',
        code: aff.alpha.code,
        link: `${PUBLIC_BASE_URL}/r/${aff.alpha.code}`,
        status: 'active',
        clicks: 10,
        uniqueClicks: 8,
        conversions: 3,
        conversionRate: 0.3,
        commissionEarnedMinor: 3000,
        commissionPaidMinor: 1000,
        commissionOwedMinor: 2000,
        commissionPayableMinor: 2000,
        lastClickAt: iso(dayM1 + 14 * HOUR_MS + 9 * MINUTE_MS),
        lastConversionAt: iso(dayM1 + 20 * HOUR_MS + 2 * MINUTE_MS),
        insights: [],
      }),
    );
    expect(await affiliateStats(app, programId, aff.charlie.id)).toMatchObject({ clicks: 2, uniqueClicks: 2, conversions: 0, conversionRate: 0, commissionEarnedMinor: 0, lastConversionAt: null });
    expectError(await app.op('GET', `/api/programs/${programId}/affiliates/aff_nobody`), 404, 'not_found');
  });

  const orders: Record<string, ('alpha' | 'bravo' | 'charlie' | 'delta')[]> = {
    clicks: ['alpha', 'delta', 'bravo', 'charlie'],
    conversions: ['alpha', 'bravo', 'delta', 'charlie'],
    conversionRate: ['bravo', 'alpha', 'delta', 'charlie'],
    commissionEarnedMinor: ['delta', 'alpha', 'bravo', 'charlie'],
    commissionOwedMinor: ['delta', 'alpha', 'bravo', 'charlie'],
  };

  it.each(Object.keys(orders).flatMap((sort) => [[sort, 'desc'] as const, [sort, 'asc'] as const]))(
    'the affiliate list sorts by %s %s and pages with a cursor, every affiliate exactly once',
    async (sort, order) => {
      const want = order === 'desc' ? orders[sort] : [...orders[sort]].reverse();
      const full = await app.op('GET', `/api/programs/${programId}/affiliates?sort=${sort}&order=${order}&limit=50`);
      expectStatus(full, 200);
      expect(full.body.items.map((a: any) => a.id)).toEqual(want.map((n) => aff[n].id));
      expect(full.body.nextCursor ?? null).toBeNull();

      const walked: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: any = await app.op('GET', `/api/programs/${programId}/affiliates?sort=${sort}&order=${order}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expectStatus(res, 200);
        expect(res.body.items.length).toBeLessThanOrEqual(1);
        walked.push(...res.body.items.map((a: any) => a.id));
        cursor = res.body.nextCursor ?? null;
        if (!cursor) break;
      }
      expect(walked).toEqual(want.map((n) => aff[n].id));
    },
  );

  it('the timeseries puts clicks, conversions and commission in the right day and hour buckets', async () => {
    const series = async (q: string) => {
      const res = await app.op('GET', `/api/programs/${programId}/timeseries?${q}`);
      expectStatus(res, 200);
      return res.body.points.map((p: any) => [p.t, p.value]);
    };
    const day = (ms: number) => iso(ms);
    expect(await series(`metric=clicks&interval=day&from=${iso(dayM3)}&to=${iso(dayM0)}`)).toEqual([
      [day(dayM3), 0],
      [day(dayM2), 2],
      [day(dayM1), 23],
      [day(dayM0), 0],
    ]);
    expect(await series(`metric=clicks&interval=hour&from=${iso(dayM2 + 9 * HOUR_MS)}&to=${iso(dayM2 + 11 * HOUR_MS)}`)).toEqual([
      [iso(dayM2 + 9 * HOUR_MS), 0],
      [iso(dayM2 + 10 * HOUR_MS), 2],
      [iso(dayM2 + 11 * HOUR_MS), 0],
    ]);
    expect(await series(`metric=clicks&interval=hour&from=${iso(dayM1 + 14 * HOUR_MS)}&to=${iso(dayM1 + 15 * HOUR_MS)}`)).toEqual([
      [iso(dayM1 + 14 * HOUR_MS), 10],
      [iso(dayM1 + 15 * HOUR_MS), 8],
    ]);
    expect(await series(`metric=conversions&interval=day&from=${iso(dayM2)}&to=${iso(dayM1)}`)).toEqual([
      [day(dayM2), 0],
      [day(dayM1), 6],
    ]);
    expect(await series(`metric=conversions&interval=hour&from=${iso(dayM1 + 20 * HOUR_MS)}&to=${iso(dayM1 + 20 * HOUR_MS)}`)).toEqual([[iso(dayM1 + 20 * HOUR_MS), 6]]);
    expect(await series(`metric=commission&interval=day&from=${iso(dayM1)}&to=${iso(dayM1)}`)).toEqual([[day(dayM1), 8000]]);
  });

  it('needsAttention lists an affiliate with many clicks and no conversions when its peers convert', async () => {
    const { program, key: k } = await programWithStorefront(app);
    const idle = await enroll(app, program.id, { name: 'Idle Traffic' });
    const star = await enroll(app, program.id, { name: 'Star' });
    const steady = await enroll(app, program.id, { name: 'Steady' });
    const batch = async (events: Record<string, unknown>[]) => {
      const res = await app.sf(k, 'POST', '/v1/batch', { events });
      expectStatus(res, 202);
      expect(res.body.results.every((r: any) => r.status === 'accepted')).toBe(true);
      return res.body.results.map((r: any) => r.id as string);
    };
    const clicksFor = (code: string, n: number, _who: string) =>
      Array.from({ length: n }, (_, i) => ({ type: 'click', code, ip: `203.0.113.${i + 1}`, userAgent: browserUA(i) }));
    // Clicks: idle 30, star 10, steady 10 → the 75th percentile is 20; the program converts 7/50 = 14%.
    await batch(clicksFor(idle.code, 30, 'idle'));
    const starClicks = await batch(clicksFor(star.code, 10, 'star'));
    const steadyClicks = await batch(clicksFor(steady.code, 10, 'steady'));
    await batch([
      ...starClicks.slice(0, 5).map((clickId: string, i: number) => ({ type: 'conversion', orderId: `star-${i}`, amountMinor: 1000, currency: 'EUR', clickId })),
      ...steadyClicks.slice(0, 2).map((clickId: string, i: number) => ({ type: 'conversion', orderId: `steady-${i}`, amountMinor: 1000, currency: 'EUR', clickId })),
    ]);
    await settle(app, program.id);

    const d = await dashboard(app, program.id);
    expect(d.totals).toMatchObject({ clicks: 50, conversions: 7 });
    expect(d.needsAttention.map((a: any) => a.id)).toEqual([idle.id]);
    const idleInsights = d.needsAttention[0].insights;
    expect(idleInsights.map((i: any) => i.code)).toEqual(['high_clicks_low_conversions']);
    expect(typeof idleInsights[0].message).toBe('string');
    expect((await affiliateStats(app, program.id, idle.id)).insights.map((i: any) => i.code)).toEqual(['high_clicks_low_conversions']);
    expect((await affiliateStats(app, program.id, star.id)).insights.map((i: any) => i.code)).toEqual(['high_conversion_rate']);
    expect((await affiliateStats(app, program.id, steady.id)).insights).toEqual([]);
  });

  it('payables lists who reached the minimum; the ledger has running balances ending at the dashboard figures', async () => {
    const res = await app.op('GET', `/api/programs/${programId}/payables`);
    expectStatus(res, 200);
    const items = Array.isArray(res.body) ? res.body : res.body.items;
    const listed = Object.fromEntries(items.map((i: any) => [i.affiliateId ?? i.id, i.payableMinor ?? i.commissionPayableMinor]));
    expect(listed).toEqual({ [aff.alpha.id]: 2000, [aff.bravo.id]: 1000, [aff.delta.id]: 4000 });

    const ledger = await app.op('GET', `/api/programs/${programId}/affiliates/${aff.alpha.id}/ledger`);
    expectStatus(ledger, 200);
    expect(ledger.body.entries.map((e: any) => [e.type, e.amountMinor, e.balance])).toEqual([
      ['CommissionEarned', 1000, { earnedMinor: 1000, paidMinor: 0, owedMinor: 1000 }],
      ['CommissionEarned', 1000, { earnedMinor: 2000, paidMinor: 0, owedMinor: 2000 }],
      ['CommissionEarned', 1000, { earnedMinor: 3000, paidMinor: 0, owedMinor: 3000 }],
      ['PayoutRecorded', -1000, { earnedMinor: 3000, paidMinor: 1000, owedMinor: 2000 }],
    ]);
    for (const e of ledger.body.entries) {
      expect(e).toEqual(expect.objectContaining({ eventId: expect.any(String), occurredAt: expect.any(String), recordedAt: expect.any(String) }));
    }
    expect(ledger.body.entries.slice(0, 3).map((e: any) => e.orderId)).toEqual(['dash-a1', 'dash-a2', 'dash-a3']);
    expect(ledger.body.entries[3].payoutId).toEqual(expect.any(String));
    const stats = await affiliateStats(app, programId, aff.alpha.id);
    expect(ledger.body.balance).toEqual({ earnedMinor: stats.commissionEarnedMinor, paidMinor: stats.commissionPaidMinor, owedMinor: stats.commissionOwedMinor });
  });
});

describe('step 8: payouts', () => {
  let programId: string;
  let key: string;
  let affiliate: Record<string, any>;
  const pay = (body: Record<string, unknown>, idempotencyKey?: string) =>
    app.op('POST', `/api/programs/${programId}/affiliates/${affiliate.id}/payouts`, body, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });

  beforeAll(async () => {
    const setup = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 }, holdDays: 0, minimumPayoutMinor: 500 });
    programId = setup.program.id;
    key = setup.key;
    affiliate = await enroll(app, programId);
    await convert(app, key, { orderId: 'pay-1', amountMinor: 20000, affiliateCode: affiliate.code });
    await convert(app, key, { orderId: 'pay-2', amountMinor: 10000, affiliateCode: affiliate.code });
    await settle(app, programId);
  });

  it('refuses a payout without Idempotency-Key (400), above payable (409) and below the minimum (422 below_minimum_payout)', async () => {
    const before = countEvents(app.dataDir);
    expectError(await pay({ amountMinor: 1000 }), 400, 'validation_failed');
    expectError(await pay({ amountMinor: 3001 }, 'too-much'), 409, 'conflict');
    expectError(await pay({ amountMinor: 499 }, 'too-little'), 422, 'below_minimum_payout');
    expect(countEvents(app.dataDir)).toBe(before);
  });

  it('pays with an Idempotency-Key (201); the same key again returns the same answer and pays once', async () => {
    const first = await pay({ amountMinor: 1000, reference: 'SEPA-1' }, 'payout-key-1');
    expectStatus(first, 201);
    expect(first.body).toMatchObject({ payoutId: expect.any(String), amountMinor: 1000 });
    const again = await pay({ amountMinor: 1000, reference: 'SEPA-1' }, 'payout-key-1');
    expectStatus(again, 201);
    expect(again.body).toEqual(first.body);
    expect(readEvents(app.dataDir, { type: 'PayoutRecorded', programId })).toHaveLength(1);
    await settle(app, programId);
    expect((await dashboard(app, programId)).totals).toMatchObject({ commissionEarnedMinor: 3000, commissionPaidMinor: 1000, commissionOwedMinor: 2000, commissionPayableMinor: 2000 });

    const payables = await app.op('GET', `/api/programs/${programId}/payables`);
    const items = Array.isArray(payables.body) ? payables.body : payables.body.items;
    expect(items.map((i: any) => [i.affiliateId ?? i.id, i.payableMinor])).toEqual([[affiliate.id, 2000]]);
  });

  it('voiding a payout → 200 and the amount is owed again; the ledger shows every step', async () => {
    const payout = (await pay({ amountMinor: 1000, reference: 'SEPA-1' }, 'payout-key-1')).body;
    const res = await app.op('POST', `/api/programs/${programId}/payouts/${payout.payoutId}/void`, { reason: 'bounced' });
    expectStatus(res, 200);
    await settle(app, programId);
    expect((await dashboard(app, programId)).totals).toMatchObject({ commissionPaidMinor: 0, commissionOwedMinor: 3000, commissionPayableMinor: 3000 });
    expect(await affiliateStats(app, programId, affiliate.id)).toMatchObject({ commissionPaidMinor: 0, commissionOwedMinor: 3000 });

    const ledger = (await app.op('GET', `/api/programs/${programId}/affiliates/${affiliate.id}/ledger`)).body;
    expect(ledger.entries.map((e: any) => [e.type, e.amountMinor, e.balance.owedMinor])).toEqual([
      ['CommissionEarned', 2000, 2000],
      ['CommissionEarned', 1000, 3000],
      ['PayoutRecorded', -1000, 2000],
      ['PayoutVoided', 1000, 3000],
    ]);
    expect(ledger.balance).toEqual({ earnedMinor: 3000, paidMinor: 0, owedMinor: 3000 });

    // Without an amount, everything payable is paid.
    const all = await pay({}, 'payout-key-2');
    expectStatus(all, 201);
    expect(all.body.amountMinor).toBe(3000);
    await settle(app, programId);
    expect((await dashboard(app, programId)).totals).toMatchObject({ commissionPaidMinor: 3000, commissionOwedMinor: 0, commissionPayableMinor: 0 });
    expect((await app.op('GET', `/api/programs/${programId}/affiliates/${affiliate.id}/ledger`)).body.balance).toEqual({ earnedMinor: 3000, paidMinor: 3000, owedMinor: 0 });
  });

  it('payables lists exactly the affiliates whose payable balance reaches the minimum', async () => {
    const { program, key } = await programWithStorefront(app, { commission: { type: 'percent', basisPoints: 1000 }, minimumPayoutMinor: 500 });
    const big = await enroll(app, program.id);
    const exact = await enroll(app, program.id);
    const small = await enroll(app, program.id);
    await enroll(app, program.id);
    await convert(app, key, { orderId: 'big', amountMinor: 10000, affiliateCode: big.code });
    await convert(app, key, { orderId: 'exact', amountMinor: 5000, affiliateCode: exact.code });
    await convert(app, key, { orderId: 'small', amountMinor: 4990, affiliateCode: small.code });
    await settle(app, program.id);
    const res = await app.op('GET', `/api/programs/${program.id}/payables`);
    expectStatus(res, 200);
    const items = Array.isArray(res.body) ? res.body : res.body.items;
    expect(Object.fromEntries(items.map((i: any) => [i.affiliateId ?? i.id, i.payableMinor]))).toEqual({ [big.id]: 1000, [exact.id]: 500 });
    expectError(await app.op('POST', `/api/programs/${program.id}/affiliates/${small.id}/payouts`, {}, { 'idempotency-key': 'small' }), 422, 'below_minimum_payout');
  });

  it('with holdDays > 0 a commission becomes payable once its hold has passed', async () => {
    const held = await programWithStorefront(app, { holdDays: 14, minimumPayoutMinor: 100, commission: { type: 'percent', basisPoints: 1000 } });
    const a = await enroll(app, held.program.id);
    await convert(app, held.key, { orderId: 'old-sale', amountMinor: 30000, affiliateCode: a.code, occurredAt: ago(20 * DAY_MS) });
    await convert(app, held.key, { orderId: 'new-sale', amountMinor: 50000, affiliateCode: a.code });
    await settle(app, held.program.id);
    expect(await affiliateStats(app, held.program.id, a.id)).toMatchObject({ commissionEarnedMinor: 8000, commissionOwedMinor: 8000, commissionPayableMinor: 3000 });
    expect((await dashboard(app, held.program.id)).totals).toMatchObject({ commissionOwedMinor: 8000, commissionPayableMinor: 3000 });
    const payables = (await app.op('GET', `/api/programs/${held.program.id}/payables`)).body;
    expect((Array.isArray(payables) ? payables : payables.items).map((i: any) => [i.affiliateId ?? i.id, i.payableMinor])).toEqual([[a.id, 3000]]);

    expectError(await app.op('POST', `/api/programs/${held.program.id}/affiliates/${a.id}/payouts`, { amountMinor: 3001 }, { 'idempotency-key': 'held-too-much' }), 409, 'conflict');
    const all = await app.op('POST', `/api/programs/${held.program.id}/affiliates/${a.id}/payouts`, {}, { 'idempotency-key': 'held-matured' });
    expectStatus(all, 201);
    expect(all.body.amountMinor).toBe(3000);
    await settle(app, held.program.id);
    expect(await affiliateStats(app, held.program.id, a.id)).toMatchObject({ commissionPaidMinor: 3000, commissionOwedMinor: 5000, commissionPayableMinor: 0 });
  });

  it('with holdDays > 0 a fresh commission is owed but not payable, and no one is listed as payable', async () => {
    const held = await programWithStorefront(app, { holdDays: 14, minimumPayoutMinor: 100 });
    const a = await enroll(app, held.program.id);
    await convert(app, held.key, { orderId: 'held-1', amountMinor: 50000, affiliateCode: a.code });
    await settle(app, held.program.id);
    expect((await dashboard(app, held.program.id)).totals).toMatchObject({ commissionEarnedMinor: 5000, commissionOwedMinor: 5000, commissionPayableMinor: 0 });
    expect(await affiliateStats(app, held.program.id, a.id)).toMatchObject({ commissionOwedMinor: 5000, commissionPayableMinor: 0 });

    const before = countEvents(app.dataDir);
    const explicit = await app.op('POST', `/api/programs/${held.program.id}/affiliates/${a.id}/payouts`, { amountMinor: 5000 }, { 'idempotency-key': 'held-1' });
    expect([409, 422]).toContain(explicit.status);
    expectError(explicit, explicit.status);
    const everything = await app.op('POST', `/api/programs/${held.program.id}/affiliates/${a.id}/payouts`, {}, { 'idempotency-key': 'held-2' });
    expect([409, 422]).toContain(everything.status);
    expectError(everything, everything.status);
    expect(countEvents(app.dataDir)).toBe(before);

    const payables = await app.op('GET', `/api/programs/${held.program.id}/payables`);
    expectStatus(payables, 200);
    expect(Array.isArray(payables.body) ? payables.body : payables.body.items).toEqual([]);
  });
});

describe('metrics after traffic', () => {
  it('counts appended events by type and requests by route', async () => {
    const program = await createProgram(app);
    const a = await enroll(app, program.id);
    await redirectClick(app, a.code);
    await settle(app, program.id);
    const res = await app.request('GET', '/metrics');
    expectStatus(res, 200);
    expect(res.text).toMatch(/^events_appended_total\{type="ClickRecorded"\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^http_requests_total\{method="GET",route="\/r\/:code",status="302"\} [1-9]\d*$/m);
  });
});

describe('dashboard queries: ties and bad parameters', () => {
  it('pages through affiliates with equal figures, every affiliate exactly once, in both orders', async () => {
    const program = await createProgram(app);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enroll(app, program.id)).id);
    await settle(app, program.id);
    for (const sort of ['clicks', 'conversions', 'conversionRate', 'commissionEarnedMinor', 'commissionOwedMinor']) {
      for (const order of ['asc', 'desc']) {
        const walked: string[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 10; page++) {
          const res: any = await app.op('GET', `/api/programs/${program.id}/affiliates?sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expectStatus(res, 200);
          walked.push(...res.body.items.map((a: any) => a.id));
          cursor = res.body.nextCursor ?? null;
          if (!cursor) break;
        }
        expect({ sort, order, walked: [...walked].sort() }).toEqual({ sort, order, walked: [...ids].sort() });
      }
    }
  });

  it('a bad sort, order, limit, cursor or time range → 400 validation_failed', async () => {
    const program = await createProgram(app);
    const P = `/api/programs/${program.id}`;
    expectError(await app.op('GET', `${P}/affiliates?sort=name`), 400, 'validation_failed');
    expectError(await app.op('GET', `${P}/affiliates?order=sideways`), 400, 'validation_failed');
    expectError(await app.op('GET', `${P}/affiliates?limit=0`), 400, 'validation_failed');
    expectError(await app.op('GET', `${P}/affiliates?cursor=not-a-cursor`), 400, 'validation_failed');
    expectError(await app.op('GET', `${P}/timeseries?metric=revenue`), 400, 'validation_failed');
    expectError(await app.op('GET', `${P}/timeseries?interval=minute`), 400, 'validation_failed');
    expectError(await app.op('GET', `${P}/timeseries?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`), 400, 'validation_failed');
  });
});

describe('voids', () => {
  it('a payout voided twice → 409 and the balance moves once', async () => {
    const { program, key } = await programWithStorefront(app, { minimumPayoutMinor: 100 });
    const affiliate = await enroll(app, program.id);
    await convert(app, key, { orderId: 'void-twice', amountMinor: 10000, affiliateCode: affiliate.code });
    await settle(app, program.id);
    const payout = await app.op('POST', `/api/programs/${program.id}/affiliates/${affiliate.id}/payouts`, { amountMinor: 600 }, { 'idempotency-key': 'void-twice' });
    expectStatus(payout, 201);
    expectStatus(await app.op('POST', `/api/programs/${program.id}/payouts/${payout.body.payoutId}/void`, { reason: 'bounced' }), 200);
    const before = countEvents(app.dataDir);
    expectError(await app.op('POST', `/api/programs/${program.id}/payouts/${payout.body.payoutId}/void`, { reason: 'again' }), 409, 'conflict');
    expectError(await app.op('POST', `/api/programs/${program.id}/payouts/po_unknown/void`, { reason: 'x' }), 404, 'not_found');
    expectError(await app.op('POST', `/api/programs/${program.id}/payouts/${payout.body.payoutId}/void`, {}), 400, 'validation_failed');
    expect(countEvents(app.dataDir)).toBe(before);
    await settle(app, program.id);
    expect(await affiliateStats(app, program.id, affiliate.id)).toMatchObject({ commissionEarnedMinor: 1000, commissionPaidMinor: 0, commissionOwedMinor: 1000 });
  });
});

