/**
 * The core e2e suite's test/operator-flow.e2e-spec.ts, unchanged, with REDIS_URL set: the built standalone app keeps
 * its views in Redis (the shared test server, under a key prefix of this suite's own, deleted afterwards).
 */
import { redisSkipped } from './support/redis-server';

jest.mock('./support/app', () => require('./support/redis-app').appWithRedisViews('operator-flow'));

if (redisSkipped()) {
  describe.skip('operator-flow with Redis views (SKIP_REDIS_TESTS)', () => it('is skipped', () => undefined));
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./operator-flow.e2e-spec');

  describe('with Redis views', () => {
    it("the flow's views live in Redis under this suite's prefix: every projection has an active namespace that covers the store", async () => {
      const { RedisViewStore } = require('@lib/views/redis.view-store');
      const { testRedisUrl } = require('./support/redis-server');
      const store = new RedisViewStore({ url: testRedisUrl(), keyPrefix: require('./support/app').redisKeyPrefix, commandTimeoutMs: 5000 });
      try {
        await store.connect();
        for (const id of ['directory:v1', 'stats:v3', 'attribution:v1']) {
          const { active } = await store.registry(id);
          expect(active).toBe(`{${id}}:`);
          expect(await store.checkpoint(active)).toBeGreaterThan(100);
        }
      } finally {
        await store.close();
      }
    });
  });

  afterAll(async () => {
    // Declared after the flow's own afterAll (which stops the app), so nothing writes any more.
    await require('./support/redis-app').deleteRedisKeys(require('./support/app').redisKeyPrefix);
  });
}
