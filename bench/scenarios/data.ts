import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, load, LoadRun } from '../lib/load';
import { runJson, startApp } from '../lib/processes';
import { Row } from '../lib/report';
import { Settings } from './settings';

export interface SeedResult {
  programId: string;
  events: number;
  ms: number;
}
export interface ScanResult {
  events: number;
  eventsPerSec: number;
  peakRssMb: number;
}

export const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/** 4. Rebuild every view from position 0, beside a raw scan of the same table with JSON.parse per row. */
export async function replay(s: Settings): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of s.replaySizes) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-replay-'));
    try {
      const seeded = await runJson<SeedResult>('seed.js', ['--data-dir', dir, '--events', String(size)]);
      const product: ScanResult[] = [];
      const raw: ScanResult[] = [];
      for (let i = 0; i < s.runs; i++) {
        raw.push(await runJson<ScanResult>('raw-sqlite.js', ['scan', dir]));
        product.push(await runJson<ScanResult>('replay.js', [dir]));
      }
      const value = figure(product.map((r) => r.eventsPerSec));
      const ref = figure(raw.map((r) => r.eventsPerSec));
      rows.push({
        scenario: `replay ${label(size)} events`,
        metric: 'throughput',
        unit: 'events/s',
        value,
        reference: { name: 'raw scan + JSON.parse', value: ref },
        ratio: value.median / ref.median,
        target: '≥ 200,000 events/s and ≥ 0.5× raw scan',
        met: value.median >= 200_000 && value.median / ref.median >= 0.5,
        notes: `${seeded.events} events seeded through the ingest command in ${(seeded.ms / 1000).toFixed(1)} s; peak RSS ${Math.round(figure(product.map((r) => r.peakRssMb)).median)} MB (raw scan ${Math.round(figure(raw.map((r) => r.peakRssMb)).median)} MB); ${s.runs} runs`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/** 5. Dashboard and sorted affiliate list latency at several program sizes. */
export async function reads(s: Settings): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of s.readSizes) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-reads-'));
    try {
      const seeded = await runJson<SeedResult>('seed.js', ['--data-dir', dir, '--affiliates', String(size)]);
      const app = await startApp({}, dir);
      try {
        const headers = { authorization: `Bearer ${app.token}` };
        const paths = {
          dashboard: `/api/programs/${seeded.programId}/dashboard`,
          'affiliate list (sort=commissionEarnedMinor, 50)': `/api/programs/${seeded.programId}/affiliates?sort=commissionEarnedMinor&order=desc&limit=50`,
        };
        for (const [name, path] of Object.entries(paths)) {
          const runs: LoadRun[] = [];
          for (let i = 0; i < s.runs; i++) runs.push(await load({ url: app.baseUrl + path, headers, connections: 10, durationS: s.durationS, expect: 200 }));
          const p99 = figure(runs.map((r) => r.p99Ms));
          rows.push({
            scenario: `reads ${name} @ ${label(size)} affiliates`,
            metric: 'p99 latency',
            unit: 'ms',
            value: p99,
            target: size === 10_000 ? 'p99 < 10 ms' : '—',
            met: size === 10_000 ? p99.median < 10 : null,
            notes: `p50 ${figure(runs.map((r) => r.p50Ms)).median} ms; ${Math.round(figure(runs.map((r) => r.okPerSec)).median)} req/s; 10 connections × ${runs[0].durationS} s × ${runs.length} runs; ${seeded.events} events`,
          });
        }
      } finally {
        await app.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
