import { RecordedEvent } from '@lib/event-store/event-store.port';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { namespaceOf } from '@lib/views/projection';
import { applyBatch } from '@lib/views/projection.runner';
import { DirectoryAffiliate, directoryKeys, directoryProjection, DirectoryStorefront } from './directory.projection';
import { evolveProgram, ProgramState, settingsAt } from './program.state';
import { changeProgramSettings, createProgram, enrollAffiliate } from './programs.decider';
import { ProgramSettings } from './programs.events';

const DAY = 86_400_000;
const T0 = Date.parse('2025-03-01T00:00:00.000Z');
const at = (days: number) => new Date(T0 + days * DAY).toISOString();
const ns = namespaceOf(directoryProjection);

const settings: ProgramSettings = {
  name: 'Trail Shoes',
  currency: 'EUR',
  defaultLandingUrl: 'https://shop.example.com/',
  allowedLandingHosts: [],
  cookieWindowDays: 30,
  commission: { type: 'percent', basisPoints: 1000 },
  holdDays: 14,
  minimumPayoutMinor: 5000,
};

/** Wraps events the way the store records them: global positions increasing, a revision per stream. */
function recorded(events: { streamId: string; data: { type: string; occurredAt: string } }[]): RecordedEvent[] {
  const revisions = new Map<string, number>();
  return events.map(({ streamId, data }, i) => {
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    return { id: `ev-${i + 1}`, streamId, revision, position: i + 1, type: data.type, schemaVersion: 1, data, metadata: {}, recordedAt: data.occurredAt };
  });
}

/** Two programs, a settings change, a storefront, an affiliate with status and override changes, a payout. */
function history() {
  const p1 = createProgram({ programId: 'p1', settings, now: at(0) });
  const p2 = createProgram({ programId: 'p2', settings: { ...settings, name: 'Rain Coats' }, now: at(1) });
  const state = evolveProgram(null, p1)!;
  const change = changeProgramSettings(state, { changes: { cookieWindowDays: 7 }, effectiveAt: at(10), now: at(2) });
  const [, enrolled] = enrollAffiliate(state, { affiliateId: 'a1', name: 'Alice', email: 'Alice@Example.com', code: 'AliceRuns', now: at(3) });
  const events = recorded([
    { streamId: 'program-p1', data: p1 },
    { streamId: 'program-p2', data: p2 },
    { streamId: 'program-p1', data: change },
    {
      streamId: 'program-p1',
      data: { type: 'StorefrontRegistered', programId: 'p1', storefrontId: 'sf1', name: 'EU shop', apiKeyHash: 'hash-of-key', occurredAt: at(2.5) } as never,
    },
    { streamId: 'affiliate-a1', data: enrolled },
    { streamId: 'affiliate-a1', data: { type: 'AffiliateStatusChanged', programId: 'p1', affiliateId: 'a1', status: 'suspended', occurredAt: at(4) } as never },
    {
      streamId: 'affiliate-a1',
      data: { type: 'AffiliateCommissionChanged', programId: 'p1', affiliateId: 'a1', commission: { type: 'flat', amountMinor: 700 }, occurredAt: at(5) } as never,
    },
    {
      streamId: 'affiliate-a1',
      data: {
        type: 'PayoutRecorded',
        programId: 'p1',
        affiliateId: 'a1',
        payoutId: 'po1',
        amountMinor: 6000,
        currency: 'EUR',
        reference: null,
        paidAt: at(6),
        occurredAt: at(6),
        idempotencyKey: 'k',
        requestHash: 'r',
      } as never,
    },
  ]);
  return { events, p1, change };
}

async function project(...batches: RecordedEvent[][]): Promise<InMemoryViewStore> {
  const store = new InMemoryViewStore();
  for (const batch of batches) await applyBatch(directoryProjection, batch, store);
  return store;
}

