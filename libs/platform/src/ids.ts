import { hash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/** Opaque ids: a short prefix for humans reading logs, then random base32-ish characters. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('base64url')}`;
}

export function randomEventId(): string {
  return randomUUID();
}

// A fixed namespace so the same parts always give the same UUID (RFC 4122 version 5 layout).
const NAMESPACE = Buffer.from('6f1c2a3e9b8d4c7ea1f05e2d3c4b5a69', 'hex');

/** Deterministic event id: a redelivered message derives the same id, so its append is a no-op. */
export function deterministicUuid(...parts: string[]): string {
  // One-shot hashing: no Hash object per id (several ids per conversion on the ingest path).
  const digest = hash('sha1', Buffer.concat([NAMESPACE, Buffer.from(parts.join('\u0000'))]), 'buffer');
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const h = digest.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

// One getrandom call per 4 KiB instead of one per id: a click's nonce is on the redirect's hot path.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** `n` cryptographically random bytes (n ≤ 4096), copied out of a pool refilled as it runs out. */
export function randomChunk(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + n));
  poolOffset += n;
  return out;
}
