/**
 * Redis stops answering (SIGSTOP of a redis-server of this suite's own) under a running api and projector:
 * view reads answer 503 and /ready names the view store; events keep arriving in the event store; once
 * Redis answers again, the api serves and the projector resumes from its checkpoint: nothing is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/app';
import { ensureBuilt } from './support/build';
import { PrivateRedis, redisSkipped, startPrivateRedis } from './support/redis-server';
import { cleanReplayHashes, RedisViews, RoleProcess, seed, startRole } from './support/roles';

const suite = redisSkipped() ? describe.skip : describe;

suite('Redis unreachable under a running api and projector', () => {
  let dataDir: string;
  let redis: PrivateRedis;
  let views: RedisViews;
  const running: RoleProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'redis-outage-'));
    redis = await startPrivateRedis(await freePort());
    views = await new RedisViews(redis.url, 'outage:').open();
  }, 60_000);

  afterAll(async () => {
    for (const p of running) await p.kill9();
    await views?.close(false);
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with the reason while Redis is down, then serves again; the projector resumes and the views are exact', async () => {
    const first = await seed(dataDir, 100, 3000);
    const env = { DATA_DIR: dataDir, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage:', REDIS_COMMAND_TIMEOUT_MS: '500', PROJECTOR_LEASE_MS: '1500' };
    const projector = await startRole('projector', env);
    const api = await startRole('api', env);
    running.push(projector, api);
    await views.waitUntilCovered(first.events);
    const dashboard = `/api/programs/${first.programId}/dashboard`;
    expect((await api.request('GET', dashboard)).status).toBe(200);

    redis.pause();
    try {
      const read = await api.request('GET', dashboard);
      expect(read.status).toBe(503);
      expect(read.body).toMatchObject({ error: 'unavailable', message: expect.stringContaining('Redis') });
      const ready = await api.request('GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details).toEqual([{ field: 'viewStore', message: expect.stringContaining('Redis at 127.0.0.1') }]);
      expect((await projector.request('GET', '/ready')).status).toBe(503);
      // The event store is the source of truth: events keep arriving while the views cannot be written.
      await seed(dataDir, 20, 5000);
      // Long enough for the projector's lease to expire meanwhile: it must take it again and resume.
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      redis.resume();
    }

    const head = (await cleanReplayHashes(dataDir)).head;
    await views.waitUntilCovered(head, 60_000);
    const deadline = Date.now() + 20_000;
    let ready = await api.request('GET', '/ready');
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await api.request('GET', '/ready');
    }
    expect(ready.status).toBe(200);
    const after = await api.request('GET', dashboard);
    expect(after.status).toBe(200);
    expect(after.body.freshness.position).toBeGreaterThanOrEqual(head);
    expect(projector.running()).toBe(true);
    expect(projector.output()).toContain('retrying');

    const clean = await cleanReplayHashes(dataDir);
    expect(await views.hashes()).toEqual(clean.hashes);
  }, 120_000);
});
