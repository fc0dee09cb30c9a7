import { RecordedEvent } from '@lib/event-store/event-store.port';
import { Projection, ProjectionContext } from '@lib/views/projection';
import { AffiliateEnrolled, AffiliateStatus, AffiliateStatusChanged } from '@lib/programs/programs.events';
import { ClickRecorded } from '@lib/tracking/tracking.events';
import { ConversionRecorded } from '@lib/attribution/attribution.events';
import { CommissionEarned } from '@lib/commissions/commissions.events';
import { PayoutRecorded, PayoutVoided } from '@lib/payouts/payouts.events';

/** A click is unique when the same visitor (hashed IP + user agent) was not counted for the affiliate in the last 24 h. */
export const UNIQUE_WINDOW_MS = 24 * 3_600_000;

export interface Counters {
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  conversions: number;
  earnedMinor: number;
  paidMinor: number;
  /** Commissions still in their hold: [availableAt ms, amount]. Payable = owed − the ones not yet available. */
  pending: [number, number][];
}

export interface ProgramTotalsDoc extends Counters {
  programId: string;
  unattributed: number;
}

export interface AffiliateStatsDoc extends Counters {
  affiliateId: string;
  programId: string;
  name: string;
  code: string;
  status: AffiliateStatus;
  enrolledAt: string;
  lastClickAt: string | null;
  lastConversionAt: string | null;
}

export interface BucketDoc {
  clicks: number;
  conversions: number;
  commission: number;
}

