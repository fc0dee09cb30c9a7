import { CommissionRule } from '@lib/programs/programs.events';

/**
 * Commission for one order, in minor units. Percent rules use integer arithmetic on BigInt
 * (no float ever touches money) and round half up to the nearest minor unit:
 * 1999 at 1250 bp = 249.875 → 250.
 */
export function commissionFor(rule: CommissionRule, orderAmountMinor: number): number {
  if (rule.type === 'flat') return rule.amountMinor;
  const scaled = BigInt(orderAmountMinor) * BigInt(rule.basisPoints);
  return Number((scaled + 5000n) / 10000n);
}

export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * 86_400_000).toISOString();
}
