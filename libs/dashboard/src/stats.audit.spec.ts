import { EventStore, RecordedEvent } from '@lib/event-store/event-store.port';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { leaseKeyOf, namespaceOf, projectionIdOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { ConsistentRead, ViewChange, WriteGuard } from '@lib/views/view-store.port';
import { auditProgram } from './audit.service';
import { statsKeys, statsProjection } from './stats.projection';
import { at, DAY, richHistory } from './testing/stats-history';

const ns = namespaceOf(statsProjection);
const id = projectionIdOf(statsProjection);
const NOW = new Date(at(3 * DAY));

/** The event store as the audit reads it: the whole log, page by page. */
const storeOf = (events: RecordedEvent[]) =>
  ({ readAll: async ({ after, maxCount }: { after: number; maxCount: number }) => events.filter((e) => e.position > after).slice(0, maxCount) }) as unknown as EventStore;

/** Views built the way the projector builds them: into a registered namespace, swapped in, under a lease. */
async function projected(events: RecordedEvent[], views = new InMemoryViewStore()) {
  const token = (await views.acquireLease(leaseKeyOf(statsProjection), 'spec', 60_000))!;
  await views.registerBuild(id, ns);
  const guard: WriteGuard = { lease: { key: leaseKeyOf(statsProjection), token }, registry: { projection: id, role: 'building', namespace: ns } };
  if (events.length > 0) await applyBatch(statsProjection, events, views, { namespace: ns, checkpointName: ns, guard });
  await views.swap(id, guard);
  const apply = (batch: RecordedEvent[]) =>
    applyBatch(statsProjection, batch, views, { namespace: ns, checkpointName: ns, guard: { ...guard, registry: { ...guard.registry, role: 'active' } } });
  return { views, apply };
}

const corrupt = (views: InMemoryViewStore, change: ViewChange) => views.commit('corruption', [change], 1);

describe('the audit', () => {
  it('given views projected from every event, when audited, then every affiliate is checked and nothing mismatches', async () => {
    const events = richHistory();
    const { views } = await projected(events);
    expect(await auditProgram(storeOf(events), views, 'p1', NOW)).toEqual({
      programId: 'p1',
      position: events.length,
      checkedAt: NOW.toISOString(),
      affiliatesChecked: 2,
      mismatches: [],
    });
  });

  it('given views behind the log (the projector lags), when audited, then it compares with the events up to the views\' checkpoint: nothing mismatches', async () => {
    const events = richHistory();
    const { views } = await projected(events.slice(0, 9));
    const report = await auditProgram(storeOf(events), views, 'p1', NOW);
    expect(report).toMatchObject({ position: 9, mismatches: [] });
  });

  it('given views that move on while the audit reads them, when audited, then each read is compared at its own checkpoint: nothing mismatches', async () => {
    const events = richHistory();
    const moving = new (class extends InMemoryViewStore {
      next: (() => Promise<unknown>) | null = null;
      override async readConsistent(name: string, docs: string[], scores: [string, string][]): Promise<ConsistentRead> {
        const step = this.next;
        this.next = null;
        await step?.();
        return super.readConsistent(name, docs, scores);
      }
    })();
    const { apply } = await projected(events.slice(0, 6), moving);
    moving.next = () => apply(events.slice(6));
    const report = await auditProgram(storeOf(events), moving, 'p1', NOW);
    expect(report).toMatchObject({ position: events.length, mismatches: [] });
  });

  it.each<[string, (a1: any) => ViewChange, { field: string; viewValue: unknown; eventValue: unknown }[]]>([
    ['a click count', (a1) => ({ op: 'put', key: `${ns}${statsKeys.affiliate('a1')}`, value: { ...a1, clicks: a1.clicks + 1 } }), [{ field: 'clicks', viewValue: 3, eventValue: 2 }]],
    [
      'an earned balance',
      (a1) => ({ op: 'put', key: `${ns}${statsKeys.affiliate('a1')}`, value: { ...a1, earnedMinor: 1500 } }),
      [
        { field: 'commissionEarnedMinor', viewValue: 1500, eventValue: 1000 },
        { field: 'commissionOwedMinor', viewValue: 1500, eventValue: 1000 },
        // 1000 of it is still in its hold: the extra 500 would be payable now.
        { field: 'commissionPayableMinor', viewValue: 500, eventValue: 0 },
      ],
    ],
    ['a paid balance', (a1) => ({ op: 'put', key: `${ns}${statsKeys.affiliate('a1')}`, value: { ...a1, paidMinor: 1000 } }), [
      { field: 'commissionPaidMinor', viewValue: 1000, eventValue: 0 },
      { field: 'commissionOwedMinor', viewValue: 0, eventValue: 1000 },
    ]],
    ['a status', (a1) => ({ op: 'put', key: `${ns}${statsKeys.affiliate('a1')}`, value: { ...a1, status: 'suspended' } }), [{ field: 'status', viewValue: 'suspended', eventValue: 'active' }]],
    ['a sort score', () => ({ op: 'zadd', key: `${ns}${statsKeys.rank('p1', 'conversions')}`, member: 'a1', score: 7 }), [{ field: 'index.conversions', viewValue: 7, eventValue: 1 }]],
    ['a member missing from the active index', () => ({ op: 'zrem', key: `${ns}${statsKeys.active('p1')}`, member: 'a1' }), [{ field: 'index.active', viewValue: null, eventValue: 2 }]],
    ['a lost document', () => ({ op: 'del', key: `${ns}${statsKeys.affiliate('a1')}` }), [{ field: 'document', viewValue: null, eventValue: 'enrolled' }]],
  ])('given %s corrupted in the views, when audited, then each wrong field is named with its view value and its event value', async (_what, change, expected) => {
    const events = richHistory();
    const { views } = await projected(events);
    await corrupt(views, change(await views.get(`${ns}${statsKeys.affiliate('a1')}`)));
    const report = await auditProgram(storeOf(events), views, 'p1', NOW);
    expect(report.mismatches).toEqual(expected.map((m) => ({ affiliateId: 'a1', ...m })));
  });

  it("given the program's totals corrupted, when audited, then the program field is named with affiliate null", async () => {
    const events = richHistory();
    const { views } = await projected(events);
    const totals = await views.get<any>(`${ns}${statsKeys.program('p1')}`);
    await corrupt(views, { op: 'put', key: `${ns}${statsKeys.program('p1')}`, value: { ...totals, uniqueClicks: totals.uniqueClicks + 5 } });
    expect((await auditProgram(storeOf(events), views, 'p1', NOW)).mismatches).toEqual([
      { affiliateId: null, field: 'program.uniqueClicks', viewValue: totals.uniqueClicks + 5, eventValue: totals.uniqueClicks },
    ]);
  });
});
