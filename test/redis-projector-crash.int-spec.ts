/**
 * kill -9 of the projector (apps/projector, views in Redis) at random points while it replays a log of
 * more than 10,000 events, restarted each time: the views it ends with hash exactly like a clean replay.
 * Each batch's changes and its checkpoint are one Lua call, so a kill repeats at most the batch in flight,
 * and repeating it changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './support/build';
import { redisSkipped, testRedisUrl, uniquePrefix } from './support/redis-server';
import { cleanReplayHashes, RedisViews, RoleProcess, seed, startRole } from './support/roles';

const suite = redisSkipped() ? describe.skip : describe;

suite('the projector killed with SIGKILL during a replay into Redis', () => {
  let dataDir: string;
  let views: RedisViews;
  let clean: { head: number; hashes: Record<string, string> };
  const prefix = uniquePrefix('projector-crash');
  const running: RoleProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'redis-crash-'));
    await seed(dataDir, 300, 12_000);
    clean = await cleanReplayHashes(dataDir);
    views = await new RedisViews(testRedisUrl(), prefix).open();
  }, 180_000);

  afterAll(async () => {
    for (const p of running) await p.kill9();
    await views?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('restarted after each kill, ends with views byte-identical (content hash) to a clean replay', async () => {
    expect(clean.head).toBeGreaterThanOrEqual(10_000);
    // Small batches and a short lease: many commits to land a kill between, and a quick restart after it.
    const env = { DATA_DIR: dataDir, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, PROJECTOR_BATCH_SIZE: '200', PROJECTOR_LEASE_MS: '1000' };
    const kills: number[] = [];
    for (let round = 0; round < 6 && kills.length < 4; round++) {
      const projector = await startRole('projector', env);
      running.push(projector);
      const from = await views.progress();
      // A random point in what is left of the log, then a random few milliseconds more.
      const target = from + Math.floor((clean.head - from) * (0.15 + Math.random() * 0.5));
      let progress = from;
      while (progress < target && projector.running()) {
        await new Promise((r) => setTimeout(r, 2));
        progress = await views.progress();
      }
      if (progress >= clean.head) {
        await projector.stop();
        break;
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15)));
      await projector.kill9();
      kills.push(await views.progress());
    }
    process.stderr.write(`[crash] killed at ${kills.join(", ")} of ${clean.head}\n`);
    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(kills.every((k) => k < clean.head)).toBe(true);

    const last = await startRole('projector', env);
    running.push(last);
    await views.waitUntilCovered(clean.head);
    await last.stop();

    const positions = await views.positions();
    expect(positions.map((p) => [p.name, p.checkpoint, p.building])).toEqual(Object.keys(clean.hashes).map((name) => [name, clean.head, null]));
    expect(await views.hashes()).toEqual(clean.hashes);
  }, 240_000);
});
