import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomChunk } from '@lib/platform/ids';
import { ClickRef } from '@lib/attribution/attribution.decider';

/**
 * The click id handed to the browser is a signed token: program, affiliate and click time travel with
 * it, so a conversion is attributed without a lookup and the window is enforced from the click's time.
 * Format: base64url(programId|affiliateId|clickMs|nonce).signature — opaque to clients.
 */
export class ClickTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('click-token').digest();
  }

  issue(programId: string, affiliateId: string, clickAt: Date): string {
    const payload = Buffer.from(`${programId}|${affiliateId}|${clickAt.getTime()}|${randomChunk(6).toString('base64url')}`).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  read(clickId: string): ClickRef {
    const dot = clickId.indexOf('.');
    if (dot <= 0) return { valid: false, clickId };
    const payload = clickId.slice(0, dot);
    const given = Buffer.from(clickId.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, clickId };
    const [programId, affiliateId, ms] = Buffer.from(payload, 'base64url').toString().split('|');
    const clickMs = Number(ms);
    if (!programId || !affiliateId || !Number.isFinite(clickMs)) return { valid: false, clickId };
    return { valid: true, clickId, programId, affiliateId, clickAt: new Date(clickMs).toISOString() };
  }

  private sign(payload: string): string {
    // 16 bytes of HMAC-SHA256: forging one still takes 2^128 tries, and the cookie stays short.
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, 16).toString('base64url');
  }
}

/** Per-program secret for visitor hashes: the same visitor hashes differently in each program. */
export class VisitorHasher {
  private readonly key: Buffer;
  /** Derived once per program: a click otherwise pays for two HMACs instead of one. */
  private readonly programKeys = new Map<string, Buffer>();

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('visitor-hash').digest();
  }

  hash(programId: string, ip: string | null, userAgent: string | null): string | null {
    if (!ip && !userAgent) return null;
    let programKey = this.programKeys.get(programId);
    if (!programKey) this.programKeys.set(programId, (programKey = createHmac('sha256', this.key).update(programId).digest()));
    return createHmac('sha256', programKey).update(`${ip ?? ''}|${userAgent ?? ''}`).digest().subarray(0, 16).toString('base64url');
  }
}
