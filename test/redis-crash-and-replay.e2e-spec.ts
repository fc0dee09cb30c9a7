/**
 * The core e2e suite's test/crash-and-replay.e2e-spec.ts, unchanged, with REDIS_URL set: the built standalone app keeps
 * its views in Redis (the shared test server, under a key prefix of this suite's own, deleted afterwards).
 */
import { redisSkipped } from './support/redis-server';

jest.mock('./support/app', () => require('./support/redis-app').appWithRedisViews('crash-and-replay'));

if (redisSkipped()) {
  describe.skip('crash-and-replay with Redis views (SKIP_REDIS_TESTS)', () => it('is skipped', () => undefined));
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./crash-and-replay.e2e-spec');

  afterAll(async () => {
    // Declared after the flow's own afterAll (which stops the app), so nothing writes any more.
    await require('./support/redis-app').deleteRedisKeys(require('./support/app').redisKeyPrefix);
  });
}
