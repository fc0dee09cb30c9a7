import { RecordedEvent } from '@lib/event-store/event-store.port';
import { AccountEvent, AffiliateAccount, evolveAccount, owedMinor, payableMinor } from '@lib/commissions/affiliate-account';
import { ConversionRecorded } from '@lib/attribution/attribution.events';
import { ClickRecorded } from '@lib/tracking/tracking.events';
import { AffiliateStatsDoc, conversionRate, owed, payable, ProgramTotalsDoc, SORT_KEYS, SortKey, UNIQUE_WINDOW_MS } from './stats.projection';

/**
 * The audit: every affiliate's balances and counts recomputed from the events, independently of the
 * stats projection (balances by the affiliate account fold the payout decisions use), then compared with
 * what the views say. Pure: events in, expected figures out; views in, mismatches out.
 */
export interface Mismatch {
  /** null for the program's totals. */
  affiliateId: string | null;
  field: string;
  viewValue: unknown;
  eventValue: unknown;
}

export const AUDITED_EVENT_TYPES = new Set([
  'AffiliateEnrolled',
  'AffiliateStatusChanged',
  'AffiliateCommissionChanged',
  'ClickRecorded',
  'ConversionRecorded',
  'CommissionEarned',
  'PayoutRecorded',
  'PayoutVoided',
]);

interface Counts {
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  conversions: number;
  lastClickAt: string | null;
  lastConversionAt: string | null;
}

interface Expected extends Counts {
  account: AffiliateAccount | null;
  /** Visitor hash → when that visitor's click last counted as unique. */
  visitors: Map<string, number>;
}

/** Folds the log of one program, forward only, up to any position the views are read at. */
export class StatsAuditFold {
  position = 0;
  readonly affiliates = new Map<string, Expected>();
  readonly program = { clicks: 0, uniqueClicks: 0, botClicks: 0, conversions: 0, unattributed: 0, duplicateOrders: 0, earnedMinor: 0, paidMinor: 0 };

  constructor(readonly programId: string) {}

  apply(event: RecordedEvent): void {
    this.position = Math.max(this.position, event.position);
    if (!AUDITED_EVENT_TYPES.has(event.type) || event.data.programId !== this.programId) return;
    const d = event.data as AccountEvent | ClickRecorded | ConversionRecorded;
    switch (d.type) {
      case 'ClickRecorded':
        return this.click(d);
      case 'ConversionRecorded':
        return this.conversion(d);
      default:
        this.account(d);
    }
  }

  private account(d: AccountEvent): void {
    const a = this.affiliate(d.affiliateId);
    a.account = evolveAccount(a.account, d);
    if (d.type === 'CommissionEarned') this.program.earnedMinor += d.amountMinor;
    if (d.type === 'PayoutRecorded') this.program.paidMinor += d.amountMinor;
    if (d.type === 'PayoutVoided') this.program.paidMinor -= d.amountMinor;
  }

  private click(d: ClickRecorded): void {
    const a = this.affiliate(d.affiliateId);
    if (d.bot) {
      a.botClicks++;
      this.program.botClicks++;
      return;
    }
    // The rule the dashboard states: unique when the same visitor did not count for the affiliate in the last 24 h.
    const t = Date.parse(d.occurredAt);
    let unique = true;
    if (d.visitorHash) {
      const last = a.visitors.get(d.visitorHash);
      if (last !== undefined && Math.abs(t - last) < UNIQUE_WINDOW_MS) unique = false;
      else a.visitors.set(d.visitorHash, t);
    }
    a.clicks++;
    this.program.clicks++;
    if (unique) {
      a.uniqueClicks++;
      this.program.uniqueClicks++;
    }
    a.lastClickAt = latest(a.lastClickAt, d.occurredAt);
  }

  private conversion(d: ConversionRecorded): void {
    if (d.attribution.reason === 'duplicate_order') {
      this.program.duplicateOrders++;
      return;
    }
    if (!d.attribution.attributed) {
      this.program.unattributed++;
      return;
    }
    const a = this.affiliate(d.attribution.affiliateId!);
    a.conversions++;
    this.program.conversions++;
    a.lastConversionAt = latest(a.lastConversionAt, d.occurredAt);
  }

