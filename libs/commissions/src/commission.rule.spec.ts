import fc from 'fast-check';
import { addDays, commissionFor } from './commission.rule';

const percent = (basisPoints: number) => ({ type: 'percent' as const, basisPoints });

/** Round half up of amount × bp / 10000, from quotient and remainder: an independent way to the same number. */
function roundHalfUp(amountMinor: bigint, basisPoints: bigint): bigint {
  const product = amountMinor * basisPoints;
  const quotient = product / 10_000n;
  const remainder = product % 10_000n;
  return remainder * 2n >= 10_000n ? quotient + 1n : quotient;
}

describe('commissionFor', () => {
  it.each([
    [1999, 1250, 250, '249.875 rounds up'],
    [1999, 1000, 200, '199.9 rounds up'],
    [10_000, 1000, 1000, 'exact'],
    [5, 1000, 1, '0.5 rounds up'],
    [15, 1000, 2, '1.5 rounds up'],
    [25, 1000, 3, '2.5 rounds up'],
    [14, 1000, 1, '1.4 rounds down'],
    [1, 1, 0, '0.0001 rounds down'],
    [0, 1250, 0, 'nothing on an empty order'],
    [1, 10_000, 1, '100 % of one minor unit'],
    [9_999, 5000, 5000, '4999.5 rounds up'],
  ])('given an order of %i at %i bp, when the percent rule applies, then the commission is %i (%s)', (amount, bp, expected) => {
    expect(commissionFor(percent(bp), amount)).toBe(expected);
  });

  it('given a flat rule, when it applies to any order, then the commission is the flat amount', () => {
    const flat = { type: 'flat' as const, amountMinor: 750 };
    expect([0, 1, 1999, 9_000_000_000_000].map((amount) => commissionFor(flat, amount))).toEqual([750, 750, 750, 750]);
  });

  it('given a very large order, when a percent rule applies, then the commission is exact (no float rounding)', () => {
    const amount = 9_000_000_000_000;
    const expected = Number(roundHalfUp(BigInt(amount), 3333n));
    expect(expected).toBe(2_999_700_000_000);
    expect(commissionFor(percent(3333), amount)).toBe(expected);
  });

  it('given the largest safe amount, when 99.99 % applies, then the commission is exact', () => {
    const amount = Number.MAX_SAFE_INTEGER;
    expect(commissionFor(percent(9999), amount)).toBe(Number(roundHalfUp(BigInt(amount), 9999n)));
  });

  it('property: for any safe integer amount and 1..10000 bp, the commission is amount × bp / 10000 rounded half up, and never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 10_000 }), (amount, bp) => {
        const commission = commissionFor(percent(bp), amount);
        expect(Number.isSafeInteger(commission)).toBe(true);
        expect(commission).toBeGreaterThanOrEqual(0);
        expect(commission).toBeLessThanOrEqual(amount);
        expect(BigInt(commission)).toBe(roundHalfUp(BigInt(amount), BigInt(bp)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('addDays', () => {
  it('given an instant, when days are added, then the result is that many 24 h periods later in ISO form', () => {
    expect(addDays('2025-03-01T10:00:00.000Z', 14)).toBe('2025-03-15T10:00:00.000Z');
    expect(addDays('2025-03-01T10:00:00.000Z', 0)).toBe('2025-03-01T10:00:00.000Z');
  });
});
