import { BusinessRuleViolation, Conflict, NotFound } from '@lib/platform/errors';
import { AccountEvent, AffiliateAccount, evolveAccount, owedMinor, payableMinor } from '@lib/commissions/affiliate-account';
import { CommissionEarned } from '@lib/commissions/commissions.events';
import { RecordPayoutInput, recordPayout, voidPayout } from './payouts.decider';
import { PayoutRecorded } from './payouts.events';

const DAY = 86_400_000;
const T0 = '2025-03-01T00:00:00.000Z';
const at = (days: number, ms = 0) => new Date(Date.parse(T0) + days * DAY + ms).toISOString();
const NOW = at(30);

const enrolled: AccountEvent = {
  type: 'AffiliateEnrolled',
  programId: 'p1',
  affiliateId: 'a1',
  name: 'Alice',
  email: 'alice@example.com',
  code: 'alice',
  landingUrl: null,
  commission: null,
  occurredAt: T0,
};

let conversions = 0;
/** A commission of `amountMinor` earned at `occurredAt`, payable from `availableAt` (the hold's end). */
function earned(amountMinor: number, occurredAt: string, availableAt = occurredAt): CommissionEarned {
  conversions += 1;
  return {
    type: 'CommissionEarned',
    programId: 'p1',
    affiliateId: 'a1',
    conversionId: `cv${conversions}`,
    storefrontId: 'sf1',
    orderId: `o${conversions}`,
    orderAmountMinor: amountMinor * 10,
    amountMinor,
    currency: 'EUR',
    rule: { type: 'percent', basisPoints: 1000 },
    ruleSource: 'program',
    ruleVersion: 1,
    occurredAt,
    availableAt,
  };
}

function given(...events: AccountEvent[]): AffiliateAccount {
  return [enrolled, ...events].reduce<AffiliateAccount | null>(evolveAccount, null)!;
}

function payout(over: Partial<RecordPayoutInput> = {}): RecordPayoutInput {
  return { payoutId: 'po1', idempotencyKey: 'key-1', requestHash: 'req-1', minimumPayoutMinor: 5000, currency: 'EUR', now: NOW, ...over };
}

/** The event of a payout the decider accepted. */
function paid(account: AffiliateAccount, over: Partial<RecordPayoutInput> = {}): PayoutRecorded {
  const decision = recordPayout(account, payout(over));
  if (decision.kind !== 'new') throw new Error('expected a new payout');
  return decision.event;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the command to be refused, but it was accepted');
}

