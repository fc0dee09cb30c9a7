import type { LedgerEntry } from '../api/types';

/**
 * Earned, paid and owed over business time: the ledger's entries ordered by when they happened, summed as they
 * go (integer minor units), for the balance chart. The ledger lists them in the order they were recorded.
 */
export function balanceSteps(entries: LedgerEntry[]): { times: number[]; earned: number[]; paid: number[]; owed: number[] } {
  const sorted = [...entries].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const out = { times: [] as number[], earned: [] as number[], paid: [] as number[], owed: [] as number[] };
  let earned = 0;
  let paid = 0;
  for (const e of sorted) {
    if (e.type === 'CommissionEarned') earned += e.amountMinor;
    // The ledger signs a payout negative and its void positive: both move `paid` the other way.
    else if (e.type === 'PayoutRecorded' || e.type === 'PayoutVoided') paid -= e.amountMinor;
    out.times.push(Date.parse(e.occurredAt));
    out.earned.push(earned);
    out.paid.push(paid);
    out.owed.push(earned - paid);
  }
  return out;
}
