/**
 * The operator web dashboard in headless Chromium (playwright-core driving Debian's /usr/bin/chromium) against the
 * built standalone app on a fresh data dir: what an operator does, checked on the page and in the API.
 * Each test saves a screenshot to test-artifacts/web/.
 */
import { Page } from 'playwright-core';
import { readEvents, RunningApp, settle, startApp } from './support/app';
import { Browser, launchBrowser, screenshot, signIn } from './support/browser';
import { ensureBuilt } from './support/build';
import { expectStatus } from './support/expect';
import { browserUA, click, convert, createStorefront, DAY_MS, enroll, iso, programWithStorefront, uniqueCode } from './support/fixtures';

let app: RunningApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  ensureBuilt();
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  app?.cleanup();
});

beforeEach(async () => {
  page = await browser.context.newPage();
});

afterEach(async () => {
  await screenshot(page, expect.getState().currentTestName ?? 'web');
  await page.close();
});

const metric = (id: string) => page.getByTestId(`metric-${id}`).locator('dd');
const row = (code: string) => page.locator(`table.affiliates tbody tr[data-code="${code}"]`);
const cell = (code: string, col: string) => row(code).locator(`td[data-col="${col}"]`);

describe('web dashboard', () => {
  it('signs in, creates a program, enrolls two affiliates, and shows the exact totals, rows and conversion rates of the clicks and sales sent through the API', async () => {
    await signIn(page, app.baseUrl, app.token);
    await page.getByLabel('Program name').fill('Browser Outdoor');
    await page.getByLabel('Currency', { exact: true }).fill('EUR');
    await page.getByLabel('Default landing page').fill('https://shop.example.com/');
    await page.getByLabel('Commission (%)').fill('10');
    await page.getByLabel('Minimum payout', { exact: true }).fill('10.00');
    await page.getByRole('button', { name: 'Create program' }).click();
    await page.getByRole('heading', { name: 'Browser Outdoor', level: 1 }).waitFor();
    const programId = /\/programs\/([^/]+)/.exec(page.url())![1];
    await expect(metric('clicks').textContent()).resolves.toBe('0');
    await page.getByText('No clicks yet').waitFor();

    await page.getByRole('navigation', { name: 'Program' }).getByRole('link', { name: 'Affiliates' }).click();
    await page.getByText('No affiliates yet').waitFor();
    const codes = { jane: uniqueCode('jane'), max: uniqueCode('max') };
    for (const [name, code] of [['Jane Doe', codes.jane], ['Max Mustermann', codes.max]]) {
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Email').fill(`${code}@example.com`);
      await page.getByLabel('Code (optional)').fill(code);
      await page.getByRole('button', { name: 'Enroll affiliate' }).click();
      await page.getByRole('status').filter({ hasText: `${name} is enrolled` }).waitFor();
      await expect(page.getByRole('status').filter({ hasText: `${name} is enrolled` }).getByRole('link').first().getAttribute('href')).resolves.toBe(`${publicBase()}/r/${code}`);
    }

    // Traffic through the API: Jane 4 clicks, 1 sale of €19.99; Max 3 clicks, 2 sales of €50.00 (10% commission).
    const storefront = await createStorefront(app, programId);
    for (let i = 0; i < 4; i++) await click(app, storefront.apiKey, { code: codes.jane, ip: `198.51.100.${i + 1}`, userAgent: browserUA(1) });
    for (let i = 0; i < 3; i++) await click(app, storefront.apiKey, { code: codes.max, ip: `198.51.100.${i + 1}`, userAgent: browserUA(2) });
    await convert(app, storefront.apiKey, { orderId: 'web-1', amountMinor: 1999, affiliateCode: codes.jane });
    await convert(app, storefront.apiKey, { orderId: 'web-2', amountMinor: 5000, affiliateCode: codes.max });
    await convert(app, storefront.apiKey, { orderId: 'web-3', amountMinor: 5000, affiliateCode: codes.max });
    await settle(app, programId);

    await page.getByRole('navigation', { name: 'Program' }).getByRole('link', { name: 'Dashboard' }).click();
    await metric('clicks').filter({ hasText: '7' }).waitFor();
    expect(await metric('clicks').textContent()).toBe('7');
    expect(await metric('unique-clicks').textContent()).toBe('7');
    expect(await metric('conversions').textContent()).toBe('3');
    expect(await metric('conversion-rate').textContent()).toBe('42.86%');
    expect(await metric('earned').textContent()).toBe('€12.00');
    expect(await metric('owed').textContent()).toBe('€12.00');
    expect(await metric('paid').textContent()).toBe('€0.00');
    expect(await metric('payable').textContent()).toBe('€12.00');
    await page.getByTestId('freshness').filter({ hasText: 'up to date' }).waitFor();

    await page.getByRole('navigation', { name: 'Program' }).getByRole('link', { name: 'Affiliates' }).click();
    await row(codes.jane).waitFor();
    // Sorted by clicks, most first.
    expect(await page.locator('table.affiliates tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')))).toEqual([codes.jane, codes.max]);
    expect(await cell(codes.jane, 'name').textContent()).toBe('Jane Doe');
    expect(await cell(codes.jane, 'clicks').textContent()).toBe('4');
    expect(await cell(codes.jane, 'conversions').textContent()).toBe('1');
    expect(await cell(codes.jane, 'conversionRate').textContent()).toBe('25%');
    expect(await cell(codes.jane, 'commissionEarnedMinor').textContent()).toBe('€2.00');
    expect(await cell(codes.jane, 'commissionOwedMinor').textContent()).toBe('€2.00');
    expect(await cell(codes.max, 'clicks').textContent()).toBe('3');
    expect(await cell(codes.max, 'conversions').textContent()).toBe('2');
    expect(await cell(codes.max, 'conversionRate').textContent()).toBe('66.67%');
    expect(await cell(codes.max, 'commissionEarnedMinor').textContent()).toBe('€10.00');
    expect(await cell(codes.max, 'status').textContent()).toBe('active');

    // Sorting by conversion rate (a click on the column header) puts Max first; search finds one by code.
    await page.getByRole('button', { name: /Conv\. rate/ }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Conv. rate' }).waitFor();
    await page.waitForFunction(`document.querySelector('table.affiliates tbody tr')?.getAttribute('data-code') === ${JSON.stringify(codes.max)}`);
    await page.getByLabel('Search by name or code').fill(codes.jane.slice(0, 6));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('1 match').waitFor();
    expect(await page.locator('table.affiliates tbody tr').count()).toBe(1);
    expect(await cell(codes.jane, 'clicks').textContent()).toBe('4');
  });

  it('marks an affiliate paid from the page: below the minimum pays nothing and says so; a double click pays once; owed and paid change on the page and in the API', async () => {
    const { program, key } = await programWithStorefront(app, { minimumPayoutMinor: 1000, holdDays: 0, commission: { type: 'percent', basisPoints: 1000 } });
    const affiliate = await enroll(app, program.id, { name: 'Paula Payee' });
    for (let i = 0; i < 3; i++) await convert(app, key, { orderId: `pay-${i}`, amountMinor: 10000, affiliateCode: affiliate.code });
    await settle(app, program.id);
    const keys: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/payouts')) keys.push(r.headers()['idempotency-key']);
    });
    const payouts = () => readEvents(app.dataDir, { type: 'PayoutRecorded', programId: program.id }).map((e) => e.data.amountMinor);

    await signIn(page, app.baseUrl, app.token);
    await page.goto(`${app.baseUrl}/programs/${program.id}/affiliates/${affiliate.id}`);
    await page.getByRole('heading', { name: /Paula Payee/, level: 1 }).waitFor();
    expect(await metric('owed').textContent()).toBe('€30.00');
    // The amount defaults to everything payable.
    expect(await page.getByLabel('Amount (EUR)').inputValue()).toBe('30.00');

    // Below the minimum: the sentence a person needs, and nothing paid.
    await page.getByLabel('Amount (EUR)').fill('5.00');
    await page.getByRole('button', { name: 'Mark paid' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'minimum payout' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe(
      "Nothing was paid: this amount is below the program's minimum payout of €10.00. Pay at least €10.00, or wait until more commission is payable.",
    );
    expect(payouts()).toEqual([]);

    // A double click on the button pays once.
    await page.getByLabel('Amount (EUR)').fill('12.00');
    await page.getByLabel('Reference (optional)').fill('SEPA 77');
    await page.getByRole('button', { name: 'Mark paid' }).dblclick();
    await metric('paid').filter({ hasText: '€12.00' }).waitFor();
    expect(await metric('owed').textContent()).toBe('€18.00');
    await page.getByRole('table', { name: 'Ledger' }).getByText('SEPA 77').waitFor();
    expect(payouts()).toEqual([1200]);
    expect(new Set(keys).size).toBe(1);

    // The next payout is a new form (a new key). Two submits that both reach the API (a double click faster than
    // the button disables) carry that one key, and the API pays once.
    await page.getByLabel('Amount (EUR)').fill('10.00');
    const before = keys.length;
    await page.evaluate(`{ const f = document.querySelector('form[aria-labelledby="mark-paid"]'); f.requestSubmit(); f.requestSubmit(); }`);
    await metric('paid').filter({ hasText: '€22.00' }).waitFor();
    expect(await metric('owed').textContent()).toBe('€8.00');
    expect(keys.length - before).toBe(2);
    expect(keys[keys.length - 1]).toBe(keys[keys.length - 2]);
    expect(new Set(keys).size).toBe(2);
    expect(payouts()).toEqual([1200, 1000]);

    const ledger = await app.op('GET', `/api/programs/${program.id}/affiliates/${affiliate.id}/ledger`);
    expectStatus(ledger, 200);
    expect(ledger.body.balance).toEqual({ earnedMinor: 3000, paidMinor: 2200, owedMinor: 800 });
    const stats = await app.op('GET', `/api/programs/${program.id}/affiliates/${affiliate.id}`);
    expect(stats.body).toMatchObject({ commissionPaidMinor: 2200, commissionOwedMinor: 800 });
  });

  it('looks up an order whose click had expired and reads why it was not attributed', async () => {
    const { program, key } = await programWithStorefront(app, { cookieWindowDays: 1 });
    const affiliate = await enroll(app, program.id);
    const clickAt = Date.now() - 3 * DAY_MS;
    const clickId = await click(app, key, { code: affiliate.code, occurredAt: iso(clickAt) });
    await convert(app, key, { orderId: 'late-order-1', amountMinor: 4200, clickId });
    await settle(app, program.id);

    await signIn(page, app.baseUrl, app.token);
    await page.goto(`${app.baseUrl}/programs/${program.id}/attribution`);
    await page.getByRole('table', { name: 'Unattributed conversions' }).getByRole('cell', { name: 'late-order-1', exact: true }).waitFor();
    await page.getByRole('textbox', { name: 'Order id' }).fill('late-order-1');
    await page.getByRole('button', { name: 'Look up' }).click();
    const answer = page.getByTestId('attribution-answer');
    await answer.waitFor();
    expect(await answer.locator('strong').textContent()).toBe('Not attributed');
    expect(await answer.locator('.badge').textContent()).toBe('Click expired');
    const api = await app.op('GET', `/api/programs/${program.id}/attribution?orderId=late-order-1`);
    expect(api.body.reason).toBe('click_expired');
    expect(await page.getByTestId('attribution-explanation').textContent()).toBe(api.body.explanation);
    expect(api.body.explanation).toContain('after the cookie window');
  });

  it('a wrong token shows the sign-in error and signs nobody in', async () => {
    await page.goto(app.baseUrl + '/');
    await page.getByLabel('Operator token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toContain('That token was not accepted');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.getByRole('heading', { name: 'Programs' }).count()).toBe(0);
  });

  it('an API that stops answering shows an error in words, not a blank page', async () => {
    const other = await startApp();
    try {
      const { program } = await programWithStorefront(other);
      await signIn(page, other.baseUrl, other.token);
      await page.goto(`${other.baseUrl}/programs/${program.id}`);
      await metric('clicks').waitFor();
      const tabs = page.getByRole('navigation', { name: 'Program' });
      await tabs.getByRole('link', { name: 'Affiliates' }).click();
      await page.getByText('No affiliates yet').waitFor();
      await tabs.getByRole('link', { name: 'Dashboard' }).click();
      await metric('clicks').waitFor();
      await other.stop();

      // A page whose code is loaded: its data cannot be fetched, and it says so.
      await tabs.getByRole('link', { name: 'Affiliates' }).click();
      const error = page.getByRole('alert');
      await error.waitFor();
      expect(await error.locator('p').textContent()).toBe(
        'The dashboard cannot reach the API server: it may be stopped or restarting. Check that it runs, then try again.',
      );
      await page.getByRole('button', { name: 'Try again' }).waitFor();
      expect(await page.getByRole('heading', { name: 'Affiliates', level: 1 }).count()).toBe(1);

      // A page whose code was never loaded: the code cannot be fetched either, and it says so too.
      await tabs.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('alert').filter({ hasText: 'could not be loaded' }).waitFor();
      expect(await page.getByRole('link', { name: 'All programs' }).count()).toBe(1);
    } finally {
      await other.stop();
      other.cleanup();
    }
  });
});

/** startApp leaves PUBLIC_BASE_URL unset: links use http://localhost:<port>. */
function publicBase(): string {
  return `http://localhost:${app.port}`;
}
