import { RunningApp } from './app';

/** Program settings that pass validation; tests override what they are about. */
export function programBody(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: 'Outdoor Store',
    currency: 'EUR',
    defaultLandingUrl: 'https://shop.example.com/landing',
    allowedLandingHosts: ['blog.example.com'],
    cookieWindowDays: 30,
    commission: { type: 'percent', basisPoints: 1000 },
    holdDays: 0,
    minimumPayoutMinor: 500,
    ...overrides,
  };
}

function expectStatus(res: { status: number; text: string }, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text}`);
}

export async function createProgram(app: RunningApp, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await app.op('POST', '/api/programs', programBody(overrides));
  expectStatus(res, 201, 'create program');
  return res.body;
}

export async function createStorefront(app: RunningApp, programId: string, name = 'shop'): Promise<{ id: string; apiKey: string }> {
  const res = await app.op('POST', `/api/programs/${programId}/storefronts`, { name });
  expectStatus(res, 201, 'create storefront');
  return res.body;
}

let codeCounter = 0;
/** A code no other test in this app uses. */
export function uniqueCode(prefix = 'aff'): string {
  codeCounter += 1;
  return `${prefix}-${codeCounter}-${process.pid % 1000}`;
}

export async function enroll(app: RunningApp, programId: string, body: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const code = (body.code as string | undefined) ?? uniqueCode();
  const res = await app.op('POST', `/api/programs/${programId}/affiliates`, { name: `Affiliate ${code}`, email: `${code}@example.com`, code, ...body });
  expectStatus(res, 201, 'enroll affiliate');
  return res.body;
}

/** A program with one storefront, ready for tracking. */
export async function programWithStorefront(app: RunningApp, overrides: Record<string, unknown> = {}) {
  const program = await createProgram(app, overrides);
  const storefront = await createStorefront(app, program.id);
  return { program, storefront, key: storefront.apiKey };
}

/** POST /v1/clicks → the click id (fails the test on anything but 202). */
export async function click(app: RunningApp, key: string, body: Record<string, unknown>): Promise<string> {
  const res = await app.sf(key, 'POST', '/v1/clicks', body);
  expectStatus(res, 202, 'click');
  return res.body.clickId;
}

/** POST /v1/conversions → the conversion id (fails the test on anything but 202). */
export async function convert(app: RunningApp, key: string, body: Record<string, unknown>): Promise<string> {
  const res = await app.sf(key, 'POST', '/v1/conversions', { currency: 'EUR', ...body });
  expectStatus(res, 202, 'conversion');
  return res.body.conversionId;
}

/** GET /r/{code} → the click id carried by the redirect. */
export async function redirectClick(app: RunningApp, code: string, userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'): Promise<string> {
  const res = await app.request('GET', `/r/${code}`, { headers: { 'user-agent': userAgent } });
  expectStatus(res, 302, `GET /r/${code}`);
  return new URL(res.headers.get('location')!).searchParams.get('aff_click')!;
}

export async function attribution(app: RunningApp, programId: string, query: { orderId?: string; clickId?: string }) {
  const qs = new URLSearchParams(query as Record<string, string>).toString();
  const res = await app.op('GET', `/api/programs/${programId}/attribution?${qs}`);
  expectStatus(res, 200, 'attribution');
  return res.body;
}

export async function dashboard(app: RunningApp, programId: string) {
  const res = await app.op('GET', `/api/programs/${programId}/dashboard`);
  expectStatus(res, 200, 'dashboard');
  return res.body;
}

export async function affiliateStats(app: RunningApp, programId: string, affiliateId: string) {
  const res = await app.op('GET', `/api/programs/${programId}/affiliates/${affiliateId}`);
  expectStatus(res, 200, 'affiliate stats');
  return res.body;
}

/** ISO time `ms` milliseconds before now. */
export function ago(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** Start of the UTC day `days` days before today. */
export function utcDayStart(daysAgo: number): number {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime() - daysAgo * DAY_MS;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** A real browser's user agent, varied by n (isbot flags made-up ones such as "Mozilla/5.0 test"). */
export function browserUA(n = 0): string {
  return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.${n}.0 Safari/537.36`;
}
