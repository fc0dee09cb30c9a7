import { BusinessRuleViolation, Conflict, NotFound } from '@lib/platform/errors';
import { AffiliateAccount, payableMinor } from '@lib/commissions/affiliate-account';
import { PayoutRecorded, PayoutVoided } from './payouts.events';

export interface RecordPayoutInput {
  payoutId: string;
  amountMinor?: number;
  reference?: string;
  paidAt?: string;
  idempotencyKey: string;
  requestHash: string;
  minimumPayoutMinor: number;
  currency: string;
  now: string;
}

/** A repeat of an earlier request returns its payout; otherwise the new payout event, or the rule it breaks. */
export function recordPayout(
  account: AffiliateAccount,
  input: RecordPayoutInput,
): { kind: 'repeat'; payoutId: string } | { kind: 'new'; event: PayoutRecorded } {
  const earlier = Object.values(account.payouts).find((p) => p.idempotencyKey === input.idempotencyKey);
  if (earlier) {
    if (earlier.requestHash !== input.requestHash) {
      throw new Conflict('this Idempotency-Key was already used for a different payout request');
    }
    return { kind: 'repeat', payoutId: earlier.payoutId };
  }
  const payable = payableMinor(account, input.now);
  const amount = input.amountMinor ?? payable;
  if (amount > payable) {
    throw new Conflict(`the payout of ${amount} exceeds the payable balance of ${payable} ${input.currency}`);
  }
  if (amount < input.minimumPayoutMinor || amount === 0) {
    throw new BusinessRuleViolation(
      'below_minimum_payout',
      `the payout of ${amount} is below the program's minimum payout of ${input.minimumPayoutMinor} ${input.currency}`,
      [{ field: 'amountMinor', message: `must be at least ${Math.max(1, input.minimumPayoutMinor)}` }],
    );
  }
  return {
    kind: 'new',
    event: {
      type: 'PayoutRecorded',
      programId: account.programId,
      affiliateId: account.affiliateId,
      payoutId: input.payoutId,
      amountMinor: amount,
      currency: input.currency,
      reference: input.reference ?? null,
      paidAt: input.paidAt ?? input.now,
      occurredAt: input.now,
      idempotencyKey: input.idempotencyKey,
      requestHash: input.requestHash,
    },
  };
}

export function voidPayout(account: AffiliateAccount, input: { payoutId: string; reason: string; now: string }): PayoutVoided {
  const payout = account.payouts[input.payoutId];
  if (!payout) throw new NotFound(`payout ${input.payoutId} does not exist for this affiliate`);
  if (payout.voided) throw new Conflict(`payout ${input.payoutId} is already voided`);
  return {
    type: 'PayoutVoided',
    programId: account.programId,
    affiliateId: account.affiliateId,
    payoutId: input.payoutId,
    amountMinor: payout.amountMinor,
    reason: input.reason,
    occurredAt: input.now,
  };
}
