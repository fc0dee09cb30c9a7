/**
 * Two projectors (apps/projector) on the same views in Redis: only the lease holder writes, the other
 * stands by; kill -9 of the leader and the standby takes over within seconds; the views stay exact.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './support/build';
import { redisSkipped, testRedisUrl, uniquePrefix } from './support/redis-server';
import { cleanReplayHashes, metric, RedisViews, RoleProcess, seed, startRole } from './support/roles';

const suite = redisSkipped() ? describe.skip : describe;
const PROJECTIONS = ['directory', 'stats', 'attribution'];

suite('two projectors on the same views', () => {
  let dataDir: string;
  let views: RedisViews;
  const prefix = uniquePrefix('failover');
  const running: RoleProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'redis-failover-'));
    await seed(dataDir, 100, 3000);
    views = await new RedisViews(testRedisUrl(), prefix).open();
  }, 120_000);

  afterAll(async () => {
    for (const p of running) await p.kill9();
    await views?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const metricsOf = async (p: RoleProcess) => (await p.request('GET', '/metrics')).text;
  const leads = async (p: RoleProcess) => {
    const text = await metricsOf(p);
    return PROJECTIONS.map((name) => metric(text, 'projection_leader', { projection: name }));
  };
  const batches = async (p: RoleProcess) => {
    const text = await metricsOf(p);
    return PROJECTIONS.reduce((sum, name) => sum + metric(text, 'projection_batches_total', { projection: name }), 0);
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('only the leader writes; killed, the standby takes over and the views equal a clean replay', async () => {
    const env = { DATA_DIR: dataDir, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, PROJECTOR_LEASE_MS: '1500', PROJECTOR_BATCH_SIZE: '500' };
    const leader = await startRole('projector', env);
    running.push(leader);
    await until('the first projector leads every projection', async () => (await leads(leader)).every((l) => l === 1));
    const standby = await startRole('projector', env);
    running.push(standby);

    // More events while both run: the leader applies them, the standby writes nothing.
    const more = await seed(dataDir, 50, 6000);
    await views.waitUntilCovered(more.events);
    expect(await leads(standby)).toEqual([0, 0, 0]);
    expect(await batches(standby)).toBe(0);
    expect(await batches(leader)).toBeGreaterThan(0);
    const holders = await views.leaseHolders();
    expect(Object.values(holders).every((h) => h !== null && h.includes(`/${leader.pid}/`))).toBe(true);

    await leader.kill9();
    const afterKill = await seed(dataDir, 50, 8000);
    await until('the standby leads every projection', async () => (await leads(standby)).every((l) => l === 1));
    await views.waitUntilCovered(afterKill.events);
    expect(await batches(standby)).toBeGreaterThan(0);
    expect(Object.values(await views.leaseHolders()).every((h) => h !== null && h.includes(`/${standby.pid}/`))).toBe(true);

    const clean = await cleanReplayHashes(dataDir);
    expect(clean.head).toBe(afterKill.events);
    expect(await views.hashes()).toEqual(clean.hashes);

    // Stopped cleanly, the standby gives its leases back at once (nobody waits for them to expire).
    await standby.stop();
    expect(await views.leaseHolders()).toEqual({ directory: null, stats: null, attribution: null });
  }, 180_000);
});
