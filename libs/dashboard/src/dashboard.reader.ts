import { Injectable } from '@nestjs/common';
import { ValidationFailed } from '@lib/platform/errors';
import { ViewReader } from '@lib/views/view.reader';
import { ZEntry } from '@lib/views/view-store.port';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { settingsAt } from '@lib/programs/program.state';
import { CommissionRule } from '@lib/programs/programs.events';
import {
  Distribution,
  distributionOf,
  Insight,
  insightsFor,
  interpolate,
  LOW_CLICKS_FACTOR,
  LOW_RATE_FACTOR,
  MIN_MANY_CLICKS,
  MIN_PEERS,
  needsAttention,
  quantileRanks,
} from './insights';
import {
  AffiliateStatsDoc,
  BucketDoc,
  bucketStart,
  bucketStartMs,
  Held,
  conversionRate,
  manyClicksLevelFor,
  owed,
  payable,
  ProgramTotalsDoc,
  SEARCH_SEPARATOR,
  searchForm,
  SortKey,
  statsKeys,
  statsProjection,
} from './stats.projection';

export interface AffiliateStats {
  id: string;
  name: string;
  code: string;
  link: string;
  status: string;
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  conversions: number;
  conversionRate: number;
  commissionEarnedMinor: number;
  commissionPaidMinor: number;
  commissionOwedMinor: number;
  commissionPayableMinor: number;
  lastClickAt: string | null;
  lastConversionAt: string | null;
  insights: Insight[];
}

/** GET .../affiliates/{affiliateId}: the stats and the affiliate's enrolment (its commission override, null: the program's rule). */
export interface AffiliateDetail extends AffiliateStats {
  email: string;
  landingUrl: string | null;
  commission: CommissionRule | null;
  enrolledAt: string;
}

interface ProgramAnalysis {
  position: number;
  distribution: Distribution;
}

const MAX_POINTS = 2000;
/** Index members one search reads at most (limit ≤ 500, a few terms per affiliate). */
const MAX_SEARCH_MEMBERS = 4000;
/** needsAttention lists at most this many affiliates. */
const ATTENTION_LIMIT = 10;
/**
 * Candidates read from the many-clicks index per dashboard, at most: the index level holds affiliates with
 * at least half the "many clicks" bar, so a few of them fall short of it; this bounds that walk.
 */
const ATTENTION_SCAN_LIMIT = 1000;
/** holdDays is at most 365 (programs.dto.ts), so no more days than that are held ahead. */
const MAX_HOLD_DAYS = 366;

/** Dashboard reads, all from the projected views; money figures that depend on "now" are derived here. */
@Injectable()
export class DashboardReader {
  private readonly analyses = new Map<string, ProgramAnalysis>();

  constructor(private readonly views: ViewReader, private readonly directory: DirectoryReader) {}

  async dashboard(programId: string, now: Date) {
    const program = await this.directory.requireProgram(programId);
    const totals = (await this.views.get<ProgramTotalsDoc>(statsProjection, statsKeys.program(programId))) ?? emptyTotals(programId);
    const analysis = await this.analyse(programId, totals);
    const [top, attention] = await Promise.all([
      this.views.zrange(statsProjection, statsKeys.rank(programId, 'commissionEarnedMinor'), { order: 'desc', limit: 5 }),
      this.attention(programId, analysis.distribution),
    ]);
    const [topDocs, attentionDocs] = await Promise.all([this.docs(top.map((e) => e.member)), this.docs(attention)]);
    const nowMs = now.getTime();
    return {
      programId,
      currency: settingsAt(program, now.toISOString()).settings.currency,
      totals: {
        clicks: totals.clicks,
        uniqueClicks: totals.uniqueClicks,
        botClicks: totals.botClicks,
        conversions: totals.conversions,
        unattributedConversions: totals.unattributed,
        duplicateOrders: totals.duplicateOrders ?? 0,
        conversionRate: conversionRate(totals),
        commissionEarnedMinor: totals.earnedMinor,
        commissionPaidMinor: totals.paidMinor,
        commissionOwedMinor: owed(totals),
        commissionPayableMinor: payable(totals, await this.programHeld(programId, nowMs), nowMs),
      },
      topAffiliates: topDocs.map((d) => this.stats(d, analysis.distribution, nowMs)),
      needsAttention: attentionDocs.filter((d) => needsAttention(insightsFor(d, analysis.distribution))).map((d) => this.stats(d, analysis.distribution, nowMs)),
      freshness: await this.views.freshness(now, analysis.position),
    };
  }

