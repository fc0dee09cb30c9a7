import { Api, BROWSER_UA } from '../lib/api';
import { figure, load, LoadRun, percentile, round } from '../lib/load';
import { runJson, Server, startApp, startReference } from '../lib/processes';
import { Row } from '../lib/report';
import { Settings } from './settings';

function rowsFor(scenario: string, product: LoadRun[], reference: LoadRun[] | null, refName: string, target: string, minRatio: number | null, unit = 'req/s'): Row[] {
  const value = figure(product.map((r) => r.okPerSec));
  const ref = reference ? figure(reference.map((r) => r.okPerSec)) : null;
  const ratio = ref ? value.median / ref.median : undefined;
  const failed = product.reduce((n, r) => n + r.failed, 0);
  const notes = `${product[0].connections} connections × ${product[0].durationS} s × ${product.length} runs${failed ? `; ${failed} failed requests` : ''}`;
  return [
    { scenario, metric: 'throughput', unit, value, reference: ref ? { name: refName, value: ref } : undefined, ratio, target, met: minRatio === null || ratio === undefined ? null : ratio >= minRatio, notes },
    {
      scenario,
      metric: 'latency p50 / p99',
      unit: 'ms',
      value: figure(product.map((r) => r.p99Ms)),
      reference: reference ? { name: `${refName} p99`, value: figure(reference.map((r) => r.p99Ms)) } : undefined,
      target: '—',
      met: null,
      notes: `p99 shown; p50 median ${figure(product.map((r) => r.p50Ms)).median} ms`,
    },
  ];
}

/** 1. GET /r/{code} with the click durably recorded, beside bare Fastify answering the same 302. */
export async function redirect(s: Settings): Promise<Row[]> {
  const app = await startApp();
  const ref = await startReference();
  try {
    const { codes } = await new Api(app.baseUrl, app.token!).setup('r', 1);
    const headers = { 'user-agent': BROWSER_UA };
    const product: LoadRun[] = [];
    const reference: LoadRun[] = [];
    for (let i = 0; i < s.runs; i++) {
      reference.push(await load({ url: `${ref.baseUrl}/r/${codes[0]}`, headers, connections: s.connections, durationS: s.durationS, expect: 302 }));
      product.push(await load({ url: `${app.baseUrl}/r/${codes[0]}`, headers, connections: s.connections, durationS: s.durationS, expect: 302 }));
    }
    return rowsFor('redirect GET /r/{code}', product, reference, 'bare Fastify 302', '≥ 0.5× bare Fastify', 0.5);
  } finally {
    await app.stop();
    await ref.stop();
  }
}

/** 2. POST /v1/conversions one event per request, and POST /v1/batch with 1000 events per request. */
export async function ingest(s: Settings): Promise<Row[]> {
  const app = await startApp();
  const ref = await startReference();
  try {
    const { key, codes } = await new Api(app.baseUrl, app.token!).setup('i', 1);
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    let n = 0;
    const one = () => JSON.stringify({ orderId: `o-${n++}`, amountMinor: 1999, currency: 'EUR', affiliateCode: codes[0] });
    const batch = () =>
      JSON.stringify({ events: Array.from({ length: 1000 }, () => ({ type: 'conversion', orderId: `b-${n++}`, amountMinor: 1999, currency: 'EUR', affiliateCode: codes[0] })) });
    const single: LoadRun[] = [];
    const singleRef: LoadRun[] = [];
    const batches: LoadRun[] = [];
    const raw: number[] = [];
    for (let i = 0; i < s.runs; i++) {
      singleRef.push(await load({ url: `${ref.baseUrl}/v1/conversions`, method: 'POST', headers, body: one, connections: s.connections, durationS: s.durationS, expect: 202 }));
      single.push(await load({ url: `${app.baseUrl}/v1/conversions`, method: 'POST', headers, body: one, connections: s.connections, durationS: s.durationS, expect: 202 }));
      batches.push(await load({ url: `${app.baseUrl}/v1/batch`, method: 'POST', headers, body: batch, connections: 4, durationS: s.durationS, expect: 202 }));
      raw.push((await runJson<{ eventsPerSec: number }>('raw-sqlite.js', ['append', String(s.rawAppendEvents)])).eventsPerSec);
    }
    const batchEvents = batches.map((r) => ({ ...r, okPerSec: r.okPerSec * 1000 }));
    const batchValue = figure(batchEvents.map((r) => r.okPerSec));
    const rawValue = figure(raw);
    return [
      ...rowsFor('ingest POST /v1/conversions', single, singleRef, 'bare Fastify JSON 202', '≥ 0.5× bare Fastify', 0.5, 'events/s'),
      {
        scenario: 'ingest POST /v1/batch (1000 events)',
        metric: 'throughput',
        unit: 'events/s',
        value: batchValue,
        reference: { name: 'raw better-sqlite3, 1000/txn, WAL, FULL', value: rawValue },
        ratio: batchValue.median / rawValue.median,
        target: '≥ 50,000 events/s and ≥ 0.5× raw',
        met: batchValue.median >= 50_000 && batchValue.median / rawValue.median >= 0.5,
        notes: `4 connections × ${batches[0].durationS} s × ${batches.length} runs; p99 ${figure(batches.map((r) => r.p99Ms)).median} ms per batch`,
      },
    ];
  } finally {
    await app.stop();
    await ref.stop();
  }
}

