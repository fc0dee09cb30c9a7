import { ConfigError } from '@lib/platform/config';

/**
 * Settings of the view store and the projector, read from the environment once at boot. REDIS_URL itself
 * is part of the app config (it chooses the adapter); the rest lives here.
 */
export interface ViewsSettings {
  redis: { url: string; keyPrefix: string; commandTimeoutMs: number } | null;
  /** A projector that stops renewing its lease loses it after this long; a standby takes over then. */
  leaseMs: number;
  /** Events per projector batch: one commit (one Lua call) per projection per batch. */
  batchSize: number;
  /** Readers cache which namespace is active for this long (one Redis read saved per request). */
  namespaceCacheMs: number;
  /** After a swap, the old namespace stays this long before it is deleted: readers that cached it finish. */
  retireGraceMs: number;
}

type Env = Record<string, string | undefined>;

export const NAMESPACE_CACHE_MS = 1000;

export function loadViewsSettings(redisUrl: string | null, env: Env = process.env): ViewsSettings {
  const keyPrefix = env.REDIS_KEY_PREFIX?.trim() ?? 'aff:';
  // Braces would break the projections' cluster hash tags; glob characters would break SCAN MATCH.
  if (!/^[A-Za-z0-9:._-]{0,64}$/.test(keyPrefix)) {
    throw new ConfigError(`REDIS_KEY_PREFIX may only contain letters, digits, ":", ".", "_" and "-" (at most 64), got "${env.REDIS_KEY_PREFIX}"`);
  }
  if (redisUrl) {
    try {
      new URL(redisUrl);
    } catch {
      throw new ConfigError(`REDIS_URL must be a URL such as redis://127.0.0.1:6379/0, got "${redisUrl}"`);
    }
  }
  const retireGraceMs = int(env, 'VIEWS_RETIRE_GRACE_MS', 5000, 2 * NAMESPACE_CACHE_MS, 3_600_000);
  return {
    redis: redisUrl ? { url: redisUrl, keyPrefix, commandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 2000, 50, 60_000) } : null,
    leaseMs: int(env, 'PROJECTOR_LEASE_MS', 5000, 300, 120_000),
    batchSize: int(env, 'PROJECTOR_BATCH_SIZE', 2000, 1, 20_000),
    namespaceCacheMs: NAMESPACE_CACHE_MS,
    retireGraceMs,
  };
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}