export const SORT_KEYS = ['clicks', 'conversions', 'conversionRate', 'commissionEarnedMinor', 'commissionOwedMinor'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const statsKeys = {
  program: (programId: string) => `prog:${programId}`,
  affiliate: (affiliateId: string) => `aff:${affiliateId}`,
  rank: (programId: string, sort: SortKey) => `rank:${programId}:${sort}`,
  bucket: (programId: string, interval: 'hour' | 'day', startIso: string) => `ts:${programId}:${interval}:${startIso}`,
  visitor: (affiliateId: string, visitorHash: string) => `visitor:${affiliateId}:${visitorHash}`,
};

export function bucketStart(iso: string, interval: 'hour' | 'day'): string {
  const d = new Date(iso);
  if (interval === 'day') d.setUTCHours(0, 0, 0, 0);
  else d.setUTCMinutes(0, 0, 0);
  return d.toISOString();
}

export function conversionRate(c: Pick<Counters, 'clicks' | 'conversions'>): number {
  return c.clicks === 0 ? 0 : c.conversions / c.clicks;
}

export function owed(c: Counters): number {
  return c.earnedMinor - c.paidMinor;
}

export function payable(c: Counters, nowMs: number): number {
  let held = 0;
  for (const [at, amount] of c.pending) if (at > nowMs) held += amount;
  return Math.max(0, owed(c) - held);
}

const emptyCounters = (): Counters => ({ clicks: 0, uniqueClicks: 0, botClicks: 0, conversions: 0, earnedMinor: 0, paidMinor: 0, pending: [] });

type StatsEvent =
  | AffiliateEnrolled
  | AffiliateStatusChanged
  | ClickRecorded
  | ConversionRecorded
  | CommissionEarned
  | PayoutRecorded
  | PayoutVoided;

/** Per-program totals, per-affiliate stats, sort indexes for the affiliate list, and hour/day buckets. */
export const statsProjection: Projection = {
  name: 'stats',
  version: 1,
  eventTypes: ['AffiliateEnrolled', 'AffiliateStatusChanged', 'ClickRecorded', 'ConversionRecorded', 'CommissionEarned', 'PayoutRecorded', 'PayoutVoided'],
  keysFor(event: RecordedEvent<StatsEvent>): string[] {
    const e = event.data;
    const prog = statsKeys.program(e.programId);
    switch (e.type) {
      case 'AffiliateEnrolled':
        return [prog, statsKeys.affiliate(e.affiliateId)];
      case 'AffiliateStatusChanged':
        return [statsKeys.affiliate(e.affiliateId)];
      case 'ClickRecorded':
        return [
          prog,
          statsKeys.affiliate(e.affiliateId),
          ...bucketKeys(e.programId, e.occurredAt),
          ...(e.visitorHash ? [statsKeys.visitor(e.affiliateId, e.visitorHash)] : []),
        ];
      case 'ConversionRecorded':
        return [prog, ...(e.attribution.attributed ? [statsKeys.affiliate(e.attribution.affiliateId!), ...bucketKeys(e.programId, e.occurredAt)] : [])];
      case 'CommissionEarned':
        return [prog, statsKeys.affiliate(e.affiliateId), ...bucketKeys(e.programId, e.occurredAt)];
      case 'PayoutRecorded':
      case 'PayoutVoided':
        return [prog, statsKeys.affiliate(e.affiliateId)];
    }
  },
  apply(event: RecordedEvent<StatsEvent>, ctx: ProjectionContext): void {
    const e = event.data;
    const nowMs = Date.parse(event.recordedAt);
    const progKey = statsKeys.program(e.programId);
    if (e.type === 'AffiliateStatusChanged') return updateAffiliate(ctx, e.affiliateId, (a) => ({ ...a, status: e.status }));
    const prog: ProgramTotalsDoc = ctx.get<ProgramTotalsDoc>(progKey) ?? { programId: e.programId, unattributed: 0, ...emptyCounters() };
    switch (e.type) {
      case 'AffiliateEnrolled': {
        const doc: AffiliateStatsDoc = {
          affiliateId: e.affiliateId,
          programId: e.programId,
          name: e.name,
          code: e.code,
          status: 'active',
          enrolledAt: e.occurredAt,
          lastClickAt: null,
          lastConversionAt: null,
          ...emptyCounters(),
        };
        ctx.put(progKey, prog);
        putAffiliate(ctx, doc);
        return;
      }
      case 'ClickRecorded': {
        if (e.bot) {
          ctx.put(progKey, { ...prog, botClicks: prog.botClicks + 1 });
          return updateAffiliate(ctx, e.affiliateId, (a) => ({ ...a, botClicks: a.botClicks + 1 }));
        }
        const unique = countUnique(ctx, e);
        const add = (c: Counters) => ({ clicks: c.clicks + 1, uniqueClicks: c.uniqueClicks + (unique ? 1 : 0) });
        ctx.put(progKey, { ...prog, ...add(prog) });
        updateAffiliate(ctx, e.affiliateId, (a) => ({ ...a, ...add(a), lastClickAt: later(a.lastClickAt, e.occurredAt) }));
        return addToBuckets(ctx, e.programId, e.occurredAt, 'clicks', 1);
      }
      case 'ConversionRecorded': {
        if (!e.attribution.attributed) {
          ctx.put(progKey, { ...prog, unattributed: prog.unattributed + 1 });
          return;
        }
        ctx.put(progKey, { ...prog, conversions: prog.conversions + 1 });
        updateAffiliate(ctx, e.attribution.affiliateId!, (a) => ({
          ...a,
          conversions: a.conversions + 1,
          lastConversionAt: later(a.lastConversionAt, e.occurredAt),
        }));
        return addToBuckets(ctx, e.programId, e.occurredAt, 'conversions', 1);
      }
      case 'CommissionEarned': {
        const earn = (c: Counters): Partial<Counters> => ({
          earnedMinor: c.earnedMinor + e.amountMinor,
          pending: [...matured(c.pending, nowMs), [Date.parse(e.availableAt), e.amountMinor]],
        });
        ctx.put(progKey, { ...prog, ...earn(prog) });
        updateAffiliate(ctx, e.affiliateId, (a) => ({ ...a, ...earn(a) }));
        return addToBuckets(ctx, e.programId, e.occurredAt, 'commission', e.amountMinor);
      }
      case 'PayoutRecorded':
      case 'PayoutVoided': {
        const delta = e.type === 'PayoutRecorded' ? e.amountMinor : -e.amountMinor;
        const pay = (c: Counters): Partial<Counters> => ({ paidMinor: c.paidMinor + delta, pending: matured(c.pending, nowMs) });
        ctx.put(progKey, { ...prog, ...pay(prog) });
        return updateAffiliate(ctx, e.affiliateId, (a) => ({ ...a, ...pay(a) }));
      }
    }
  },
};

function bucketKeys(programId: string, occurredAt: string): string[] {
  return [statsKeys.bucket(programId, 'hour', bucketStart(occurredAt, 'hour')), statsKeys.bucket(programId, 'day', bucketStart(occurredAt, 'day'))];
}

function addToBuckets(ctx: ProjectionContext, programId: string, occurredAt: string, metric: keyof BucketDoc, by: number): void {
  for (const key of bucketKeys(programId, occurredAt)) {
    const b = ctx.get<BucketDoc>(key) ?? { clicks: 0, conversions: 0, commission: 0 };
    ctx.put(key, { ...b, [metric]: b[metric] + by });
  }
}

function countUnique(ctx: ProjectionContext, e: ClickRecorded): boolean {
  if (!e.visitorHash) return true;
  const key = statsKeys.visitor(e.affiliateId, e.visitorHash);
  const last = ctx.get<number>(key);
  const t = Date.parse(e.occurredAt);
  if (last !== null && Math.abs(t - last) < UNIQUE_WINDOW_MS) return false;
  ctx.put(key, t);
  return true;
}

/** Drops hold entries already available when the event was recorded: now is never earlier than that. */
function matured(pending: [number, number][], recordedMs: number): [number, number][] {
  return pending.filter(([at]) => at > recordedMs);
}

function later(a: string | null, b: string): string {
  return a === null || Date.parse(b) > Date.parse(a) ? b : a;
}

function updateAffiliate(ctx: ProjectionContext, affiliateId: string, change: (a: AffiliateStatsDoc) => AffiliateStatsDoc): void {
  const current = ctx.get<AffiliateStatsDoc>(statsKeys.affiliate(affiliateId));
  if (current) putAffiliate(ctx, change(current));
}

function putAffiliate(ctx: ProjectionContext, doc: AffiliateStatsDoc): void {
  ctx.put(statsKeys.affiliate(doc.affiliateId), doc);
  const scores: Record<SortKey, number> = {
    clicks: doc.clicks,
    conversions: doc.conversions,
    conversionRate: conversionRate(doc),
    commissionEarnedMinor: doc.earnedMinor,
    commissionOwedMinor: owed(doc),
  };
  for (const sort of SORT_KEYS) ctx.zadd(statsKeys.rank(doc.programId, sort), doc.affiliateId, scores[sort]);
}
