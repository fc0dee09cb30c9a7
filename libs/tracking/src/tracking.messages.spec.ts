import fc from 'fast-check';
import { sha256 } from '@lib/platform/ids';
import { canonical } from '@lib/views/in-memory.view-store';
import { conversionMessage, conversionPayloadHash } from './tracking.messages';

describe('conversion payload hash', () => {
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const fields = fc.record({
    orderId: fc.string({ minLength: 1 }),
    amountMinor: fc.integer({ min: 0 }),
    currency: fc.constantFrom('EUR', 'USD', 'JPY'),
    clickId: optional(fc.string()),
    affiliateCode: optional(fc.string()),
    customerId: optional(fc.string()),
    customerEmail: optional(fc.emailAddress()),
    occurredAt: optional(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
  });

  it('is the hash of the canonical JSON of the input, as stored by earlier versions (a retry still matches)', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const expected = sha256(
          canonical({
            orderId: f.orderId,
            amountMinor: f.amountMinor,
            currency: f.currency,
            clickId: f.clickId ?? null,
            affiliateCode: f.affiliateCode ?? null,
            customerId: f.customerId ?? null,
            customerEmail: f.customerEmail ?? null,
            occurredAt: f.occurredAt ?? null,
          }),
        );
        expect(conversionPayloadHash(f)).toBe(expected);
      }),
    );
  });

  it('gives a resend the same message id, and a changed amount a different one', () => {
    const storefront = { storefrontId: 'sf_1', programId: 'prg_1' };
    const now = new Date('2026-11-25T10:00:00.000Z');
    const input = { orderId: 'o-1', amountMinor: 1999, currency: 'EUR' };
    const first = conversionMessage(storefront, input, now);
    expect(conversionMessage(storefront, input, new Date('2026-11-25T11:00:00.000Z')).id).toBe(first.id);
    expect(conversionMessage(storefront, { ...input, amountMinor: 2000 }, now).id).not.toBe(first.id);
    expect(first.body).toMatchObject({ orderId: 'o-1', occurredAt: now.toISOString(), payloadHash: conversionPayloadHash(input) });
  });
});
