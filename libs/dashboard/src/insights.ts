/**
 * Insights judge each affiliate against the program's own distribution, the way operator guides advise:
 * follow up with non-performers, learn from top performers. Pure: same figures in, same insights out.
 */
export interface Insight {
  code: 'high_clicks_low_conversions' | 'low_clicks' | 'high_conversion_rate';
  message: string;
}

export interface Distribution {
  /** Active affiliates compared; below MIN_PEERS there is no "program's own distribution" to judge against. */
  affiliates: number;
  medianClicks: number;
  p75Clicks: number;
  programConversionRate: number;
}

/** Fewer peers than this and any comparison is noise. */
export const MIN_PEERS = 2;
/** "Many clicks": at least the program's 75th percentile and at least this many, so 3 clicks is never "many". */
export const MIN_MANY_CLICKS = 20;
/** "Low conversions": under half the program's conversion rate. */
export const LOW_RATE_FACTOR = 0.5;
/** "Few clicks": under a quarter of the program's median. */
export const LOW_CLICKS_FACTOR = 0.25;
/** "High conversion rate": at least twice the program's rate, over at least this many conversions. */
export const HIGH_RATE_FACTOR = 2;
export const MIN_CONVERSIONS_FOR_HIGH_RATE = 3;

export function distribution(clicksOfActive: number[], totalClicks: number, totalConversions: number): Distribution {
  const sorted = [...clicksOfActive].sort((a, b) => a - b);
  const at = (q: number) => {
    const { lo, hi, fraction } = quantileRanks(sorted.length, q);
    return interpolate(sorted[lo], sorted[hi], fraction);
  };
  return distributionOf(sorted.length, sorted.length === 0 ? 0 : at(0.5), sorted.length === 0 ? 0 : at(0.75), totalClicks, totalConversions);
}

/** The distribution from figures read by rank out of a sorted index (the dashboard never reads every affiliate). */
export function distributionOf(affiliates: number, medianClicks: number, p75Clicks: number, totalClicks: number, totalConversions: number): Distribution {
  return {
    affiliates,
    medianClicks: affiliates === 0 ? 0 : medianClicks,
    p75Clicks: affiliates === 0 ? 0 : p75Clicks,
    programConversionRate: totalClicks === 0 ? 0 : totalConversions / totalClicks,
  };
}

/** Which ranks (0-based, ascending) the q-quantile of n values lies between, and how far between (linear interpolation). */
export function quantileRanks(n: number, q: number): { lo: number; hi: number; fraction: number } {
  const pos = Math.max(0, n - 1) * q;
  const lo = Math.floor(pos);
  return { lo, hi: Math.ceil(pos), fraction: pos - lo };
}

export function interpolate(low: number, high: number, fraction: number): number {
  return low + (high - low) * fraction;
}

const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;

export function insightsFor(a: { name: string; status: string; clicks: number; conversions: number }, d: Distribution): Insight[] {
  if (a.status !== 'active' || d.affiliates < MIN_PEERS) return [];
  const out: Insight[] = [];
  const rate = a.clicks === 0 ? 0 : a.conversions / a.clicks;
  if (a.clicks >= Math.max(d.p75Clicks, MIN_MANY_CLICKS) && d.programConversionRate > 0 && rate < d.programConversionRate * LOW_RATE_FACTOR) {
    out.push({
      code: 'high_clicks_low_conversions',
      message: `${a.name} sends many clicks (${a.clicks}) but converts at ${pct(rate)} against the program's ${pct(d.programConversionRate)}: check their traffic quality and that their link lands on a page that matches what they promote.`,
    });
  }
  if (d.medianClicks > 0 && a.clicks < d.medianClicks * LOW_CLICKS_FACTOR) {
    out.push({
      code: 'low_clicks',
      message: `${a.name} sent ${a.clicks} clicks, well under the program's median of ${Math.round(d.medianClicks)}: follow up, make sure they have their link and creatives, and offer help to get started.`,
    });
  }
  if (a.conversions >= MIN_CONVERSIONS_FOR_HIGH_RATE && d.programConversionRate > 0 && rate >= d.programConversionRate * HIGH_RATE_FACTOR) {
    out.push({
      code: 'high_conversion_rate',
      message: `${a.name} converts at ${pct(rate)}, ${(rate / d.programConversionRate).toFixed(1)}× the program's ${pct(d.programConversionRate)}: learn what works for them, share it with others, and consider a higher commission or more exposure.`,
    });
  }
  return out;
}

/** Insights that call for the operator to act (follow up), as opposed to good news. */
export function needsAttention(insights: Insight[]): boolean {
  return insights.some((i) => i.code === 'high_clicks_low_conversions' || i.code === 'low_clicks');
}
