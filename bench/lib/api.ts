/** Minimal HTTP client for setting up benchmark data through the public API. */
export class Api {
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  async op<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : (undefined as T);
  }

  async storefront<T = any>(key: string, path: string, body: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(this.baseUrl + path, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  /** A program with one storefront and `affiliates` affiliates (codes c0, c1, … prefixed). */
  async setup(prefix: string, affiliates = 1) {
    const program = await this.op('POST', '/api/programs', {
      name: `bench ${prefix}`,
      currency: 'EUR',
      defaultLandingUrl: 'https://shop.example.com/',
      cookieWindowDays: 30,
      commission: { type: 'percent', basisPoints: 1000 },
      holdDays: 0,
      minimumPayoutMinor: 1000,
    });
    const storefront = await this.op('POST', `/api/programs/${program.id}/storefronts`, { name: 'bench store' });
    const codes: string[] = [];
    for (let i = 0; i < affiliates; i++) {
      const a = await this.op('POST', `/api/programs/${program.id}/affiliates`, { name: `Affiliate ${i}`, email: `a${i}@example.com`, code: `${prefix}-aff-${i}` });
      codes.push(a.code);
    }
    return { programId: program.id as string, key: storefront.apiKey as string, codes };
  }
}

export const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
