/**
 * The dashboard's hand-typed API client against the running API: every operation it calls exists in the OpenAPI
 * document with the query parameters (and their allowed values) it sends, and the answers carry exactly the fields
 * its types declare. A change on either side that the other does not follow fails here.
 */
import { ENDPOINTS } from '../apps/web/src/api/endpoints';
import { AFFILIATE_STATS_FIELDS, SORT_KEYS, TOTALS_FIELDS } from '../apps/web/src/api/types';
import { RunningApp, settle, startApp } from './support/app';
import { ensureBuilt } from './support/build';
import { expectStatus } from './support/expect';
import { convert, enroll, programWithStorefront, click, browserUA } from './support/fixtures';

let app: RunningApp;
let doc: { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema?: { enum?: string[] } }[] }>> };

beforeAll(async () => {
  ensureBuilt();
  app = await startApp();
  const res = await app.request('GET', '/api/docs-json');
  expectStatus(res, 200);
  doc = res.body;
}, 300_000);

afterAll(async () => {
  await app?.stop();
  app?.cleanup();
});

const queryParams = (path: string, method: string) => (doc.paths[path]?.[method.toLowerCase()]?.parameters ?? []).filter((p) => p.in === 'query');

describe('the dashboard client and the API contract', () => {
  it.each(Object.entries(ENDPOINTS))('%s: the operation exists with every query parameter the client sends', (_name, e) => {
    expect(doc.paths[e.path]?.[e.method.toLowerCase()]).toBeDefined();
    const documented = queryParams(e.path, e.method).map((p) => p.name);
    expect(documented).toEqual(expect.arrayContaining([...e.query]));
  });

  it("the affiliate list's sort keys and orders are exactly the ones the client offers", () => {
    const params = Object.fromEntries(queryParams(ENDPOINTS.listAffiliates.path, 'GET').map((p) => [p.name, p.schema?.enum]));
    expect([...(params.sort ?? [])].sort()).toEqual([...SORT_KEYS].sort());
    expect(params.order).toEqual(['asc', 'desc']);
    const series = Object.fromEntries(queryParams(ENDPOINTS.timeseries.path, 'GET').map((p) => [p.name, p.schema?.enum]));
    expect(series.metric).toEqual(['clicks', 'conversions', 'commission']);
    expect(series.interval).toEqual(['day', 'hour']);
  });

  it('the dashboard totals and the affiliate stats carry exactly the fields the client types declare', async () => {
    const { program, key } = await programWithStorefront(app);
    const affiliate = await enroll(app, program.id);
    await click(app, key, { code: affiliate.code, ip: '198.51.100.9', userAgent: browserUA(9) });
    await convert(app, key, { orderId: 'contract-1', amountMinor: 1000, affiliateCode: affiliate.code });
    await settle(app, program.id);
    const dashboard = await app.op('GET', `/api/programs/${program.id}/dashboard`);
    expect(Object.keys(dashboard.body.totals).sort()).toEqual([...TOTALS_FIELDS].sort());
    const list = await app.op('GET', `/api/programs/${program.id}/affiliates?limit=5`);
    expect(Object.keys(list.body.items[0]).sort()).toEqual([...AFFILIATE_STATS_FIELDS].sort());
    const found = await app.op('GET', `/api/programs/${program.id}/affiliates?q=${encodeURIComponent(affiliate.code.slice(0, 5))}`);
    expectStatus(found, 200);
    expect(found.body.items.map((i: { id: string }) => i.id)).toEqual([affiliate.id]);
    const one = await app.op('GET', `/api/programs/${program.id}/affiliates/${affiliate.id}`);
    expect(Object.keys(one.body).sort()).toEqual([...AFFILIATE_STATS_FIELDS, 'email', 'landingUrl', 'commission', 'enrolledAt'].sort());
  });
});
