import type { LedgerEntry } from '../api/types';
import { balanceSteps } from './balance';

const entry = (type: string, amountMinor: number, occurredAt: string): LedgerEntry => ({
  eventId: `${type}-${occurredAt}`,
  type,
  amountMinor,
  occurredAt,
  recordedAt: '2026-01-10T00:00:00.000Z',
  balance: { earnedMinor: 0, paidMinor: 0, owedMinor: 0 },
});

describe('balance chart steps', () => {
  it('given entries recorded out of business order, when stepped, then they are summed in the order they happened: payouts raise paid, voids lower it', () => {
    const steps = balanceSteps([
      entry('CommissionEarned', 500, '2026-01-03T00:00:00.000Z'),
      entry('CommissionEarned', 200, '2026-01-01T00:00:00.000Z'),
      entry('PayoutRecorded', -600, '2026-01-04T00:00:00.000Z'),
      entry('PayoutVoided', 600, '2026-01-05T00:00:00.000Z'),
    ]);
    expect(steps.times).toEqual(['2026-01-01', '2026-01-03', '2026-01-04', '2026-01-05'].map((d) => Date.parse(`${d}T00:00:00.000Z`)));
    expect(steps.earned).toEqual([200, 700, 700, 700]);
    expect(steps.paid).toEqual([0, 0, 600, 0]);
    expect(steps.owed).toEqual([200, 700, 100, 700]);
  });

  it('given no entries, when stepped, then there is nothing to draw', () => {
    expect(balanceSteps([])).toEqual({ times: [], earned: [], paid: [], owed: [] });
  });
});
