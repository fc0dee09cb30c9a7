import { RecordedEvent } from '@lib/event-store/event-store.port';
import { AttributionOutcome } from '@lib/attribution/attribution.events';

/** Histories of program p1 for the stats specs: events with positions and revisions as the store gives them. */
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = Date.parse('2025-03-01T00:00:00.000Z');
export const at = (ms: number) => new Date(T0 + ms).toISOString();

/** A log in the making: each event gets the next global position and its stream's next revision. */
export function log() {
  let position = 0;
  const revisions = new Map<string, number>();
  const events: RecordedEvent[] = [];
  const add = (streamId: string, data: { type: string; occurredAt: string }, recordedAt = data.occurredAt) => {
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    position += 1;
    events.push({ id: `ev-${position}`, streamId, revision, position, type: data.type, schemaVersion: 1, data, metadata: {}, recordedAt });
  };
  return {
    events,
    enrolled(affiliateId: string, occurredAt = at(0), who: { name?: string; code?: string } = {}) {
      add(`affiliate-${affiliateId}`, {
        type: 'AffiliateEnrolled',
        programId: 'p1',
        affiliateId,
        name: who.name ?? `Name of ${affiliateId}`,
        email: `${affiliateId}@example.com`,
        code: who.code ?? `code-${affiliateId}`,
        landingUrl: null,
        commission: null,
        occurredAt,
      } as never);
    },
    status(affiliateId: string, status: 'active' | 'suspended', occurredAt: string) {
      add(`affiliate-${affiliateId}`, { type: 'AffiliateStatusChanged', programId: 'p1', affiliateId, status, occurredAt } as never);
    },
    click(affiliateId: string, occurredAt: string, opts: { visitor?: string | null; bot?: boolean } = {}) {
      const clickId = `ck-${position + 1}`;
      add(`click-${clickId}`, {
        type: 'ClickRecorded',
        programId: 'p1',
        affiliateId,
        clickId,
        occurredAt,
        visitorHash: opts.visitor === undefined ? `visitor-${position + 1}` : opts.visitor,
        userAgent: 'Mozilla/5.0',
        referrer: null,
        subId: null,
        bot: opts.bot ?? false,
        source: 'redirect',
        storefrontId: null,
        cookieWindowDays: 30,
      } as never);
    },
    conversion(orderId: string, occurredAt: string, attribution: Partial<AttributionOutcome>) {
      add(`order-sf1-${orderId}`, {
        type: 'ConversionRecorded',
        programId: 'p1',
        storefrontId: 'sf1',
        conversionId: `cv-${orderId}`,
        orderId,
        amountMinor: 10_000,
        currency: 'EUR',
        customerId: null,
        occurredAt,
        clickId: null,
        affiliateCode: null,
        attribution: {
          attributed: false,
          reason: 'no_click',
          method: null,
          affiliateId: null,
          clickId: null,
          clickAt: null,
          expiresAt: null,
          cookieWindowDays: null,
          ...attribution,
        },
        payloadHash: `hash-${orderId}`,
        duplicateOf: null,
      } as never);
    },
    commission(affiliateId: string, amountMinor: number, occurredAt: string, availableAt = occurredAt) {
      add(`affiliate-${affiliateId}`, {
        type: 'CommissionEarned',
        programId: 'p1',
        affiliateId,
        conversionId: `cv-${position + 1}`,
        storefrontId: 'sf1',
        orderId: `o-${position + 1}`,
        orderAmountMinor: amountMinor * 10,
        amountMinor,
        currency: 'EUR',
        rule: { type: 'percent', basisPoints: 1000 },
        ruleSource: 'program',
        ruleVersion: 1,
        occurredAt,
        availableAt,
      } as never);
    },
    payout(affiliateId: string, payoutId: string, amountMinor: number, occurredAt: string) {
      add(`affiliate-${affiliateId}`, {
        type: 'PayoutRecorded',
        programId: 'p1',
        affiliateId,
        payoutId,
        amountMinor,
        currency: 'EUR',
        reference: null,
        paidAt: occurredAt,
        occurredAt,
        idempotencyKey: `key-${payoutId}`,
        requestHash: `req-${payoutId}`,
      } as never);
    },
    voided(affiliateId: string, payoutId: string, amountMinor: number, occurredAt: string) {
      add(`affiliate-${affiliateId}`, { type: 'PayoutVoided', programId: 'p1', affiliateId, payoutId, amountMinor, reason: 'bounced', occurredAt } as never);
    },
  };
}

export const attributedTo = (affiliateId: string): Partial<AttributionOutcome> => ({ attributed: true, reason: 'attributed', method: 'code', affiliateId });

/** A history touching every counter, without status changes (see the status tests). */
export function richHistory() {
  const h = log();
  h.enrolled('a1');
  h.enrolled('a2');
  h.click('a1', at(HOUR), { visitor: 'v1' });
  h.click('a1', at(2 * HOUR), { visitor: 'v1' });
  h.click('a1', at(2 * HOUR), { visitor: 'v2', bot: true });
  h.click('a2', at(3 * HOUR), { visitor: 'v1' });
  h.conversion('o1', at(4 * HOUR), attributedTo('a1'));
  h.commission('a1', 1000, at(4 * HOUR), at(4 * HOUR + 14 * DAY));
  h.conversion('o2', at(5 * HOUR), {});
  h.click('a2', at(DAY + HOUR), { visitor: null });
  h.conversion('o3', at(DAY + 2 * HOUR), attributedTo('a2'));
  h.commission('a2', 2500, at(DAY + 2 * HOUR));
  h.payout('a2', 'po1', 2500, at(2 * DAY));
  h.voided('a2', 'po1', 2500, at(2 * DAY + HOUR));
  h.payout('a2', 'po2', 2000, at(2 * DAY + 2 * HOUR));
  return h.events;
}
