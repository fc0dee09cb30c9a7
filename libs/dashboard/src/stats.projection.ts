import { RecordedEvent } from '@lib/event-store/event-store.port';
import { Projection, ProjectionContext } from '@lib/views/projection';
import { AffiliateEnrolled, AffiliateStatus, AffiliateStatusChanged } from '@lib/programs/programs.events';
import { ClickRecorded } from '@lib/tracking/tracking.events';
import { ConversionRecorded } from '@lib/attribution/attribution.events';
import { CommissionEarned } from '@lib/commissions/commissions.events';
import { PayoutRecorded, PayoutVoided } from '@lib/payouts/payouts.events';
import { MIN_MANY_CLICKS } from './insights';

/** A click is unique when the same visitor (hashed IP + user agent) was not counted for the affiliate in the last 24 h. */
export const UNIQUE_WINDOW_MS = 24 * 3_600_000;

export interface Counters {
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  conversions: number;
  earnedMinor: number;
  paidMinor: number;
}

export interface ProgramTotalsDoc extends Counters {
  programId: string;
  /** Conversions that earned nothing (no click, expired, …), each with its reason in the attribution view. */
  unattributed: number;
  /** Resends of an order already counted, with a different body: recorded, never counted as conversions. */
  duplicateOrders: number;
}

/** Commissions still in their hold: [availableAt ms, amount]. Payable = owed − the ones not yet available. */
export type Held = [number, number][];

export interface AffiliateStatsDoc extends Counters {
  /** The affiliate's own commissions in their hold (pruned as they mature, so it stays short). */
  pending: Held;
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
  /** A bucket by the epoch ms of its start (an ISO start is accepted too). */
  bucket: (programId: string, interval: 'hour' | 'day', start: number | string) =>
    `ts:${programId}:${interval}:${typeof start === 'string' ? Date.parse(start) : start}`,
  visitor: (affiliateId: string, visitorHash: string) => `visitor:${affiliateId}:${visitorHash}`,
  /** The program's commissions that become available on one UTC day: the program-wide hold, day by day. */
  held: (programId: string, dayStartMs: number) => `held:${programId}:${dayStartMs}`,
  /** The days that have a held document, scored by their start: the dashboard reads only days from today on. */
  heldDays: (programId: string) => `held-days:${programId}`,
  /**
   * Active affiliates by clicks: the program's own distribution, read by rank (median, 75th percentile)
   * and by score (affiliates with few clicks) without reading every affiliate.
   */
  active: (programId: string) => `active:${programId}`,
  /**
   * Active affiliates with at least MIN_MANY_CLICKS · 2^level clicks, by conversion rate: where the ones with
   * many clicks and a low rate are found, lowest rate first, at the level just under the "many clicks" bar.
   */
  manyClicks: (programId: string, level: number) => `many:${programId}:${level}`,
  /**
   * The affiliate search: a lexicographic index (every score 0) of `<term>\0<affiliateId>`, one member per
   * search term (the name, each word of it, the code), read by prefix: O(log n) whatever the program's size.
   */
  search: (programId: string) => `search:${programId}`,
};

/** Search text as it is indexed and looked up: NFKC, lower case, single spaces. */
export function searchForm(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
}

/** Separates the term from the affiliate id in a search member (it cannot occur in either). */
export const SEARCH_SEPARATOR = '\u0000';
const MAX_NAME_WORDS = 10;

