import { RedisViewStore } from '@lib/views/redis.view-store';
import { testRedisUrl, uniquePrefix } from './redis-server';

/**
 * test/support/app.ts as it is, except that every app it starts gets REDIS_URL and a key prefix of the
 * suite's own: the core e2e specs run unchanged against Redis views. Used from a jest.mock factory:
 *   jest.mock('./support/app', () => require('./support/redis-app').appWithRedisViews('operator-flow'));
 */
export function appWithRedisViews(suite: string) {
  const actual = jest.requireActual('./app') as typeof import('./app');
  const env = {
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix(suite),
    // A restart after kill -9 waits for the dead process's lease to expire: short here, 5 s by default.
    PROJECTOR_LEASE_MS: '1500',
  };
  return {
    ...actual,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    startApp: (options: Parameters<typeof actual.startApp>[0] = {}) => actual.startApp({ ...options, env: { ...env, ...(options.env ?? {}) } }),
  };
}

/** Deletes the suite's keys (only under its own prefix). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const store = new RedisViewStore({ url: testRedisUrl(), keyPrefix: prefix, commandTimeoutMs: 5000 });
  try {
    await store.connect();
    await store.deleteAllWithPrefix();
  } finally {
    await store.close();
  }
}
