import { ConfigError } from '@lib/platform/config';

/**
 * Everything the Kafka transport and `npm run kafka:topics` read from the environment, validated once at
 * boot. KAFKA_BROKERS itself is part of the app config (it chooses the transport); the rest lives here.
 */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: { clicks: string; orders: string; deadLetter: string };
  partitions: { clicks: number; orders: number; deadLetter: number };
  /** -1: the cluster's default.replication.factor. */
  replicationFactor: number;
  /** A send not acknowledged by every in-sync replica within this time is answered 503. */
  sendTimeoutMs: number;
  /** Extra wait before a send to gather more requests into it; 0: group commit only (see README, measured). */
  lingerMs: number;
  /** Upper bounds of one producer send; a larger publish is split over several sends. */
  maxBatchRecords: number;
  /** Kept under the broker's message.max.bytes (1 MiB by default), which limits one partition's share of a send. */
  maxBatchBytes: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How much one fetch may return per partition: bounds a consumed batch (and one event-store transaction). */
  maxBytesPerPartition: number;
  ssl: boolean;
  sasl: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | null;
}

type Env = Record<string, string | undefined>;

export function loadKafkaSettings(brokers: string[], env: Env = process.env): KafkaSettings {
  for (const b of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b)) throw new ConfigError(`KAFKA_BROKERS must be a comma-separated list of host:port, got "${b}"`);
  }
  const prefix = text(env, 'KAFKA_TOPIC_PREFIX', 'affiliate.');
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) throw new ConfigError(`KAFKA_TOPIC_PREFIX may only contain letters, digits, ".", "_" and "-", got "${prefix}"`);
  const sessionTimeoutMs = int(env, 'KAFKA_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000);
  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  let sasl: KafkaSettings['sasl'] = null;
  if (mechanism) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new ConfigError(`KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got "${env.KAFKA_SASL_MECHANISM}"`);
    }
    const username = env.KAFKA_SASL_USERNAME?.trim();
    const password = env.KAFKA_SASL_PASSWORD;
    if (!username || !password) throw new ConfigError('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set when KAFKA_SASL_MECHANISM is');
    sasl = { mechanism, username, password };
  }
  return {
    brokers,
    clientId: text(env, 'KAFKA_CLIENT_ID', 'affiliate-tracking'),
    groupId: text(env, 'KAFKA_GROUP_ID', `${prefix}ingestor`),
    topics: { clicks: `${prefix}tracking.clicks`, orders: `${prefix}tracking.orders`, deadLetter: `${prefix}tracking.dead-letter` },
    partitions: {
      clicks: int(env, 'KAFKA_CLICKS_PARTITIONS', 6, 1, 1000),
      orders: int(env, 'KAFKA_ORDERS_PARTITIONS', 6, 1, 1000),
      deadLetter: int(env, 'KAFKA_DEAD_LETTER_PARTITIONS', 1, 1, 1000),
    },
    replicationFactor: int(env, 'KAFKA_REPLICATION_FACTOR', -1, -1, 32),
    sendTimeoutMs: int(env, 'KAFKA_SEND_TIMEOUT_MS', 5_000, 100, 120_000),
    lingerMs: int(env, 'KAFKA_LINGER_MS', 0, 0, 1_000),
    maxBatchRecords: int(env, 'KAFKA_MAX_BATCH_RECORDS', 2_000, 1, 100_000),
    maxBatchBytes: int(env, 'KAFKA_MAX_BATCH_BYTES', 900_000, 10_000, 100 * 1_048_576),
    sessionTimeoutMs,
    heartbeatIntervalMs: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    maxBytesPerPartition: int(env, 'KAFKA_MAX_BYTES_PER_PARTITION', 1_048_576, 1_024, 64 * 1_048_576),
    ssl: bool(env, 'KAFKA_SSL'),
    sasl,
  };
}

function text(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function bool(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return false;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}