/** What an affiliate is found by: a search matches the start of its name, of a word of its name, or of its code. */
export function searchTerms(name: string, code: string): string[] {
  const full = searchForm(name);
  const words = full.split(/[\s\-_.,;:'"()/&+]+/).filter(Boolean).slice(0, MAX_NAME_WORDS);
  return [...new Set([full, ...words, searchForm(code)].filter((t) => t.length > 0 && !t.includes(SEARCH_SEPARATOR)))];
}

/** The levels of `statsKeys.manyClicks` an affiliate with this many clicks belongs to: 0 … n−1 (none under MIN_MANY_CLICKS). */
export function manyClicksLevels(clicks: number): number {
  let n = 0;
  for (let bar = MIN_MANY_CLICKS; bar <= clicks; bar *= 2) n++;
  return n;
}

/** The highest level whose members all have at least half of `threshold` clicks (threshold ≥ MIN_MANY_CLICKS). */
export function manyClicksLevelFor(threshold: number): number {
  return Math.max(0, manyClicksLevels(threshold) - 1);
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Start of the UTC hour or day holding `ms` (epoch ms count from a UTC midnight). */
export function bucketStartMs(ms: number, interval: 'hour' | 'day'): number {
  const step = interval === 'hour' ? HOUR_MS : DAY_MS;
  return ms - (((ms % step) + step) % step);
}

export function bucketStart(iso: string, interval: 'hour' | 'day'): string {
  return new Date(bucketStartMs(Date.parse(iso), interval)).toISOString();
}

export function conversionRate(c: Pick<Counters, 'clicks' | 'conversions'>): number {
  return c.clicks === 0 ? 0 : c.conversions / c.clicks;
}

export function owed(c: Counters): number {
  return c.earnedMinor - c.paidMinor;
}

/** owed less what is still held at `nowMs`; never negative. */
export function payable(c: Counters, held: Held, nowMs: number): number {
  let stillHeld = 0;
  for (const [at, amount] of held) if (at > nowMs) stillHeld += amount;
  return Math.max(0, owed(c) - stillHeld);
}

const emptyCounters = (): Counters => ({ clicks: 0, uniqueClicks: 0, botClicks: 0, conversions: 0, earnedMinor: 0, paidMinor: 0 });

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
  // 2: the active-affiliate distribution, the many-clicks indexes and the held days (statsKeys.active,
  // statsKeys.manyClicks, statsKeys.heldDays): the dashboard reads no key per affiliate or per day ahead.
  // 3: the affiliate search index (statsKeys.search).
  version: 3,
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
        return [prog, statsKeys.affiliate(e.affiliateId), ...bucketKeys(e.programId, e.occurredAt), heldKey(e)];
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
    const prog: ProgramTotalsDoc = ctx.get<ProgramTotalsDoc>(progKey) ?? { programId: e.programId, unattributed: 0, duplicateOrders: 0, ...emptyCounters() };
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
          pending: [],
        };
        ctx.put(progKey, prog);
        putAffiliate(ctx, doc);
        for (const term of searchTerms(e.name, e.code)) ctx.zadd(statsKeys.search(e.programId), term + SEARCH_SEPARATOR + e.affiliateId, 0);
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
        if (e.attribution.reason === 'duplicate_order') {
          ctx.put(progKey, { ...prog, duplicateOrders: (prog.duplicateOrders ?? 0) + 1 });
          return;
        }
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
        const availableMs = Date.parse(e.availableAt);
        ctx.put(progKey, { ...prog, earnedMinor: prog.earnedMinor + e.amountMinor });
        updateAffiliate(ctx, e.affiliateId, (a) => ({
          ...a,
          earnedMinor: a.earnedMinor + e.amountMinor,
          pending: availableMs > nowMs ? [...matured(a.pending, nowMs), [availableMs, e.amountMinor]] : matured(a.pending, nowMs),
        }));
        if (availableMs > nowMs) {
          ctx.put(heldKey(e), [...(ctx.get<Held>(heldKey(e)) ?? []), [availableMs, e.amountMinor]]);
          const day = bucketStartMs(availableMs, 'day');
          ctx.zadd(statsKeys.heldDays(e.programId), String(day), day);
        }
        return addToBuckets(ctx, e.programId, e.occurredAt, 'commission', e.amountMinor);
      }
      case 'PayoutRecorded':
      case 'PayoutVoided': {
        const delta = e.type === 'PayoutRecorded' ? e.amountMinor : -e.amountMinor;
        ctx.put(progKey, { ...prog, paidMinor: prog.paidMinor + delta });
        return updateAffiliate(ctx, e.affiliateId, (a) => ({ ...a, paidMinor: a.paidMinor + delta, pending: matured(a.pending, nowMs) }));
      }
    }
  },
};

function bucketKeys(programId: string, occurredAt: string): string[] {
  const ms = Date.parse(occurredAt);
  return [statsKeys.bucket(programId, 'hour', bucketStartMs(ms, 'hour')), statsKeys.bucket(programId, 'day', bucketStartMs(ms, 'day'))];
}

function heldKey(e: CommissionEarned): string {
  return statsKeys.held(e.programId, bucketStartMs(Date.parse(e.availableAt), 'day'));
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
function matured(pending: Held, recordedMs: number): Held {
  return pending.filter(([at]) => at > recordedMs);
}

function later(a: string | null, b: string): string {
  return a === null || Date.parse(b) > Date.parse(a) ? b : a;
}

function updateAffiliate(ctx: ProjectionContext, affiliateId: string, change: (a: AffiliateStatsDoc) => AffiliateStatsDoc): void {
  const current = ctx.get<AffiliateStatsDoc>(statsKeys.affiliate(affiliateId));
  if (current) putAffiliate(ctx, change(current), current);
}

function sortScores(doc: AffiliateStatsDoc): Record<SortKey, number> {
  return {
    clicks: doc.clicks,
    conversions: doc.conversions,
    conversionRate: conversionRate(doc),
    commissionEarnedMinor: doc.earnedMinor,
    commissionOwedMinor: owed(doc),
  };
}

/**
 * Writes the affiliate's document and keeps every index in step with it. Only what changed since `before`
 * is written (the indexes mirror the documents): a click costs a few index writes, not one per index.
 */
function putAffiliate(ctx: ProjectionContext, doc: AffiliateStatsDoc, before: AffiliateStatsDoc | null = null): void {
  ctx.put(statsKeys.affiliate(doc.affiliateId), doc);
  const scores = sortScores(doc);
  const old = before ? sortScores(before) : null;
  for (const sort of SORT_KEYS) if (!old || old[sort] !== scores[sort]) ctx.zadd(statsKeys.rank(doc.programId, sort), doc.affiliateId, scores[sort]);
  // Clicks only grow, so the levels an affiliate belongs to only grow: those under its clicks are all of them.
  const levels = manyClicksLevels(doc.clicks);
  const wasActive = before !== null && before.status === 'active';
  if (doc.status === 'active') {
    if (!wasActive || before!.clicks !== doc.clicks) ctx.zadd(statsKeys.active(doc.programId), doc.affiliateId, doc.clicks);
    const rateMoved = !wasActive || old!.conversionRate !== scores.conversionRate;
    const knownLevels = wasActive ? manyClicksLevels(before!.clicks) : 0;
    for (let l = rateMoved ? 0 : knownLevels; l < levels; l++) ctx.zadd(statsKeys.manyClicks(doc.programId, l), doc.affiliateId, scores.conversionRate);
  } else if (wasActive || before === null) {
    ctx.zrem(statsKeys.active(doc.programId), doc.affiliateId);
    for (let l = 0; l < levels; l++) ctx.zrem(statsKeys.manyClicks(doc.programId, l), doc.affiliateId);
  }
}
