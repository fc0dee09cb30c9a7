import fc from 'fast-check';
import { InMemoryViewStore } from './in-memory.view-store';
import { ViewChange, ZEntry } from './view-store.port';

/** Walks a sorted set page by page with the `after` cursor, as the dashboard's list does. */
async function walk(store: InMemoryViewStore, key: string, order: 'asc' | 'desc', limit: number): Promise<ZEntry[]> {
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

describe('InMemoryViewStore', () => {
  describe('zrange', () => {
    const fill = async (entries: ZEntry[]) => {
      const store = new InMemoryViewStore();
      await store.commit('p', entries.map((e) => ({ op: 'zadd', key: 'rank', member: e.member, score: e.score })), 1);
      return store;
    };

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

    it('property: for any members and scores (many ties) and any page size, paging with the cursor walks every member exactly once, in order, both ways', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.record({ member: fc.string({ minLength: 1, maxLength: 4 }), score: fc.integer({ min: -3, max: 3 }) }), {
            selector: (e) => e.member,
            maxLength: 40,
          }),
          fc.integer({ min: 1, max: 7 }),
          async (entries, limit) => {
            const store = await fill(entries);
            const asc = [...entries].sort(byScoreThenMember);
            expect(await walk(store, 'rank', 'asc', limit)).toEqual(asc);
            expect(await walk(store, 'rank', 'desc', limit)).toEqual([...asc].reverse());
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('commit', () => {
    it('given puts, dels, zadds and zrems, when committed, then all apply and the checkpoint is set', async () => {
      const store = new InMemoryViewStore();
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
      expect(await store.zrange('rank', { order: 'asc', limit: 10 })).toEqual([{ member: 'a1', score: 1 }]);
      expect(await store.checkpoint('stats')).toBe(20);
      expect(await store.checkpoint('directory')).toBe(0);
    });
  });

  describe('contentHash', () => {
    const build = async (changes: ViewChange[]) => {
      const store = new InMemoryViewStore();
      for (const c of changes) await store.commit('p', [c], 1);
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
});
