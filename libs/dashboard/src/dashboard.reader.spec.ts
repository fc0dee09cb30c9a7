import fc from 'fast-check';
import { EventStore } from '@lib/event-store/event-store.port';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { leaseKeyOf, namespaceOf, projectionIdOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { loadViewsSettings } from '@lib/views/views.config';
import { ViewReader } from '@lib/views/view.reader';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { ProgramState } from '@lib/programs/program.state';
import { DashboardReader } from './dashboard.reader';
import { distribution, insightsFor } from './insights';
import { statsProjection } from './stats.projection';
import { at, attributedTo, DAY, log } from './testing/stats-history';

const program: ProgramState = {
  programId: 'p1',
  createdAt: at(0),
  created: {
    name: 'p1',
    currency: 'EUR',
    defaultLandingUrl: 'https://shop.example.com/',
    allowedLandingHosts: [],
    cookieWindowDays: 30,
    commission: { type: 'percent', basisPoints: 1000 },
    holdDays: 0,
    minimumPayoutMinor: 1000,
  },
  changes: [],
  storefronts: [],
};

interface Shape {
  clicks: number;
  conversions: number;
  suspended: boolean;
}

/** Projects a program whose affiliates have the given clicks, conversions and status; a reader over it. */
async function readerOver(shapes: Shape[]) {
  const h = log();
  shapes.forEach((s, i) => {
    const id = `a${String(i).padStart(3, '0')}`;
    h.enrolled(id);
    for (let c = 0; c < s.clicks; c++) h.click(id, at(c * 60_000), { visitor: `v${c}` });
    for (let k = 0; k < s.conversions; k++) h.conversion(`${id}-o${k}`, at(DAY + k), attributedTo(id));
    if (s.suspended) h.status(id, 'suspended', at(2 * DAY));
  });
  const views = new InMemoryViewStore();
  const id = projectionIdOf(statsProjection);
  const ns = namespaceOf(statsProjection);
  const token = (await views.acquireLease(leaseKeyOf(statsProjection), 'spec', 60_000))!;
  await views.registerBuild(id, ns);
  const guard = { lease: { key: leaseKeyOf(statsProjection), token }, registry: { projection: id, role: 'building' as const, namespace: ns } };
  await applyBatch(statsProjection, h.events, views, { namespace: ns, checkpointName: ns, guard });
  await views.swap(id, guard);
  const store = { headPosition: async () => h.events.length, readAll: async () => [] } as unknown as EventStore;
  const reader = new ViewReader(views, store, loadViewsSettings(null, {}), undefined, [statsProjection]);
  const directory = { requireProgram: async () => program, requireAffiliate: async () => ({}), link: (code: string) => `https://go.example/r/${code}` } as unknown as DirectoryReader;
  return new DashboardReader(reader, directory);
}

// Quiet affiliates (0–3 clicks) beside busy ones (15–90): both kinds of insight, and more than 10 to show.
const shape = fc.record({ clicks: fc.oneof({ arbitrary: fc.nat({ max: 3 }), weight: 1 }, { arbitrary: fc.integer({ min: 15, max: 90 }), weight: 3 }), share: fc.double({ min: 0, max: 0.5, noNaN: true }), suspended: fc.boolean() }).map(
  ({ clicks, share, suspended }): Shape => ({ clicks, conversions: Math.floor(clicks * share), suspended: suspended && clicks % 3 === 0 }),
);

describe('DashboardReader, reading the distribution and needsAttention from the indexes', () => {
  it('property: insights and needsAttention equal what judging every affiliate against the whole distribution gives (worst first)', async () => {
    const seen = { highClicksLowConversions: 0, lowClicks: 0, moreThanShown: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(shape, { minLength: 1, maxLength: 60, size: 'large' }), async (shapes) => {
        const dashboardReader = await readerOver(shapes);
        const now = new Date(at(3 * DAY));
        const ids = shapes.map((_, i) => `a${String(i).padStart(3, '0')}`);
        const active = shapes.filter((s) => !s.suspended);
        const totalClicks = shapes.reduce((n, s) => n + s.clicks, 0);
        const totalConversions = shapes.reduce((n, s) => n + s.conversions, 0);
        const dist = distribution(active.map((s) => s.clicks), totalClicks, totalConversions);
        const affiliates = shapes.map((s, i) => ({ id: ids[i], name: `Name of ${ids[i]}`, status: s.suspended ? 'suspended' : 'active', clicks: s.clicks, conversions: s.conversions }));

        for (const a of affiliates) expect((await dashboardReader.one('p1', a.id, now)).insights).toEqual(insightsFor(a, dist));

        const rate = (a: { clicks: number; conversions: number }) => (a.clicks === 0 ? 0 : a.conversions / a.clicks);
        const byIdAfter = (f: (a: (typeof affiliates)[number]) => number) => (x: (typeof affiliates)[number], y: (typeof affiliates)[number]) =>
          f(x) - f(y) || (x.id < y.id ? -1 : 1);
        const flagged = (code: string) => affiliates.filter((a) => insightsFor(a, dist).some((i) => i.code === code));
        const expected = [
          ...flagged('high_clicks_low_conversions').sort(byIdAfter(rate)),
          ...flagged('low_clicks').sort(byIdAfter((a) => a.clicks)),
        ].slice(0, 10);
        const dashboard = await dashboardReader.dashboard('p1', now);
        expect(dashboard.needsAttention.map((a) => a.id)).toEqual(expected.map((a) => a.id));
        seen.highClicksLowConversions += flagged('high_clicks_low_conversions').length > 0 ? 1 : 0;
        seen.lowClicks += flagged('low_clicks').length > 0 ? 1 : 0;
        seen.moreThanShown += expected.length === 10 ? 1 : 0;
      }),
      { numRuns: 40 },
    );
    // The generated programs did exercise both kinds of insight, and lists cut at 10.
    expect(seen.highClicksLowConversions).toBeGreaterThan(0);
    expect(seen.lowClicks).toBeGreaterThan(0);
    expect(seen.moreThanShown).toBeGreaterThan(0);
  });
});
