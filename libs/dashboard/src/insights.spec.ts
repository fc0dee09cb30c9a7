import fc from 'fast-check';
import { distribution, distributionOf, insightsFor, interpolate, MIN_MANY_CLICKS, MIN_PEERS, needsAttention, quantileRanks } from './insights';

/** Four active affiliates: one with many clicks, three with ten each; the program converts 10 %. */
const program = distribution([100, 10, 10, 10], 130, 13);

const affiliate = (over: Partial<{ name: string; status: string; clicks: number; conversions: number }>) => ({
  name: 'Alice',
  status: 'active',
  clicks: 10,
  conversions: 1,
  ...over,
});

const codes = (a: Parameters<typeof insightsFor>[0], d = program) => insightsFor(a, d).map((i) => i.code);

describe('distribution', () => {
  it("given the active affiliates' clicks, when the distribution is computed, then median, 75th percentile and the program's rate follow", () => {
    expect(program).toEqual({ affiliates: 4, medianClicks: 10, p75Clicks: 32.5, programConversionRate: 0.1 });
  });

  it('property: read by rank out of a sorted index (as the dashboard reads it), the distribution equals the one computed from every value', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 500 }), { maxLength: 60 }), fc.nat({ max: 100 }), (clicks, conversions) => {
        const sorted = [...clicks].sort((a, b) => a - b);
        const at = (q: number) => {
          const { lo, hi, fraction } = quantileRanks(sorted.length, q);
          return sorted.length === 0 ? 0 : interpolate(sorted[lo], sorted[hi], fraction);
        };
        const total = clicks.reduce((a, b) => a + b, 0);
        expect(distributionOf(sorted.length, at(0.5), at(0.75), total, conversions)).toEqual(distribution(clicks, total, conversions));
      }),
    );
  });

  it('given no clicks at all, when the distribution is computed, then the rate is 0 rather than NaN', () => {
    expect(distribution([], 0, 0)).toEqual({ affiliates: 0, medianClicks: 0, p75Clicks: 0, programConversionRate: 0 });
  });
});

describe('insightsFor', () => {
  it("given many clicks and a conversion rate under half the program's, then high_clicks_low_conversions naming the affiliate and the clicks", () => {
    const insights = insightsFor(affiliate({ name: 'Bob Traffic', clicks: 100, conversions: 2 }), program);
    expect(insights.map((i) => i.code)).toEqual(['high_clicks_low_conversions']);
    expect(insights[0].message).toContain('Bob Traffic');
    expect(insights[0].message).toContain('100');
    expect(insights[0].message).toContain('2.0%');
    expect(needsAttention(insights)).toBe(true);
  });

  it("given many clicks converting at the program's rate, then no insight", () => {
    expect(codes(affiliate({ clicks: 100, conversions: 10 }))).toEqual([]);
  });

  it('given a low rate but fewer clicks than the "many" floor, then no high_clicks_low_conversions', () => {
    const smallProgram = distribution([3, 1, 1, 1], 6, 3);
    expect(codes(affiliate({ clicks: MIN_MANY_CLICKS - 1, conversions: 0 }), smallProgram)).not.toContain('high_clicks_low_conversions');
    expect(codes(affiliate({ clicks: 3, conversions: 0 }), smallProgram)).not.toContain('high_clicks_low_conversions');
  });

  it("given clicks under a quarter of the program's median, then low_clicks naming the affiliate, the clicks and the median", () => {
    const insights = insightsFor(affiliate({ name: 'Carol Quiet', clicks: 2, conversions: 0 }), program);
    expect(insights.map((i) => i.code)).toEqual(['low_clicks']);
    expect(insights[0].message).toContain('Carol Quiet');
    expect(insights[0].message).toContain('2 clicks');
    expect(insights[0].message).toContain('median of 10');
    expect(needsAttention(insights)).toBe(true);
  });

  it('given clicks at a quarter of the median, then no low_clicks', () => {
    expect(codes(affiliate({ clicks: 3, conversions: 0 }), distribution([12, 12, 12], 36, 3))).not.toContain('low_clicks');
  });

  it("given at least 3 conversions at twice the program's rate or more, then high_conversion_rate naming the affiliate and the rates", () => {
    const insights = insightsFor(affiliate({ name: 'Dana Star', clicks: 10, conversions: 3 }), program);
    expect(insights.map((i) => i.code)).toEqual(['high_conversion_rate']);
    expect(insights[0].message).toContain('Dana Star');
    expect(insights[0].message).toContain('30.0%');
    expect(insights[0].message).toContain('3.0×');
    expect(needsAttention(insights)).toBe(false);
  });

  it('given a high rate over only 2 conversions, then no high_conversion_rate (too few to say)', () => {
    expect(codes(affiliate({ clicks: 4, conversions: 2 }))).toEqual([]);
  });

  it('given a suspended affiliate that would match every rule, then no insight', () => {
    expect(codes(affiliate({ status: 'suspended', clicks: 100, conversions: 2 }))).toEqual([]);
    expect(codes(affiliate({ status: 'suspended', clicks: 2, conversions: 0 }))).toEqual([]);
  });

  it(`given fewer than ${MIN_PEERS} active affiliates, then no insight (no distribution to judge against)`, () => {
    const alone = distribution([100], 100, 1);
    expect(alone.affiliates).toBeLessThan(MIN_PEERS);
    expect(codes(affiliate({ clicks: 100, conversions: 1 }), alone)).toEqual([]);
    expect(codes(affiliate({ clicks: 0, conversions: 0 }), distribution([], 0, 0))).toEqual([]);
  });
});