describe('recordPayout', () => {
  it('given 7000 payable, when a payout names no amount, then everything payable is paid', () => {
    const account = given(earned(3000, at(1)), earned(4000, at(2)));
    expect(paid(account)).toEqual({
      type: 'PayoutRecorded',
      programId: 'p1',
      affiliateId: 'a1',
      payoutId: 'po1',
      amountMinor: 7000,
      currency: 'EUR',
      reference: null,
      paidAt: NOW,
      occurredAt: NOW,
      idempotencyKey: 'key-1',
      requestHash: 'req-1',
    });
  });

  it('given 7000 payable, when 6000 is paid with a reference and a paid date, then the payout records them', () => {
    const account = given(earned(7000, at(1)));
    expect(paid(account, { amountMinor: 6000, reference: 'SEPA-42', paidAt: at(29) })).toMatchObject({ amountMinor: 6000, reference: 'SEPA-42', paidAt: at(29), occurredAt: NOW });
  });

  it('given 7000 payable, when exactly 7000 is paid, then it is accepted', () => {
    expect(paid(given(earned(7000, at(1))), { amountMinor: 7000 }).amountMinor).toBe(7000);
  });

  it('given 7000 payable, when 7001 is asked for, then Conflict (409) and the balance is untouched', () => {
    const account = given(earned(7000, at(1)));
    const error = thrownBy(() => recordPayout(account, payout({ amountMinor: 7001 })));
    expect(error).toBeInstanceOf(Conflict);
    expect(error).toMatchObject({ status: 409 });
    expect(owedMinor(account)).toBe(7000);
  });

  it('given 7000 payable and a minimum of 5000, when 4999 is asked for, then BusinessRuleViolation below_minimum_payout', () => {
    const error = thrownBy(() => recordPayout(given(earned(7000, at(1))), payout({ amountMinor: 4999 })));
    expect(error).toBeInstanceOf(BusinessRuleViolation);
    expect(error).toMatchObject({ status: 422, code: 'below_minimum_payout' });
    expect((error as BusinessRuleViolation).details.map((d) => d.field)).toEqual(['amountMinor']);
  });

  it('given only 4000 payable and a minimum of 5000, when everything payable is asked for, then below_minimum_payout', () => {
    expect(thrownBy(() => recordPayout(given(earned(4000, at(1))), payout()))).toMatchObject({ code: 'below_minimum_payout' });
  });

  it('given nothing payable and no minimum, when everything payable is asked for, then below_minimum_payout (no empty payouts)', () => {
    expect(thrownBy(() => recordPayout(given(), payout({ minimumPayoutMinor: 0 })))).toMatchObject({ code: 'below_minimum_payout' });
  });

  it('given a commission still in its hold, when a payout is asked for, then only matured commissions are payable', () => {
    const account = given(earned(6000, at(1), at(15)), earned(9000, at(20), at(34)));
    expect(payableMinor(account, NOW)).toBe(6000);
    expect(owedMinor(account)).toBe(15_000);
    expect(paid(account).amountMinor).toBe(6000);
    expect(thrownBy(() => recordPayout(account, payout({ amountMinor: 7000 })))).toBeInstanceOf(Conflict);
  });

  it('given a commission whose hold ends exactly now, when a payout is asked for, then it is payable', () => {
    const account = given(earned(9000, at(16), NOW));
    expect(paid(account).amountMinor).toBe(9000);
  });

  it('given a held commission, when its hold has ended, then it becomes payable', () => {
    const account = given(earned(6000, at(1), at(15)), earned(9000, at(20), at(34)));
    expect(paid(account, { now: at(34) }).amountMinor).toBe(15_000);
  });

  it('given 7000 earned and 6000 paid, when 1001 is asked for, then Conflict: only the 1000 left is payable', () => {
    const first = given(earned(7000, at(1)));
    const account = given(earned(7000, at(1)), paid(first, { amountMinor: 6000 }));
    expect(payableMinor(account, NOW)).toBe(1000);
    expect(thrownBy(() => recordPayout(account, payout({ payoutId: 'po2', idempotencyKey: 'key-2', minimumPayoutMinor: 0, amountMinor: 1001 })))).toBeInstanceOf(Conflict);
  });

  it('given a recorded payout, when the same Idempotency-Key comes with the same request, then it is a repeat answering the first payoutId', () => {
    const before = given(earned(7000, at(1)));
    const account = given(earned(7000, at(1)), earned(8000, at(2)), paid(before));
    expect(recordPayout(account, payout({ payoutId: 'po-other' }))).toEqual({ kind: 'repeat', payoutId: 'po1' });
  });

  it('given a recorded payout, when the same Idempotency-Key comes with a different request, then Conflict', () => {
    const before = given(earned(7000, at(1)));
    const account = given(earned(7000, at(1)), earned(8000, at(2)), paid(before));
    expect(thrownBy(() => recordPayout(account, payout({ payoutId: 'po2', requestHash: 'req-2' })))).toBeInstanceOf(Conflict);
  });
});

describe('voidPayout', () => {
  const history = () => {
    const first = given(earned(7000, at(1)));
    return given(earned(7000, at(1)), paid(first, { amountMinor: 6000 }));
  };

  it('given a payout of 6000, when it is voided, then PayoutVoided carries 6000 and owed goes back up by 6000', () => {
    const account = history();
    expect(owedMinor(account)).toBe(1000);
    const event = voidPayout(account, { payoutId: 'po1', reason: 'bank transfer bounced', now: at(31) });
    expect(event).toEqual({
      type: 'PayoutVoided',
      programId: 'p1',
      affiliateId: 'a1',
      payoutId: 'po1',
      amountMinor: 6000,
      reason: 'bank transfer bounced',
      occurredAt: at(31),
    });
    const after = evolveAccount(account, event)!;
    expect(owedMinor(after)).toBe(7000);
    expect(payableMinor(after, at(31))).toBe(7000);
  });

  it('given a voided payout, when it is voided again, then Conflict', () => {
    const account = history();
    const voided = evolveAccount(account, voidPayout(account, { payoutId: 'po1', reason: 'bounced', now: at(31) }))!;
    expect(thrownBy(() => voidPayout(voided, { payoutId: 'po1', reason: 'again', now: at(32) }))).toBeInstanceOf(Conflict);
  });

  it('given no such payout, when it is voided, then NotFound', () => {
    const error = thrownBy(() => voidPayout(history(), { payoutId: 'po-unknown', reason: 'typo', now: at(31) }));
    expect(error).toBeInstanceOf(NotFound);
    expect(error).toMatchObject({ status: 404 });
  });
});
