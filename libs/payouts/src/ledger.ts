import { RecordedEvent } from '@lib/event-store/event-store.port';
import { AccountEvent } from '@lib/commissions/affiliate-account';

export interface Balance {
  earnedMinor: number;
  paidMinor: number;
  owedMinor: number;
}

export interface LedgerEntry {
  eventId: string;
  type: string;
  amountMinor: number;
  orderId?: string;
  conversionId?: string;
  payoutId?: string;
  reference?: string | null;
  reason?: string;
  ruleVersion?: number;
  occurredAt: string;
  recordedAt: string;
  balance: Balance;
}

/** Every money event of the account with the running balance after it, straight from the event store. */
export function ledgerOf(events: RecordedEvent<AccountEvent>[]): { entries: LedgerEntry[]; balance: Balance } {
  let earned = 0;
  let paid = 0;
  const entries: LedgerEntry[] = [];
  for (const e of events) {
    const d = e.data;
    const base = { eventId: e.id, type: d.type, occurredAt: d.occurredAt, recordedAt: e.recordedAt };
    if (d.type === 'CommissionEarned') {
      earned += d.amountMinor;
      entries.push({ ...base, amountMinor: d.amountMinor, orderId: d.orderId, conversionId: d.conversionId, ruleVersion: d.ruleVersion, balance: balance(earned, paid) });
    } else if (d.type === 'PayoutRecorded') {
      paid += d.amountMinor;
      entries.push({ ...base, amountMinor: -d.amountMinor, payoutId: d.payoutId, reference: d.reference, balance: balance(earned, paid) });
    } else if (d.type === 'PayoutVoided') {
      paid -= d.amountMinor;
      entries.push({ ...base, amountMinor: d.amountMinor, payoutId: d.payoutId, reason: d.reason, balance: balance(earned, paid) });
    }
  }
  return { entries, balance: balance(earned, paid) };
}

function balance(earnedMinor: number, paidMinor: number): Balance {
  return { earnedMinor, paidMinor, owedMinor: earnedMinor - paidMinor };
}