/** One window of `s.freshnessS` seconds: probe clicks' 202 → visible on the dashboard, under sustained conversion load. */
export async function freshnessWindow(app: Server, s: Settings, tag = ''): Promise<{ samples: number[]; load: LoadRun }> {
  const api = new Api(app.baseUrl, app.token!);
  const loaded = await api.setup(`fl${tag}`, 1);
  const probe = await api.setup(`fp${tag}`, 1);
  // Views may be shared and eventually consistent (Redis): start once both programs are visible.
  for (const programId of [loaded.programId, probe.programId]) {
    const until = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${app.baseUrl}/api/programs/${programId}/dashboard`, { headers: { authorization: `Bearer ${app.token}` } });
      await res.text();
      if (res.status === 200) break;
      if (Date.now() > until) throw new Error(`freshness: the dashboard of a new program answers ${res.status} after 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  let n = 0;
  const body = () => JSON.stringify({ orderId: `f${tag}-${n++}`, amountMinor: 1999, currency: 'EUR', affiliateCode: loaded.codes[0] });
  const background = load({
    url: `${app.baseUrl}/v1/conversions`,
    method: 'POST',
    headers: { 'x-api-key': loaded.key, 'content-type': 'application/json' },
    body,
    connections: s.connections,
    durationS: s.freshnessS,
    expect: 202,
  });
  try {
    const samples: number[] = [];
    const until = Date.now() + (s.freshnessS - 1) * 1000;
    await new Promise((r) => setTimeout(r, 500));
    while (Date.now() < until) {
      const sent = Date.now();
      const r = await api.storefront(probe.key, '/v1/clicks', { code: probe.codes[0], userAgent: BROWSER_UA });
      if (r.status !== 202) throw new Error(`probe click answered ${r.status}`);
      const expected = samples.length + 1;
      for (;;) {
        const d = await api.op('GET', `/api/programs/${probe.programId}/dashboard`);
        if (d.totals.clicks >= expected) break;
        if (Date.now() - sent > 10_000) throw new Error('probe click not visible after 10 s');
      }
      samples.push(Date.now() - sent);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { samples, load: await background };
  } finally {
    await background.catch(() => undefined);
  }
}

/** 3. Time from a 202 to the figure visible on the dashboard, while another program takes sustained load. */
export async function freshness(s: Settings): Promise<Row[]> {
  const app = await startApp();
  try {
    const { samples, load: loadRun } = await freshnessWindow(app, s);
    const p50 = percentile(samples, 0.5);
    const p99 = percentile(samples, 0.99);
    return [
      {
        scenario: 'freshness 202 → dashboard',
        metric: 'p99 of probes',
        unit: 'ms',
        value: { median: round(p99), min: round(Math.min(...samples)), max: round(Math.max(...samples)), runs: samples },
        target: 'p99 < 1000 ms',
        met: p99 < 1000,
        notes: `${samples.length} probes (p50 ${round(p50)} ms) under ${round(loadRun.okPerSec)} conversions/s from ${s.connections} connections for ${s.freshnessS} s; min–max over probes`,
      },
    ];
  } finally {
    await app.stop();
  }
}
