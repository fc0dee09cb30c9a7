import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Builds each request's body afresh, e.g. with unique order ids. */
  body?: () => string;
  connections: number;
  durationS: number;
  /** The status that counts as success (302 for the redirect, 202 for ingestion, 200 for reads). */
  expect: number;
}

export interface LoadRun {
  okPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
  durationS: number;
  connections: number;
}

/** One autocannon run in this process; the server under test runs in another process. */
export async function load(o: LoadOptions): Promise<LoadRun> {
  const url = new URL(o.url);
  const makeBody = o.body;
  const result = await autocannon({
    url: url.origin,
    connections: o.connections,
    duration: o.durationS,
    requests: [
      {
        method: o.method ?? 'GET',
        path: url.pathname + url.search,
        headers: o.headers,
        ...(makeBody ? { setupRequest: (request: Record<string, unknown>) => ({ ...request, body: makeBody() }) } : {}),
      },
    ],
  } as autocannon.Options);
  const codes = (result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {};
  const ok = codes[String(o.expect)]?.count ?? 0;
  const total = Object.values(codes).reduce((n, c) => n + c.count, 0) + result.errors + result.timeouts;
  const seconds = result.duration;
  return {
    okPerSec: ok / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok,
    failed: total - ok,
    durationS: Number(seconds.toFixed(2)),
    connections: o.connections,
  };
}

export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function figure(values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]), runs: values.map(round) };
}

export function round(n: number): number {
  return Math.abs(n) >= 100 ? Math.round(n) : Number(n.toFixed(2));
}

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
