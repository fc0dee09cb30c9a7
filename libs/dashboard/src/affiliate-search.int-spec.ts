import { RedisViewStore } from '@lib/views/redis.view-store';
import { redisSkipped, testRedisUrl, uniquePrefix } from '../../../test/support/redis-server';
import { affiliateSearchSpec } from './testing/search-spec';

(redisSkipped() ? describe.skip : describe)('affiliate search by name or code, Redis views', () => {
  affiliateSearchSpec(
    async () => {
      const store = new RedisViewStore({ url: testRedisUrl(), keyPrefix: uniquePrefix('affiliate-search'), commandTimeoutMs: 5000 });
      await store.connect();
      return store;
    },
    async (s) => {
      await (s as RedisViewStore).deleteAllWithPrefix();
      await s.close();
    },
  );
});
