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
  }, 300_000);
});