  async list(programId: string, q: { sort: SortKey; order: 'asc' | 'desc'; limit: number; cursor?: string }, now: Date) {
    await this.directory.requireProgram(programId);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const entries = await this.views.zrange(statsProjection, statsKeys.rank(programId, q.sort), { order: q.order, after, limit: q.limit + 1 });
    const page = entries.slice(0, q.limit);
    const [analysis, docs] = await Promise.all([this.analyse(programId), this.docs(page.map((e) => e.member))]);
    return {
      items: docs.map((d) => this.stats(d, analysis.distribution, now.getTime())),
      nextCursor: entries.length > q.limit ? encodeCursor(page[page.length - 1]) : null,
      total: await this.views.zcard(statsProjection, statsKeys.rank(programId, q.sort)),
    };
  }

  /**
   * Affiliates whose name, a word of it, or code starts with `q`, from the search index (a prefix read, never
   * a scan): the first `limit` matches in the index's order, then sorted like the list.
   */
  async search(programId: string, q: { sort: SortKey; order: 'asc' | 'desc'; limit: number; q: string }, now: Date) {
    await this.directory.requireProgram(programId);
    const prefix = searchForm(q.q);
    if (prefix.length === 0) throw new ValidationFailed('the search is empty', [{ field: 'q', message: 'type part of a name or code' }]);
    // One affiliate can match by several terms (name, a word of it, code): read a few members per wanted result.
    const members = await this.views.zrangeByPrefix(statsProjection, statsKeys.search(programId), prefix, Math.min(q.limit * 8, MAX_SEARCH_MEMBERS));
    const ids = [...new Set(members.map((m) => m.slice(m.lastIndexOf(SEARCH_SEPARATOR) + 1)))].slice(0, q.limit);
    const [analysis, docs] = await Promise.all([this.analyse(programId), this.docs(ids)]);
    const nowMs = now.getTime();
    const sign = q.order === 'asc' ? 1 : -1;
    const items = docs
      .map((d) => this.stats(d, analysis.distribution, nowMs))
      .sort((a, b) => sign * (a[q.sort] - b[q.sort]) || (a.id < b.id ? -sign : a.id > b.id ? sign : 0));
    return { items, nextCursor: null, total: items.length };
  }

  /** One affiliate's stats, plus what the directory knows of it (the operator's affiliate page shows both). */
  async one(programId: string, affiliateId: string, now: Date): Promise<AffiliateDetail> {
    const a = await this.directory.requireAffiliate(programId, affiliateId);
    const doc = await this.views.get<AffiliateStatsDoc>(statsProjection, statsKeys.affiliate(affiliateId));
    const stats = this.stats(doc!, (await this.analyse(programId)).distribution, now.getTime());
    return { ...stats, email: a.email, landingUrl: a.landingUrl, commission: (a.commission as CommissionRule | null) ?? null, enrolledAt: a.enrolledAt };
  }

