import fc from 'fast-check';
import { LeaseLost, NamespaceRetired, ViewChange, ViewStore, WriteGuard, ZEntry } from './view-store.port';

/**
 * The view-store port's contract: one suite, run against every adapter (in-memory.view-store.spec.ts,
 * redis.view-store.int-spec.ts). `make` gives an empty store of the adapter each time.
 */
export function viewStoreContract(make: () => Promise<ViewStore>, release: (store: ViewStore) => Promise<void> = (s) => s.close()): void {
  const opened: ViewStore[] = [];
  const fresh = async () => {
    const store = await make();
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await release(s);
  });

  /** Walks a sorted set page by page with the `after` cursor, as the dashboard's list does. */
  async function walk(store: ViewStore, key: string, order: 'asc' | 'desc', limit: number): Promise<ZEntry[]> {
    const seen: ZEntry[] = [];
    let after: ZEntry | undefined;
    for (let pages = 0; pages < 10_000; pages++) {
      const page = await store.zrange(key, { order, after, limit });
      expect(page.length).toBeLessThanOrEqual(limit);
      if (page.length === 0) return seen;
      seen.push(...page);
      after = page[page.length - 1];
    }
    throw new Error('pagination does not end');
  }

  const byScoreThenMember = (a: ZEntry, b: ZEntry) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0);

  const fill = async (entries: ZEntry[], store?: ViewStore) => {
    const s = store ?? (await fresh());
    await s.commit('p', entries.map((e) => ({ op: 'zadd', key: 'rank', member: e.member, score: e.score })), 1);
    return s;
  };

  describe('zrange', () => {
    it('given ties on score, when read ascending and descending, then ties are broken by member', async () => {
      const store = await fill([
        { member: 'carol', score: 5 },
        { member: 'alice', score: 5 },
        { member: 'bob', score: 7 },
        { member: 'dave', score: 1 },
      ]);
      const members = async (order: 'asc' | 'desc') => (await store.zrange('rank', { order, limit: 10 })).map((e) => e.member);
      expect(await members('asc')).toEqual(['dave', 'alice', 'carol', 'bob']);
      expect(await members('desc')).toEqual(['bob', 'carol', 'alice', 'dave']);
    });

    it('given a cursor in the middle of a tie, when the next page is read, then it continues right after that member', async () => {
      const store = await fill(['a', 'b', 'c', 'd'].map((member) => ({ member, score: 3 })));
      expect(await store.zrange('rank', { order: 'asc', after: { member: 'b', score: 3 }, limit: 10 })).toEqual([
        { member: 'c', score: 3 },
        { member: 'd', score: 3 },
      ]);
      expect(await store.zrange('rank', { order: 'desc', after: { member: 'c', score: 3 }, limit: 10 })).toEqual([
        { member: 'b', score: 3 },
        { member: 'a', score: 3 },
      ]);
    });

    it('given the cursor member was removed between pages, when the next page is read, then it continues after where that member was', async () => {
      const store = await fill(['a', 'b', 'c', 'd'].map((member, i) => ({ member, score: i })));
      await store.commit('p', [{ op: 'zrem', key: 'rank', member: 'b' }], 2);
      expect((await store.zrange('rank', { order: 'asc', after: { member: 'b', score: 1 }, limit: 10 })).map((e) => e.member)).toEqual(['c', 'd']);
      expect((await store.zrange('rank', { order: 'desc', after: { member: 'b', score: 1 }, limit: 10 })).map((e) => e.member)).toEqual(['a']);
    });

    it('given the cursor member moved to another score between pages, when the next page is read, then it continues after where the cursor was', async () => {
      const store = await fill(['a', 'b', 'c', 'd', 'e'].map((member) => ({ member, score: 1 })));
      await store.commit('p', [{ op: 'zadd', key: 'rank', member: 'b', score: 9 }], 2);
      expect((await store.zrange('rank', { order: 'asc', after: { member: 'b', score: 1 }, limit: 10 })).map((e) => e.member)).toEqual(['c', 'd', 'e', 'b']);
      expect((await store.zrange('rank', { order: 'desc', after: { member: 'b', score: 1 }, limit: 10 })).map((e) => e.member)).toEqual(['a']);
    });

    it('given a member whose score changes, when read, then it appears once, at its new place', async () => {
      const store = await fill([
        { member: 'alice', score: 1 },
        { member: 'bob', score: 2 },
      ]);
      await store.commit('p', [{ op: 'zadd', key: 'rank', member: 'alice', score: 3 }], 2);
      expect(await store.zrange('rank', { order: 'desc', limit: 10 })).toEqual([
        { member: 'alice', score: 3 },
        { member: 'bob', score: 2 },
      ]);
      expect(await store.zcard('rank')).toBe(2);
    });

    it('given an empty or missing set or a limit of 0, when read, then nothing comes back', async () => {
      const store = await fill([{ member: 'a', score: 1 }]);
      expect(await store.zrange('missing', { order: 'asc', limit: 10 })).toEqual([]);
      expect(await store.zrange('rank', { order: 'asc', limit: 0 })).toEqual([]);
      await store.commit('p', [{ op: 'zrem', key: 'rank', member: 'a' }], 2);
      expect(await store.zrange('rank', { order: 'desc', limit: 10 })).toEqual([]);
    });

    it('given fractional scores, when read back, then each score is the same number that was written', async () => {
      const scores = [1 / 3, 2 / 3, 0.1 + 0.2, 1e-9, 123456.789];
      const store = await fill(scores.map((score, i) => ({ member: `m${i}`, score })));
      expect((await store.zrange('rank', { order: 'asc', limit: 10 })).map((e) => e.score)).toEqual([...scores].sort((a, b) => a - b));
    });

    it('property: for any members and scores (many ties) and any page size, paging with the cursor walks every member exactly once, in order, both ways', async () => {
      const store = await fresh();
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.record({ member: fc.string({ minLength: 1, maxLength: 4 }), score: fc.integer({ min: -3, max: 3 }) }), {
            selector: (e) => e.member,
            maxLength: 40,
          }),
          fc.integer({ min: 1, max: 7 }),
          async (entries, limit) => {
            const key = `rank:${round++}`;
            await store.commit('p', entries.map((e) => ({ op: 'zadd', key, member: e.member, score: e.score })), round);
            const asc = [...entries].sort(byScoreThenMember);
            expect(await walk(store, key, 'asc', limit)).toEqual(asc);
            expect(await walk(store, key, 'desc', limit)).toEqual([...asc].reverse());
          },
        ),
        { numRuns: 150 },
      );
    });
  });

  describe('order statistics and score ranges', () => {
    const entries = [3, 1, 4, 1, 5, 9, 2, 6].map((score, i) => ({ member: `a${i}`, score }));

    it('given a sorted set, when read by rank, then the entries at those 0-based ranks come back in ascending order', async () => {
      const store = await fill(entries);
      const sorted = [...entries].sort(byScoreThenMember);
      expect(await store.zrangeByRank('rank', 3, 4)).toEqual(sorted.slice(3, 5));
      expect(await store.zrangeByRank('rank', 7, 7)).toEqual([sorted[7]]);
      expect(await store.zrangeByRank('rank', 8, 9)).toEqual([]);
      expect(await store.zrangeByRank('missing', 0, 1)).toEqual([]);
    });

    it('given bounds, when read by score, then only scores inside them come back, in the order asked, up to the limit', async () => {
      const store = await fill(entries);
      const scores = async (range: Parameters<ViewStore['zrangeByScore']>[1]) => (await store.zrangeByScore('rank', range)).map((e) => e.score);
      expect(await scores({ max: 3, order: 'asc', limit: 10 })).toEqual([1, 1, 2, 3]);
      expect(await scores({ max: 3, exclusive: true, order: 'asc', limit: 10 })).toEqual([1, 1, 2]);
      expect(await scores({ min: 4, order: 'desc', limit: 2 })).toEqual([9, 6]);
      expect(await scores({ min: 2, max: 5, exclusive: true, order: 'desc', limit: 10 })).toEqual([4, 3]);
      expect(await scores({ order: 'asc', limit: 3 })).toEqual([1, 1, 2]);
      expect(await scores({ min: 100, order: 'asc', limit: 3 })).toEqual([]);
    });

    it('given a lexicographic index (all scores 0), when read by prefix, then the members starting with it come back in order, up to the limit', async () => {
      const store = await fresh();
      const members = ['jane\u0000a1', 'jane doe\u0000a2', 'janet\u0000a3', 'jan\u0000a4', 'jo\u0000a5', 'zoë\u0000a6', 'j\u0000a7'];
      await store.commit('p', members.map((member) => ({ op: 'zadd', key: 'lex', member, score: 0 })), 1);
      expect(await store.zrangeByPrefix('lex', 'jan', 10)).toEqual(['jan\u0000a4', 'jane\u0000a1', 'jane doe\u0000a2', 'janet\u0000a3']);
      expect(await store.zrangeByPrefix('lex', 'jane', 2)).toEqual(['jane\u0000a1', 'jane doe\u0000a2']);
      expect(await store.zrangeByPrefix('lex', 'zo', 10)).toEqual(['zoë\u0000a6']);
      expect(await store.zrangeByPrefix('lex', 'x', 10)).toEqual([]);
      expect(await store.zrangeByPrefix('lex', 'jan', 0)).toEqual([]);
      expect(await store.zrangeByPrefix('missing', 'jan', 10)).toEqual([]);
      await store.commit('p', [{ op: 'zrem', key: 'lex', member: 'jane\u0000a1' }], 2);
      expect(await store.zrangeByPrefix('lex', 'jane', 10)).toEqual(['jane doe\u0000a2', 'janet\u0000a3']);
    });

    it('given members, when their scores are asked, then each comes back or null when absent', async () => {
      const store = await fill(entries);
      expect(await store.zscores('rank', ['a5', 'nobody', 'a0'])).toEqual([9, null, 3]);
      expect(await store.zscores('missing', ['a5'])).toEqual([null]);
    });
  });

  describe('commit', () => {
    it('given puts, dels, zadds and zrems, when committed, then all apply and the checkpoint is set', async () => {
      const store = await fresh();
      expect(await store.checkpoint('stats')).toBe(0);
      await store.commit(
        'stats',
        [
          { op: 'put', key: 'doc:1', value: { clicks: 1 } },
          { op: 'put', key: 'doc:2', value: { clicks: 2 } },
          { op: 'zadd', key: 'rank', member: 'a1', score: 1 },
          { op: 'zadd', key: 'rank', member: 'a2', score: 2 },
        ],
        10,
      );
      await store.commit(
        'stats',
        [
          { op: 'put', key: 'doc:1', value: { clicks: 5 } },
          { op: 'del', key: 'doc:2' },
          { op: 'zrem', key: 'rank', member: 'a2' },
          { op: 'zrem', key: 'no-such-set', member: 'x' },
        ],
        20,
      );
      expect(await store.getMany(['doc:1', 'doc:2', 'doc:3'])).toEqual([{ clicks: 5 }, null, null]);
      expect(await store.get('doc:1')).toEqual({ clicks: 5 });
      expect(await store.zrange('rank', { order: 'asc', limit: 10 })).toEqual([{ member: 'a1', score: 1 }]);
      expect(await store.checkpoint('stats')).toBe(20);
      expect(await store.checkpoint('directory')).toBe(0);
    });

    it('given documents and scores, when read consistently, then they come with the checkpoint they reflect', async () => {
      const store = await fresh();
      await store.commit('ns', [
        { op: 'put', key: 'd1', value: { n: 1 } },
        { op: 'zadd', key: 'z', member: 'm', score: 4 },
      ], 7);
      expect(await store.readConsistent('ns', ['d1', 'd2'], [['z', 'm'], ['z', 'x']])).toEqual({ checkpoint: 7, docs: [{ n: 1 }, null], scores: [4, null] });
      expect(await store.readConsistent('ns', [], [])).toEqual({ checkpoint: 7, docs: [], scores: [] });
    });
  });

  describe('guarded commits, leases and namespaces', () => {
    const projection = 'stats:v9';
    const guardFor = (token: string, namespace: string, role: 'active' | 'building' = 'building'): WriteGuard => ({
      lease: { key: '{stats:v9}', token },
      registry: { projection, role, namespace },
    });
    const put = (value: number): ViewChange[] => [{ op: 'put', key: '{stats:v9}:doc', value }];

    it('given a free lease, when two holders ask for it, then the first gets a token and the second nothing until it is released', async () => {
      const store = await fresh();
      const first = await store.acquireLease('{stats:v9}', 'one', 10_000);
      expect(first).toEqual(expect.stringContaining('one'));
      expect(await store.acquireLease('{stats:v9}', 'two', 10_000)).toBeNull();
      expect(await store.leaseHolder('{stats:v9}')).toBe(first);
      expect(await store.renewLease('{stats:v9}', first!, 10_000)).toBe(true);
      await store.releaseLease('{stats:v9}', 'two#not-the-token');
      expect(await store.leaseHolder('{stats:v9}')).toBe(first);
      await store.releaseLease('{stats:v9}', first!);
      const second = await store.acquireLease('{stats:v9}', 'two', 10_000);
      expect(second).toEqual(expect.stringContaining('two'));
      expect(await store.renewLease('{stats:v9}', first!, 10_000)).toBe(false);
    });

    it('given a lease that expired, when its holder takes it again, then it gets a new token and writes under the old one are refused', async () => {
      const store = await fresh();
      const old = (await store.acquireLease('{stats:v9}', 'one', 100))!;
      await new Promise((r) => setTimeout(r, 250));
      expect(await store.renewLease('{stats:v9}', old, 10_000)).toBe(false);
      const again = (await store.acquireLease('{stats:v9}', 'one', 10_000))!;
      expect(again).not.toBe(old);
      await store.registerBuild(projection, '{stats:v9}:');
      await expect(store.commit('{stats:v9}:', put(1), 5, guardFor(old, '{stats:v9}:'))).rejects.toBeInstanceOf(LeaseLost);
      await store.commit('{stats:v9}:', put(2), 5, guardFor(again, '{stats:v9}:'));
      expect(await store.get('{stats:v9}:doc')).toBe(2);
    });

    it('given a guarded commit whose checkpoint the namespace already covers, when it is repeated, then nothing changes', async () => {
      const store = await fresh();
      const token = (await store.acquireLease('{stats:v9}', 'one', 10_000))!;
      await store.registerBuild(projection, '{stats:v9}:');
      await store.commit('{stats:v9}:', put(1), 10, guardFor(token, '{stats:v9}:'));
      await store.commit('{stats:v9}:', put(99), 10, guardFor(token, '{stats:v9}:'));
      await store.commit('{stats:v9}:', put(98), 9, guardFor(token, '{stats:v9}:'));
      expect(await store.get('{stats:v9}:doc')).toBe(1);
      expect(await store.checkpoint('{stats:v9}:')).toBe(10);
    });

    it('given a build that caught up, when swapped in, then reads move to it, the old namespace refuses writes, and it can be deleted', async () => {
      const store = await fresh();
      const live = (await store.acquireLease('{stats:v9}', 'live', 10_000))!;
      const rebuild = (await store.acquireLease('{stats:v9}:rebuild', 'rebuild', 10_000))!;
      const gen0 = '{stats:v9}:';
      expect(await store.registerBuild(projection, gen0)).toBe(true);
      await store.commit(gen0, [{ op: 'put', key: `${gen0}doc`, value: 'old' }, { op: 'zadd', key: `${gen0}z`, member: 'm', score: 1 }], 4, guardFor(live, gen0));
      expect(await store.swap(projection, guardFor(live, gen0))).toEqual({ swapped: true, retired: null });
      expect(await store.registry(projection)).toEqual({ active: gen0, building: null, generation: 0 });
      await store.commit(gen0, [{ op: 'put', key: `${gen0}doc`, value: 'live' }], 6, guardFor(live, gen0, 'active'));

      const generation = await store.nextGeneration(projection);
      expect(generation).toBe(1);
      const gen1 = '{stats:v9}-r1:';
      const rebuilding = (checkpoint: number, value: string) =>
        store.commit(gen1, [{ op: 'put', key: `${gen1}doc`, value }], checkpoint, { lease: { key: '{stats:v9}:rebuild', token: rebuild }, registry: { projection, role: 'building', namespace: gen1 } });
      const rebuildGuard: WriteGuard = { lease: { key: '{stats:v9}:rebuild', token: rebuild }, registry: { projection, role: 'building', namespace: gen1 } };
      expect(await store.registerBuild(projection, gen1)).toBe(true);
      expect(await store.registerBuild(projection, '{stats:v9}-r2:')).toBe(false);
      await rebuilding(5, 'rebuilt');
      expect(await store.swap(projection, rebuildGuard)).toEqual({ swapped: false, activeCheckpoint: 6, buildingCheckpoint: 5 });
      await rebuilding(6, 'rebuilt');
      expect(await store.swap(projection, rebuildGuard)).toEqual({ swapped: true, retired: gen0 });
      expect(await store.registry(projection)).toEqual({ active: gen1, building: null, generation: 1 });

      await expect(store.commit(gen0, put(7), 7, guardFor(live, gen0, 'active'))).rejects.toBeInstanceOf(NamespaceRetired);
      expect(await store.get(`${gen0}doc`)).toBe('live');
      expect(await store.deleteNamespace(gen0)).toBe(2);
      expect(await store.get(`${gen0}doc`)).toBeNull();
      expect(await store.checkpoint(gen0)).toBe(0);
      expect(await store.get(`${gen1}doc`)).toBe('rebuilt');
    });

    it('given a build that will not finish, when abandoned, then another can register, and a stale abandon changes nothing', async () => {
      const store = await fresh();
      expect(await store.registerBuild(projection, '{stats:v9}-r1:')).toBe(true);
      await store.abandonBuild(projection, '{stats:v9}-r0:');
      expect((await store.registry(projection)).building).toBe('{stats:v9}-r1:');
      await store.abandonBuild(projection, '{stats:v9}-r1:');
      expect(await store.registerBuild(projection, '{stats:v9}-r2:')).toBe(true);
    });
  });

  describe('contentHash', () => {
    const build = async (changes: ViewChange[]) => {
      const store = await fresh();
      let cp = 0;
      for (const c of changes) await store.commit('p', [c], ++cp);
      return store;
    };
    const content: ViewChange[] = [
      { op: 'put', key: 'ns:doc:1', value: { clicks: 3, name: 'Alice', nested: { b: 1, a: [1, 2] } } },
      { op: 'put', key: 'ns:doc:2', value: { clicks: 0 } },
      { op: 'zadd', key: 'ns:rank', member: 'a1', score: 3 },
      { op: 'zadd', key: 'ns:rank', member: 'a2', score: 0 },
    ];

    it('given equal content built in different orders (and object keys in another order), when hashed, then the hashes are equal', async () => {
      const one = await build(content);
      const reordered: ViewChange[] = [
        content[3],
        { op: 'put', key: 'ns:doc:2', value: { clicks: 0 } },
        content[2],
        { op: 'put', key: 'ns:doc:1', value: { nested: { a: [1, 2], b: 1 }, name: 'Alice', clicks: 3 } },
      ];
      const two = await build(reordered);
      expect(await two.contentHash('ns:')).toBe(await one.contentHash('ns:'));
    });

    it('given keys outside the prefix, when hashed, then they do not count', async () => {
      const one = await build(content);
      const two = await build([...content, { op: 'put', key: 'other:doc', value: 1 }, { op: 'zadd', key: 'other:rank', member: 'x', score: 1 }]);
      expect(await two.contentHash('ns:')).toBe(await one.contentHash('ns:'));
    });

    it('given the same content under two namespaces, when each is hashed, then the hashes are equal (keys count relative to the prefix)', async () => {
      const store = await build([...content, ...content.map((c) => ({ ...c, key: c.key.replace('ns:', 'ns2:') }))]);
      expect(await store.contentHash('ns2:')).toBe(await store.contentHash('ns:'));
    });

    it.each<[string, ViewChange]>([
      ['a document value', { op: 'put', key: 'ns:doc:2', value: { clicks: 1 } }],
      ['a sorted-set score', { op: 'zadd', key: 'ns:rank', member: 'a2', score: 1 }],
      ['an extra sorted-set member', { op: 'zadd', key: 'ns:rank', member: 'a3', score: 0 }],
      ['a deleted document', { op: 'del', key: 'ns:doc:2' }],
    ])('given content that differs in %s, when hashed, then the hashes differ', async (_what, change) => {
      const one = await build(content);
      const two = await build([...content, change]);
      expect(await two.contentHash('ns:')).not.toBe(await one.contentHash('ns:'));
    });
  });
}
