import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

export type SqliteSync = 'FULL' | 'NORMAL';

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  adminToken: string;
  adminTokenGenerated: boolean;
  trackingSecret: string;
  publicBaseUrl: string;
  kafkaBrokers: string[] | null;
  eventStoreConnectionString: string | null;
  redisUrl: string | null;
  trustProxy: boolean;
  sqliteSynchronous: SqliteSync;
  logLevel: string;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment once at boot; a bad value stops start-up with a sentence naming it. */
export function loadConfig(env: Env = process.env): AppConfig {
  const port = parsePort(env.PORT);
  const dataDir = resolve(env.DATA_DIR?.trim() || './data');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`DATA_DIR "${dataDir}" cannot be created: ${(e as Error).message}`);
  }
  const publicBaseUrl = parseBaseUrl(env.PUBLIC_BASE_URL, port);
  const admin = secretFromEnvOrFile(env.ADMIN_TOKEN, 'ADMIN_TOKEN', join(dataDir, 'admin-token'), 16);
  const tracking = secretFromEnvOrFile(env.TRACKING_SECRET, 'TRACKING_SECRET', join(dataDir, 'tracking-secret'), 32);
  const sync = (env.SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') {
    throw new ConfigError(`SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${env.SQLITE_SYNCHRONOUS}"`);
  }
  return {
    port,
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir,
    adminToken: admin.value,
    adminTokenGenerated: admin.generated,
    trackingSecret: tracking.value,
    publicBaseUrl,
    kafkaBrokers: parseList(env.KAFKA_BROKERS),
    eventStoreConnectionString: parseUrlish(env.EVENTSTORE_CONNECTION_STRING, 'EVENTSTORE_CONNECTION_STRING', ['esdb:', 'esdb+discover:', 'kurrentdb:', 'kurrentdb+discover:']),
    redisUrl: parseUrlish(env.REDIS_URL, 'REDIS_URL', ['redis:', 'rediss:']),
    trustProxy: parseBool(env.TRUST_PROXY, 'TRUST_PROXY'),
    sqliteSynchronous: sync,
    logLevel: env.LOG_LEVEL?.trim() || 'info',
  };
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 3000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got "${raw}"`);
  }
  return n;
}

function parseBaseUrl(raw: string | undefined, port: number): string {
  if (raw === undefined || raw.trim() === '') return `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`PUBLIC_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`PUBLIC_BASE_URL must use http or https, got "${raw}"`);
  }
  return url.toString().replace(/\/+$/, '');
}

function parseList(raw: string | undefined): string[] | null {
  if (raw === undefined || raw.trim() === '') return null;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

function parseUrlish(raw: string | undefined, name: string, protocols: string[]): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = raw.trim();
  if (!protocols.some((p) => value.startsWith(p))) {
    throw new ConfigError(`${name} must start with ${protocols.join(' or ')}, got "${value}"`);
  }
  return value;
}

function parseBool(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw.trim() === '') return false;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** A secret from the environment, or one generated on first start and kept in DATA_DIR so restarts reuse it. */
function secretFromEnvOrFile(raw: string | undefined, name: string, file: string, bytes: number) {
  if (raw !== undefined && raw.trim() !== '') {
    if (raw.trim().length < 8) throw new ConfigError(`${name} must be at least 8 characters long`);
    return { value: raw.trim(), generated: false };
  }
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 8) return { value: stored, generated: false };
  }
  const value = randomBytes(bytes).toString('base64url');
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return { value, generated: true };
}
