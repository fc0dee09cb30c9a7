import { Injectable } from '@nestjs/common';
import { ValidationFailed } from '@lib/platform/errors';
import { ViewReader } from '@lib/views/view.reader';
import { ZEntry } from '@lib/views/view-store.port';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { settingsAt } from '@lib/programs/program.state';
import { distribution, Distribution, Insight, insightsFor, needsAttention } from './insights';
import {
  AffiliateStatsDoc,
  BucketDoc,
  bucketStart,
  bucketStartMs,
  DAY_MS,
  Held,
  conversionRate,
  owed,
  payable,
  ProgramTotalsDoc,
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

interface ProgramAnalysis {
  position: number;
  distribution: Distribution;
  attention: { affiliateId: string; clicks: number }[];
}

const MAX_POINTS = 2000;
/** holdDays is at most 365 (programs.dto.ts), so nothing is held further ahead than that. */
const MAX_HOLD_DAYS = 366;

/** Dashboard reads, all from the projected views; money figures that depend on "now" are derived here. */
@Injectable()
export class DashboardReader {
  private readonly analyses = new Map<string, ProgramAnalysis>();

  constructor(private readonly views: ViewReader, private readonly directory: DirectoryReader) {}

  async dashboard(programId: string, now: Date) {
    const program = await this.directory.requireProgram(programId);
    const totals = (await this.views.get<ProgramTotalsDoc>(statsProjection, statsKeys.program(programId))) ?? emptyTotals(programId);
    const analysis = await this.analyse(programId);
    const top = await this.views.zrange(statsProjection, statsKeys.rank(programId, 'commissionEarnedMinor'), { order: 'desc', limit: 5 });
    const attention = analysis.attention.slice(0, 10).map((a) => a.affiliateId);
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
      needsAttention: attentionDocs.map((d) => this.stats(d, analysis.distribution, nowMs)),
      freshness: await this.views.freshness(now),
    };
  }

  async list(programId: string, q: { sort: SortKey; order: 'asc' | 'desc'; limit: number; cursor?: string }, now: Date) {
    await this.directory.requireProgram(programId);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const entries = await this.views.zrange(statsProjection, statsKeys.rank(programId, q.sort), { order: q.order, after, limit: q.limit + 1 });
    const page = entries.slice(0, q.limit);
    const analysis = await this.analyse(programId);
    const docs = await this.docs(page.map((e) => e.member));
    return {
      items: docs.map((d) => this.stats(d, analysis.distribution, now.getTime())),
      nextCursor: entries.length > q.limit ? encodeCursor(page[page.length - 1]) : null,
      total: await this.views.zcard(statsProjection, statsKeys.rank(programId, q.sort)),
    };
  }

  async one(programId: string, affiliateId: string, now: Date): Promise<AffiliateStats> {
    await this.directory.requireAffiliate(programId, affiliateId);
    const doc = await this.views.get<AffiliateStatsDoc>(statsProjection, statsKeys.affiliate(affiliateId));
    return this.stats(doc!, (await this.analyse(programId)).distribution, now.getTime());
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

  /** The program's commissions still in their hold: held docs from today to the longest possible hold ahead. */
  private async programHeld(programId: string, nowMs: number): Promise<Held> {
    const today = bucketStartMs(nowMs, 'day');
    const keys = Array.from({ length: MAX_HOLD_DAYS + 2 }, (_, i) => statsKeys.held(programId, today + i * DAY_MS));
    return (await this.views.getMany<Held>(statsProjection, keys)).flatMap((h) => h ?? []);
  }

  private async docs(ids: string[]): Promise<AffiliateStatsDoc[]> {
    const docs = await this.views.getMany<AffiliateStatsDoc>(statsProjection, ids.map((id) => statsKeys.affiliate(id)));
    return docs.filter((d): d is AffiliateStatsDoc => d !== null);
  }

  /** The program's distribution, recomputed only when the views moved since the last request. */
  private async analyse(programId: string): Promise<ProgramAnalysis> {
    const position = await this.views.position();
    const cached = this.analyses.get(programId);
    if (cached && cached.position === position) return cached;
    const all = await this.views.zrange(statsProjection, statsKeys.rank(programId, 'clicks'), { order: 'desc', limit: Number.MAX_SAFE_INTEGER });
    const docs = (await this.docs(all.map((e) => e.member))).filter((d) => d.status === 'active');
    const totals = (await this.views.get<ProgramTotalsDoc>(statsProjection, statsKeys.program(programId))) ?? emptyTotals(programId);
    const dist = distribution(
      docs.map((d) => d.clicks),
      totals.clicks,
      totals.conversions,
    );
    const attention = docs.filter((d) => needsAttention(insightsFor(d, dist))).map((d) => ({ affiliateId: d.affiliateId, clicks: d.clicks }));
    const analysis = { position, distribution: dist, attention };
    this.analyses.set(programId, analysis);
    return analysis;
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
