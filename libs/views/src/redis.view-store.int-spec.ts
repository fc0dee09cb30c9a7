import { InMemoryViewStore } from './in-memory.view-store';
import { RedisViewStore } from './redis.view-store';
import { viewStoreContract } from './view-store.contract';
import { ViewChange } from './view-store.port';
import { Unavailable } from '@lib/platform/errors';
import { redisSkipped, testRedisUrl, uniquePrefix } from '../../../test/support/redis-server';

/** The view-store contract against a real Redis (each test under a key prefix of its own, deleted after it). */
const open = async (prefix = uniquePrefix('views-contract')) => {
  const store = new RedisViewStore({ url: testRedisUrl(), keyPrefix: prefix, commandTimeoutMs: 5000 });
  await store.connect();
  return store;
};
const release = async (store: RedisViewStore) => {
  await store.deleteAllWithPrefix();
  await store.close();
};

(redisSkipped() ? describe.skip : describe)('RedisViewStore', () => {
  viewStoreContract(open, (s) => release(s as RedisViewStore));

  it('given the same views in memory and in Redis, when hashed, then the hashes are equal', async () => {
    const changes: ViewChange[] = [
      { op: 'put', key: '{s:v1}:aff:1', value: { clicks: 3, rate: 1 / 3, name: 'Zoë ünïcode', pending: [[1, 2]] } },
      { op: 'put', key: '{s:v1}:prog', value: { n: 0 } },
      { op: 'zadd', key: '{s:v1}:rank', member: 'a', score: 1 / 3 },
      { op: 'zadd', key: '{s:v1}:rank', member: 'b', score: 1 / 3 },
      { op: 'zadd', key: '{s:v1}:rank', member: 'c', score: -2 },
    ];
    const memory = new InMemoryViewStore();
    const redis = await open();
    try {
      await memory.commit('x', changes, 1);
      await redis.commit('x', changes, 1);
      expect(await redis.contentHash('{s:v1}:')).toBe(await memory.contentHash('{s:v1}:'));
    } finally {
      await release(redis);
    }
  });

  it('given a batch larger than a function call takes arguments, when committed, then every change and the checkpoint land together', async () => {
    const redis = await open();
    try {
      const changes: ViewChange[] = Array.from({ length: 200_000 }, (_, i) =>
        i % 2 === 0 ? { op: 'put', key: `doc:${i}`, value: { i } } : { op: 'zadd', key: 'big', member: `m${i}`, score: i },
      );
      await redis.commit('big', changes, 42);
      expect(await redis.zcard('big')).toBe(100_000);
      expect(await redis.get('doc:199998')).toEqual({ i: 199998 });
      expect(await redis.checkpoint('big')).toBe(42);
    } finally {
      await release(redis);
    }
  });

  it('given nothing listening at the URL, when read, then the adapter answers Unavailable (503), not a driver error', async () => {
    const store = new RedisViewStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'none:', commandTimeoutMs: 300 });
    await store.connect().catch(() => undefined);
    try {
      await expect(store.get('x')).rejects.toBeInstanceOf(Unavailable);
      await expect(store.ping()).rejects.toThrow(/Redis at 127\.0\.0\.1:1/);
    } finally {
      await store.close();
    }
  });
});
