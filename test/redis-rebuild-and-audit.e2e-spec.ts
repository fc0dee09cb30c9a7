/**
 * With views in Redis (standalone app, REDIS_URL set): rebuilding projections while the API serves reads
 * under load fails no read and shows no half-built view; the audit reports zero mismatches on a clean run
 * and names a deliberately corrupted value (affiliate, field, view value, event value), from the API and
 * from `npm run audit`; `npm run rebuild` repairs it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningApp, startApp } from './support/app';
import { ensureBuilt, ROOT } from './support/build';
import { expectStatus } from './support/expect';
import { programWithStorefront, enroll } from './support/fixtures';
import { redisSkipped, testRedisUrl, uniquePrefix } from './support/redis-server';
import { cleanReplayHashes, RedisViews, seed } from './support/roles';

const suite = redisSkipped() ? describe.skip : describe;
const AFFILIATES = 400;

suite('rebuild under load and the audit, with views in Redis', () => {
  let dataDir: string;
  let app: RunningApp;
  let views: RedisViews;
  let seeded: { programId: string; affiliates: number; events: number };
  const prefix = uniquePrefix('rebuild-audit');
  const env = () => ({ DATA_DIR: dataDir, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, VIEWS_RETIRE_GRACE_MS: '2000', LOG_LEVEL: 'warn' });

  /** Runs one of the package's CLI entry points with the app's configuration; resolves with its exit code and output. */
  const cli = (file: string, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(ROOT, 'dist', file), ...args], { cwd: ROOT, env: { ...process.env, ...env() }, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'redis-rebuild-'));
    seeded = await seed(dataDir, AFFILIATES, 6000);
    app = await startApp({ env: env() });
    views = await new RedisViews(testRedisUrl(), prefix).open();
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    app?.cleanup();
    await views?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const status = async () => (await app.op('GET', '/api/admin/views')).body.projections as any[];
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}: ${JSON.stringify(await status())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('rebuilds stats and directory (admin endpoint) and attribution (npm run rebuild) while 6 clients read: every read answers 200 with the whole view', async () => {
    const programId = seeded.programId;
    const first = await app.op('GET', `/api/programs/${programId}/dashboard`);
    expectStatus(first, 200);
    const totals = first.body.totals;
    expect(totals.clicks).toBeGreaterThan(1000);
    const affiliate = (await app.op('GET', `/api/programs/${programId}/affiliates?sort=commissionEarnedMinor&limit=1`)).body.items[0];

    // Another program takes writes during the rebuild: the live projector and the rebuild race on real traffic.
    const { program: busy, key } = await programWithStorefront(app);
    const busyAffiliate = await enroll(app, busy.id);

    const failures: string[] = [];
    let reads = 0;
    let stop = false;
    const check = (what: string, ok: boolean, detail: () => string) => {
      reads++;
      if (!ok && failures.length < 20) failures.push(`${what}: ${detail()}`);
    };
    const reader = async (n: number) => {
      while (!stop) {
        const d = await app.op('GET', `/api/programs/${programId}/dashboard`);
        check('dashboard', d.status === 200 && JSON.stringify(d.body.totals) === JSON.stringify(totals) && d.body.topAffiliates.length === 5, () => `${d.status} ${d.text.slice(0, 300)}`);
        const page = await app.op('GET', `/api/programs/${programId}/affiliates?sort=${n % 2 ? 'clicks' : 'commissionOwedMinor'}&order=desc&limit=50`);
        check('list', page.status === 200 && page.body.items.length === 50 && page.body.total === AFFILIATES && page.body.nextCursor !== null, () => `${page.status} ${page.text.slice(0, 300)}`);
        if (page.status === 200 && page.body.nextCursor) {
          const next = await app.op('GET', `/api/programs/${programId}/affiliates?sort=${n % 2 ? 'clicks' : 'commissionOwedMinor'}&order=desc&limit=50&cursor=${page.body.nextCursor}`);
          check('next page', next.status === 200 && next.body.items.length === 50, () => `${next.status} ${next.text.slice(0, 300)}`);
        }
        const one = await app.op('GET', `/api/programs/${programId}/affiliates/${affiliate.id}`);
        check('affiliate', one.status === 200 && one.body.commissionEarnedMinor === affiliate.commissionEarnedMinor, () => `${one.status} ${one.text.slice(0, 300)}`);
      }
    };
    const writer = async () => {
      for (let i = 0; !stop; i++) {
        const click = await app.sf(key, 'POST', '/v1/clicks', { code: busyAffiliate.code, ip: `198.51.100.${i % 250}`, userAgent: 'Mozilla/5.0 load' });
        check('click', click.status === 202, () => `${click.status} ${click.text.slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const load = Promise.all([...Array.from({ length: 6 }, (_, n) => reader(n)), writer()]);
    try {
      const stats = await app.op('POST', '/api/admin/views/stats/rebuild');
      expectStatus(stats, 202);
      expect(stats.body).toMatchObject({ projection: 'stats', namespace: '{stats:v3}-r1:' });
      expectStatus(await app.op('POST', '/api/admin/views/stats/rebuild'), 409);
      expectStatus(await app.op('POST', '/api/admin/views/directory/rebuild'), 202);
      const viaCli = await cli('libs/views/src/rebuild.cli.js', ['attribution']);
      expect(viaCli.code).toBe(0);
      expect(JSON.parse(viaCli.stdout.trim())).toMatchObject({ projection: 'attribution', namespace: '{attribution:v1}-r1:', phase: 'done', retired: '{attribution:v1}:' });
      await until('both rebuilds in the app are done', async () => (await status()).filter((p) => p.lastRebuildHere?.phase === 'done').length === 2);
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(100);

    const after = await status();
    expect(after.map((p) => [p.name, p.active, p.building])).toEqual([
      ['directory', '{directory:v1}-r1:', null],
      ['stats', '{stats:v3}-r1:', null],
      ['attribution', '{attribution:v1}-r1:', null],
    ]);
    // The old namespaces' keys are gone.
    for (const old of ['{directory:v1}:', '{stats:v3}:', '{attribution:v1}:']) expect(await views.store.contentHash(old)).toBe(await views.store.contentHash('{nothing}:'));
    // The rebuilt views, with the writes that raced them, are exactly what a replay gives.
    const verified = await app.op('POST', '/api/admin/views/verify');
    expectStatus(verified, 200);
    expect(verified.body).toMatchObject({ identical: true, mismatches: [] });
    const clean = await cleanReplayHashes(dataDir);
    expect(await views.hashes()).toEqual(clean.hashes);
  }, 180_000);

  it('the audit reports zero mismatches on the clean views', async () => {
    const res = await app.op('GET', `/api/programs/${seeded.programId}/audit`);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ programId: seeded.programId, affiliatesChecked: AFFILIATES, mismatches: [] });
    expectStatus(await app.op('GET', '/api/programs/prg_nobody/audit'), 404);
  });

  it('the audit names a corrupted balance and a corrupted sort score (API and npm run audit); npm run rebuild repairs them', async () => {
    const programId = seeded.programId;
    const [victim, other] = (await app.op('GET', `/api/programs/${programId}/affiliates?sort=commissionEarnedMinor&limit=2`)).body.items;
    const ns = (await status()).find((p) => p.name === 'stats').active as string;
    // Corruption behind the projector's back: an unguarded write straight into the active namespace.
    const doc = await views.store.get<any>(`${ns}aff:${victim.id}`);
    await views.store.commit('corruption', [
      { op: 'put', key: `${ns}aff:${victim.id}`, value: { ...doc, earnedMinor: doc.earnedMinor + 7 } },
      { op: 'zadd', key: `${ns}rank:${programId}:clicks`, member: other.id, score: other.clicks + 1000 },
    ], 1);

    const res = await app.op('GET', `/api/programs/${programId}/audit`);
    expectStatus(res, 200);
    expect(res.body.mismatches).toEqual(
      expect.arrayContaining([
        { affiliateId: victim.id, field: 'commissionEarnedMinor', viewValue: victim.commissionEarnedMinor + 7, eventValue: victim.commissionEarnedMinor },
        { affiliateId: victim.id, field: 'commissionOwedMinor', viewValue: victim.commissionOwedMinor + 7, eventValue: victim.commissionOwedMinor },
        { affiliateId: other.id, field: 'index.clicks', viewValue: other.clicks + 1000, eventValue: other.clicks },
      ]),
    );
    expect(res.body.mismatches.every((m: any) => m.affiliateId === victim.id || m.affiliateId === other.id)).toBe(true);

    const audit = await cli('libs/dashboard/src/audit.cli.js', [programId]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toContain(`affiliate ${victim.id}: commissionEarnedMinor view=${victim.commissionEarnedMinor + 7} events=${victim.commissionEarnedMinor}`);
    expect(audit.stdout).toContain(`affiliate ${other.id}: index.clicks view=${other.clicks + 1000} events=${other.clicks}`);

    const rebuilt = await cli('libs/views/src/rebuild.cli.js', ['stats']);
    expect(rebuilt.code).toBe(0);
    const clean = await cli('libs/dashboard/src/audit.cli.js', ['--json']);
    expect(clean.code).toBe(0);
    const reports = clean.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(reports.find((r) => r.programId === programId)).toMatchObject({ affiliatesChecked: AFFILIATES, mismatches: [] });
  }, 120_000);
});
