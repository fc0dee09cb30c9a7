import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Smoke test of the benchmark harness: `--quick` runs every scenario briefly and writes a well-formed
 * result. It asserts the shape of the result, never a speed (speed is what `npm run bench` reports).
 */
describe('npm run bench -- --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario and writes a JSON and a Markdown table with a figure or "not available" per row', () => {
    execFileSync(process.execPath, [join(__dirname, '..', 'dist', 'bench', 'run.js'), '--quick', '--out', out], { stdio: 'pipe', timeout: 240_000 });
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'))!;
    expect(files).toContain(json.replace('.json', '.md'));
    const result = JSON.parse(readFileSync(join(out, json), 'utf8'));
    expect(result.quick).toBe(true);
    const scenarios = new Set(result.rows.map((r: { scenario: string }) => r.scenario.split(' ')[0]));
    expect([...scenarios].sort()).toEqual(['freshness', 'ingest', 'kafka', 'reads', 'redirect', 'redis', 'replay']);
    for (const row of result.rows) {
      if (row.value === null) {
        expect(row.notes).toMatch(/^not available/);
      } else {
        expect(Number.isFinite(row.value.median)).toBe(true);
        expect(row.value.min).toBeLessThanOrEqual(row.value.median);
        expect(row.value.max).toBeGreaterThanOrEqual(row.value.median);
        expect(row.notes.length).toBeGreaterThan(0);
      }
      if (row.reference) expect(row.reference.value.median).toBeGreaterThan(0);
    }
    const redirect = result.rows.find((r: { scenario: string; metric: string }) => r.scenario.startsWith('redirect') && r.metric === 'throughput');
    expect(redirect.value.median).toBeGreaterThan(0);
    expect(redirect.ratio).toBeGreaterThan(0);
    expect(readFileSync(join(out, json.replace('.json', '.md')), 'utf8')).toContain('| redirect GET /r/{code} | throughput |');
    // Redis mode: one "not available" row (no Redis server), or freshness, replay and reads, each beside its in-memory reference.
    const redis = result.rows.filter((r: { scenario: string }) => r.scenario.startsWith('redis '));
    if (redis.length === 1 && redis[0].value === null) {
      expect(redis[0].scenario).toBe('redis mode');
    } else {
      const kinds = new Set(redis.map((r: { scenario: string }) => r.scenario.split(' ')[1]));
      expect([...kinds].sort()).toEqual(['freshness', 'reads', 'replay']);
      for (const row of redis) {
        expect(row.value).not.toBeNull();
        expect(row.reference.value.median).toBeGreaterThan(0);
      }
      expect(redis.filter((r: { scenario: string }) => r.scenario.startsWith('redis reads')).map((r: { scenario: string }) => r.scenario)).toEqual([
        'redis reads dashboard @ 100 affiliates',
        'redis reads affiliate list (sort=commissionEarnedMinor, 50) @ 100 affiliates',
        'redis reads affiliate list page 2 (cursor) @ 100 affiliates',
      ]);
    }
  }, 300_000);
});