describe('directory projection', () => {
  it('given a program, its settings change and a storefront, when projected, then the program document is the folded program state', async () => {
    const { events, p1, change } = history();
    const store = await project(events);
    const program = (await store.get<ProgramState>(ns + directoryKeys.program('p1')))!;
    expect(program).toEqual({
      programId: 'p1',
      createdAt: at(0),
      created: p1.settings,
      changes: [{ version: 2, effectiveAt: at(10), changes: { cookieWindowDays: 7 }, occurredAt: change.occurredAt }],
      storefronts: [{ storefrontId: 'sf1', name: 'EU shop', occurredAt: at(2.5) }],
    });
    expect(settingsAt(program, at(11))).toMatchObject({ version: 2, settings: { cookieWindowDays: 7 } });
  });

  it('given two programs, when projected, then the programs sorted set lists them by creation time', async () => {
    const store = await project(history().events);
    expect(await store.zrange(ns + directoryKeys.programs, { order: 'asc', limit: 10 })).toEqual([
      { member: 'p1', score: T0 },
      { member: 'p2', score: T0 + DAY },
    ]);
  });

  it('given a registered storefront, when projected, then its API key hash finds it', async () => {
    const store = await project(history().events);
    expect(await store.get<DirectoryStorefront>(ns + directoryKeys.apiKey('hash-of-key'))).toEqual({ storefrontId: 'sf1', programId: 'p1', name: 'EU shop' });
    expect(await store.get(ns + directoryKeys.apiKey('some-other-hash'))).toBeNull();
  });

  it('given an enrolled affiliate later suspended and given an override, when projected, then the affiliate document shows both', async () => {
    const store = await project(history().events);
    expect(await store.get<DirectoryAffiliate>(ns + directoryKeys.affiliate('a1'))).toEqual({
      affiliateId: 'a1',
      programId: 'p1',
      name: 'Alice',
      email: 'alice@example.com',
      code: 'AliceRuns',
      landingUrl: null,
      commission: { type: 'flat', amountMinor: 700 },
      status: 'suspended',
      enrolledAt: at(3),
    });
  });

  it("given an affiliate's code in mixed case, when looked up in any case, then the code finds the affiliate", async () => {
    const store = await project(history().events);
    expect(directoryKeys.code('ALICERUNS')).toBe(directoryKeys.code('aliceruns'));
    expect(await store.get(ns + directoryKeys.code('ALICERUNS'))).toEqual({ affiliateId: 'a1', programId: 'p1' });
  });

  it('given a recorded payout, when projected, then the payout id finds its affiliate and program', async () => {
    const store = await project(history().events);
    expect(await store.get(ns + directoryKeys.payout('po1'))).toEqual({ affiliateId: 'a1', programId: 'p1' });
  });

  it('given a status change for an affiliate the directory does not know, when projected, then no document is invented', async () => {
    const events = recorded([
      { streamId: 'affiliate-ghost', data: { type: 'AffiliateStatusChanged', programId: 'p1', affiliateId: 'ghost', status: 'suspended', occurredAt: at(1) } as never },
    ]);
    const store = await project(events);
    expect(await store.get(ns + directoryKeys.affiliate('ghost'))).toBeNull();
    expect(await store.checkpoint('directory')).toBe(1);
  });

  it('given a history, when it is applied in one batch or split into batches anywhere, then the views have the same content hash', async () => {
    const { events } = history();
    const expected = await (await project(events)).contentHash(ns);
    for (let cut = 1; cut < events.length; cut++) {
      expect({ cut, hash: await (await project(events.slice(0, cut), events.slice(cut))).contentHash(ns) }).toEqual({ cut, hash: expected });
    }
    expect(await (await project(...events.map((e) => [e]))).contentHash(ns)).toBe(expected);
  });

  it('given a committed batch, when it is delivered again, then nothing changes (the settings history is not doubled)', async () => {
    const { events } = history();
    const store = await project(events.slice(0, 2), events.slice(2));
    const hash = await store.contentHash(ns);
    await applyBatch(directoryProjection, events.slice(2), store);
    expect(await store.contentHash(ns)).toBe(hash);
    expect(await store.checkpoint('directory')).toBe(events.length);
    expect((await store.get<ProgramState>(ns + directoryKeys.program('p1')))!.changes).toHaveLength(1);
  });
});
