import { EventStore } from '@lib/event-store/event-store.port';
import { leaseKeyOf, namespaceOf, projectionIdOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { loadViewsSettings } from '@lib/views/views.config';
import { ViewReader } from '@lib/views/view.reader';
import { ViewStore } from '@lib/views/view-store.port';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { DashboardReader } from '../dashboard.reader';
import { statsProjection } from '../stats.projection';
import { at, attributedTo, DAY, log } from './stats-history';

const AFFILIATES = [
  { id: 'a1', name: 'Jane Doe', code: 'jane-2024', clicks: 5, conversions: 1 },
  { id: 'a2', name: 'Janet Lee', code: 'jl', clicks: 9, conversions: 3 },
  { id: 'a3', name: 'Bob Janeway', code: 'bobby', clicks: 1, conversions: 0 },
  { id: 'a4', name: 'Zoë Ünal', code: 'ZOE_1', clicks: 0, conversions: 0 },
  { id: 'a5', name: 'Outdoor Shop', code: 'janitor', clicks: 2, conversions: 2 },
];

/**
 * The affiliate search through the DashboardReader, run against a view store adapter (affiliate-search.spec.ts:
 * in memory; affiliate-search.int-spec.ts: Redis): the same answers from both.
 */
export function affiliateSearchSpec(open: () => Promise<ViewStore>, release: (s: ViewStore) => Promise<void>): void {
  let views: ViewStore;
  let reader: DashboardReader;
  const now = new Date(at(3 * DAY));

  beforeAll(async () => {
    const h = log();
    for (const a of AFFILIATES) {
      h.enrolled(a.id, at(0), { name: a.name, code: a.code });
      for (let c = 0; c < a.clicks; c++) h.click(a.id, at(c * 60_000), { visitor: `v${c}` });
      for (let k = 0; k < a.conversions; k++) h.conversion(`${a.id}-o${k}`, at(DAY + k), attributedTo(a.id));
    }
    views = await open();
    const id = projectionIdOf(statsProjection);
    const ns = namespaceOf(statsProjection);
    const token = (await views.acquireLease(leaseKeyOf(statsProjection), 'spec', 60_000))!;
    await views.registerBuild(id, ns);
    const guard = { lease: { key: leaseKeyOf(statsProjection), token }, registry: { projection: id, role: 'building' as const, namespace: ns } };
    await applyBatch(statsProjection, h.events, views, { namespace: ns, checkpointName: ns, guard });
    await views.swap(id, guard);
    const store = { headPosition: async () => h.events.length, readAll: async () => [] } as unknown as EventStore;
    const viewReader = new ViewReader(views, store, loadViewsSettings(null, {}), undefined, [statsProjection]);
    const directory = { requireProgram: async () => ({}), link: (code: string) => `https://go.example/r/${code}` } as unknown as DirectoryReader;
    reader = new DashboardReader(viewReader, directory);
  });
  afterAll(() => release(views));

  const search = async (q: string, opts: { sort?: 'clicks' | 'conversionRate'; order?: 'asc' | 'desc'; limit?: number } = {}) =>
    (await reader.search('p1', { sort: opts.sort ?? 'clicks', order: opts.order ?? 'desc', limit: opts.limit ?? 50, q }, now)).items.map((i) => i.id);

  it('given a prefix of names, words of names and codes, when searched, then every affiliate any of them starts with comes back once, sorted', async () => {
    // "jan": Jane Doe (name), Janet Lee (name), Bob Janeway (a word of the name), Outdoor Shop (code janitor).
    expect(await search('jan')).toEqual(['a2', 'a1', 'a5', 'a3']);
    expect(await search('jan', { order: 'asc' })).toEqual(['a3', 'a5', 'a1', 'a2']);
    expect(await search('jan', { sort: 'conversionRate' })).toEqual(['a5', 'a2', 'a1', 'a3']);
  });

  it('given any case, accents or extra spaces, when searched, then it matches as typed in lower case', async () => {
    expect(await search('JANE')).toEqual(['a2', 'a1', 'a3']);
    expect(await search('  jane   doe ')).toEqual(['a1']);
    expect(await search('zoë')).toEqual(['a4']);
    expect(await search('ünal')).toEqual(['a4']);
    expect(await search('zoe_')).toEqual(['a4']);
    expect(await search('jane-2')).toEqual(['a1']);
  });

  it('given a prefix nobody has, or a middle of a word, when searched, then nothing comes back', async () => {
    expect(await search('xyz')).toEqual([]);
    expect(await search('anet')).toEqual([]);
  });

  it('given a limit, when more affiliates match, then at most that many come back, with their stats and no cursor', async () => {
    const page = await reader.search('p1', { sort: 'clicks', order: 'desc', limit: 2, q: 'jan' }, now);
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).toBeNull();
    expect(page.items.every((i) => typeof i.clicks === 'number' && i.link.startsWith('https://go.example/r/'))).toBe(true);
  });
}