  async timeseries(programId: string, q: { metric: keyof BucketDoc; interval: 'hour' | 'day'; from?: string; to?: string }, now: Date) {
    await this.directory.requireProgram(programId);
    const step = q.interval === 'hour' ? 3_600_000 : 86_400_000;
    const to = Date.parse(bucketStart(q.to ?? now.toISOString(), q.interval));
    const from = Date.parse(bucketStart(q.from ?? new Date(to - (q.interval === 'hour' ? 47 : 29) * step).toISOString(), q.interval));
    if (from > to) throw new ValidationFailed('from is after to', [{ field: 'from', message: 'must not be later than to' }]);
    if ((to - from) / step + 1 > MAX_POINTS) {
      throw new ValidationFailed('the range has too many points', [{ field: 'from', message: `at most ${MAX_POINTS} ${q.interval}s per request` }]);
    }
    const starts: string[] = [];
    for (let t = from; t <= to; t += step) starts.push(new Date(t).toISOString());
    const buckets = await this.views.getMany<BucketDoc>(statsProjection, starts.map((s) => statsKeys.bucket(programId, q.interval, s)));
    return { metric: q.metric, interval: q.interval, points: starts.map((t, i) => ({ t, value: buckets[i]?.[q.metric] ?? 0 })) };
  }

  /** Affiliates whose payable balance reaches the program's minimum payout. */
  async payables(programId: string, now: Date) {
    const program = await this.directory.requireProgram(programId);
    const { settings } = settingsAt(program, now.toISOString());
    const threshold = Math.max(1, settings.minimumPayoutMinor);
    const items: { affiliateId: string; name: string; code: string; owedMinor: number; payableMinor: number }[] = [];
    let after: ZEntry | undefined;
    // payable ≤ owed, so walking the owed index downwards can stop at the first owed below the threshold.
    for (;;) {
      const page = await this.views.zrange(statsProjection, statsKeys.rank(programId, 'commissionOwedMinor'), { order: 'desc', after, limit: 500 });
      const eligible = page.filter((e) => e.score >= threshold);
      for (const d of await this.docs(eligible.map((e) => e.member))) {
        const p = payable(d, d.pending, now.getTime());
        if (p >= threshold) items.push({ affiliateId: d.affiliateId, name: d.name, code: d.code, owedMinor: owed(d), payableMinor: p });
      }
      if (eligible.length < page.length || page.length < 500) break;
      after = page[page.length - 1];
    }
    return { currency: settings.currency, minimumPayoutMinor: settings.minimumPayoutMinor, items };
  }

  /** The program's commissions still in their hold: the held documents of the days from today on. */
  private async programHeld(programId: string, nowMs: number): Promise<Held> {
    const days = await this.views.zrangeByScore(statsProjection, statsKeys.heldDays(programId), {
      min: bucketStartMs(nowMs, 'day'),
      order: 'asc',
      limit: MAX_HOLD_DAYS + 2,
    });
    if (days.length === 0) return [];
    return (await this.views.getMany<Held>(statsProjection, days.map((d) => statsKeys.held(programId, d.score)))).flatMap((h) => h ?? []);
  }

  private async docs(ids: string[]): Promise<AffiliateStatsDoc[]> {
    const docs = await this.views.getMany<AffiliateStatsDoc>(statsProjection, ids.map((id) => statsKeys.affiliate(id)));
    return docs.filter((d): d is AffiliateStatsDoc => d !== null);
  }

  /**
   * The program's distribution of clicks over its active affiliates, read by rank from the `active` index
   * (count, median, 75th percentile: a few O(log n) reads, never every affiliate). Kept while the views stay
   * at the same position.
   */
  private async analyse(programId: string, knownTotals?: ProgramTotalsDoc): Promise<ProgramAnalysis> {
    const position = await this.views.position();
    const cached = this.analyses.get(programId);
    if (cached && cached.position === position) return cached;
    const key = statsKeys.active(programId);
    const [n, totals] = await Promise.all([
      this.views.zcard(statsProjection, key),
      knownTotals ?? this.views.get<ProgramTotalsDoc>(statsProjection, statsKeys.program(programId)).then((t) => t ?? emptyTotals(programId)),
    ]);
    const at = async (q: number) => {
      const { lo, hi, fraction } = quantileRanks(n, q);
      const entries = await this.views.zrangeByRank(statsProjection, key, lo, hi);
      if (entries.length === 0) return 0;
      return interpolate(entries[0].score, entries[entries.length - 1].score, fraction);
    };
    const [median, p75] = n === 0 ? [0, 0] : await Promise.all([at(0.5), at(0.75)]);
    const analysis = { position, distribution: distributionOf(n, median, p75, totals.clicks, totals.conversions) };
    if (this.analyses.size > 1000) this.analyses.clear();
    this.analyses.set(programId, analysis);
    return analysis;
  }