  private affiliate(id: string): Expected {
    let a = this.affiliates.get(id);
    if (!a) {
      a = { account: null, visitors: new Map(), clicks: 0, uniqueClicks: 0, botClicks: 0, conversions: 0, lastClickAt: null, lastConversionAt: null };
      this.affiliates.set(id, a);
    }
    return a;
  }

  /** Affiliates enrolled in the program so far. */
  enrolled(): string[] {
    return [...this.affiliates.entries()].filter(([, a]) => a.account !== null).map(([id]) => id);
  }

  expectedOf(affiliateId: string): Expected | undefined {
    return this.affiliates.get(affiliateId);
  }
}

/** The index an affiliate must be in, and with which score, per the events (null: must be absent). */
export function expectedScores(e: Expected): Record<SortKey | 'active', number | null> {
  const acc = e.account!;
  return {
    clicks: e.clicks,
    conversions: e.conversions,
    conversionRate: conversionRate(e),
    commissionEarnedMinor: acc.earnedMinor,
    commissionOwedMinor: owedMinor(acc),
    active: acc.status === 'active' ? e.clicks : null,
  };
}

export const AUDITED_INDEXES = [...SORT_KEYS, 'active'] as const;

/** One affiliate's view (document and index scores) against the events, field by field. */
export function compareAffiliate(
  affiliateId: string,
  expected: Expected,
  doc: AffiliateStatsDoc | null,
  scores: Record<(typeof AUDITED_INDEXES)[number], number | null>,
  now: Date,
): Mismatch[] {
  const acc = expected.account!;
  if (!doc) return [{ affiliateId, field: 'document', viewValue: null, eventValue: 'enrolled' }];
  const out: Mismatch[] = [];
  const check = (field: string, viewValue: unknown, eventValue: unknown) => {
    if (viewValue !== eventValue) out.push({ affiliateId, field, viewValue, eventValue });
  };
  check('status', doc.status, acc.status);
  check('clicks', doc.clicks, expected.clicks);
  check('uniqueClicks', doc.uniqueClicks, expected.uniqueClicks);
  check('botClicks', doc.botClicks, expected.botClicks);
  check('conversions', doc.conversions, expected.conversions);
  check('commissionEarnedMinor', doc.earnedMinor, acc.earnedMinor);
  check('commissionPaidMinor', doc.paidMinor, acc.paidMinor);
  check('commissionOwedMinor', owed(doc), owedMinor(acc));
  check('commissionPayableMinor', payable(doc, doc.pending, now.getTime()), payableMinor(acc, now.toISOString()));
  check('lastClickAt', doc.lastClickAt, expected.lastClickAt);
  check('lastConversionAt', doc.lastConversionAt, expected.lastConversionAt);
  const want = expectedScores(expected);
  for (const index of AUDITED_INDEXES) check(`index.${index}`, scores[index], want[index]);
  return out;
}

/** The program's totals document against the events. */
export function compareProgram(doc: ProgramTotalsDoc | null, fold: StatsAuditFold): Mismatch[] {
  const p = fold.program;
  const view = doc ?? { clicks: 0, uniqueClicks: 0, botClicks: 0, conversions: 0, unattributed: 0, duplicateOrders: 0, earnedMinor: 0, paidMinor: 0 };
  const pairs: [string, unknown, unknown][] = [
    ['program.clicks', view.clicks, p.clicks],
    ['program.uniqueClicks', view.uniqueClicks, p.uniqueClicks],
    ['program.botClicks', view.botClicks, p.botClicks],
    ['program.conversions', view.conversions, p.conversions],
    ['program.unattributedConversions', view.unattributed, p.unattributed],
    ['program.duplicateOrders', view.duplicateOrders ?? 0, p.duplicateOrders],
    ['program.commissionEarnedMinor', view.earnedMinor, p.earnedMinor],
    ['program.commissionPaidMinor', view.paidMinor, p.paidMinor],
  ];
  return pairs.filter(([, v, e]) => v !== e).map(([field, viewValue, eventValue]) => ({ affiliateId: null, field, viewValue, eventValue }));
}

function latest(a: string | null, b: string): string {
  return a === null || Date.parse(b) > Date.parse(a) ? b : a;
}
