/**
 * Loads demo data into a running app over its public HTTP API: one program, a storefront, five affiliates,
 * clicks through their links and conversions from the storefront. Usage (app running on :3000):
 *   npm run demo            # BASE_URL and ADMIN_TOKEN override the defaults (./data/admin-token)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.BASE_URL ?? 'http://localhost:3000';
const token = process.env.ADMIN_TOKEN ?? readFileSync(join(process.env.DATA_DIR ?? './data', 'admin-token'), 'utf8').trim();

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    redirect: 'manual',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return { status: res.status, location: res.headers.get('location'), json: text ? JSON.parse(text) : null };
}

async function main() {
  const program = (
    await call('POST', '/api/programs', {
      name: 'Demo Outdoor Store',
      currency: 'EUR',
      defaultLandingUrl: 'https://outdoor.example.com/',
      allowedLandingHosts: ['blog.outdoor.example.com'],
      cookieWindowDays: 30,
      commission: { type: 'percent', basisPoints: 1000 },
      holdDays: 0,
      minimumPayoutMinor: 2000,
    })
  ).json;
  const storefront = (await call('POST', `/api/programs/${program.id}/storefronts`, { name: 'outdoor.example.com' })).json;
  const people = [
    ['Trail Blog', 40, 6],
    ['Camping Weekly', 60, 1],
    ['Peak Reviews', 25, 5],
    ['Gear Deals', 12, 1],
    ['Quiet Creator', 1, 0],
  ] as const;
  let order = 1000;
  for (const [name, clicks, sales] of people) {
    const affiliate = (await call('POST', `/api/programs/${program.id}/affiliates`, { name, email: `${name.toLowerCase().replace(/ /g, '.')}@example.com` })).json;
    const clickIds: string[] = [];
    for (let i = 0; i < clicks; i++) {
      const r = await call('GET', `/r/${affiliate.code}`, undefined, { 'user-agent': `Mozilla/5.0 demo-visitor-${i}`, 'x-forwarded-for': `203.0.113.${i}` });
      clickIds.push(new URL(r.location!).searchParams.get('aff_click')!);
    }
    for (let i = 0; i < sales; i++) {
      await call('POST', '/v1/conversions', { orderId: `demo-${order++}`, amountMinor: 2500 + i * 1375, currency: 'EUR', clickId: clickIds[i] }, { 'x-api-key': storefront.apiKey });
    }
  }
  await call('POST', '/v1/conversions', { orderId: `demo-${order++}`, amountMinor: 4999, currency: 'EUR' }, { 'x-api-key': storefront.apiKey });
  process.stdout.write(`demo program ${program.id} loaded; dashboard: ${base}/api/programs/${program.id}/dashboard\nstorefront key: ${storefront.apiKey}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