  /**
   * Who needs the operator's attention, worst first, from the indexes: affiliates with many clicks and a low
   * conversion rate (lowest rate first), then affiliates with few clicks (fewest first). Bounded reads.
   */
  private async attention(programId: string, dist: Distribution): Promise<string[]> {
    if (dist.affiliates < MIN_PEERS) return [];
    const ids: string[] = [];
    if (dist.programConversionRate > 0) {
      const bar = Math.max(dist.p75Clicks, MIN_MANY_CLICKS);
      const maxRate = dist.programConversionRate * LOW_RATE_FACTOR;
      const index = statsKeys.manyClicks(programId, manyClicksLevelFor(bar));
      let after: ZEntry | undefined;
      for (let read = 0; ids.length < ATTENTION_LIMIT && read < ATTENTION_SCAN_LIMIT; ) {
        const page = (await this.views.zrange(statsProjection, index, { order: 'asc', after, limit: 100 })).filter((e) => e.score < maxRate);
        if (page.length === 0) break;
        read += page.length;
        const clicks = await this.views.zscores(statsProjection, statsKeys.active(programId), page.map((e) => e.member));
        page.forEach((e, i) => {
          if ((clicks[i] ?? 0) >= bar && ids.length < ATTENTION_LIMIT) ids.push(e.member);
        });
        if (page.length < 100) break;
        after = page[page.length - 1];
      }
    }
    if (ids.length < ATTENTION_LIMIT && dist.medianClicks > 0) {
      const few = await this.views.zrangeByScore(statsProjection, statsKeys.active(programId), {
        max: dist.medianClicks * LOW_CLICKS_FACTOR,
        exclusive: true,
        order: 'asc',
        limit: ATTENTION_LIMIT - ids.length,
      });
      for (const e of few) if (!ids.includes(e.member)) ids.push(e.member);
    }
    return ids;
  }

  private stats(d: AffiliateStatsDoc, dist: Distribution, nowMs: number): AffiliateStats {
    return {
      id: d.affiliateId,
      name: d.name,
      code: d.code,
      link: this.directory.link(d.code),
      status: d.status,
      clicks: d.clicks,
      uniqueClicks: d.uniqueClicks,
      botClicks: d.botClicks,
      conversions: d.conversions,
      conversionRate: conversionRate(d),
      commissionEarnedMinor: d.earnedMinor,
      commissionPaidMinor: d.paidMinor,
      commissionOwedMinor: owed(d),
      commissionPayableMinor: payable(d, d.pending, nowMs),
      lastClickAt: d.lastClickAt,
      lastConversionAt: d.lastConversionAt,
      insights: insightsFor(d, dist),
    };
  }
}

function emptyTotals(programId: string): ProgramTotalsDoc {
  return { programId, unattributed: 0, duplicateOrders: 0, clicks: 0, uniqueClicks: 0, botClicks: 0, conversions: 0, earnedMinor: 0, paidMinor: 0 };
}

function encodeCursor(e: ZEntry): string {
  return Buffer.from(JSON.stringify([e.score, e.member])).toString('base64url');
}

function decodeCursor(cursor: string): ZEntry {
  try {
    const [score, member] = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (typeof score === 'number' && typeof member === 'string') return { score, member };
  } catch {
    // fall through to the error below
  }
  throw new ValidationFailed('the cursor is not valid', [{ field: 'cursor', message: 'pass nextCursor from the previous page unchanged' }]);
}
