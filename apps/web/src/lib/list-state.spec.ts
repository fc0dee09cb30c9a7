import { initialListState, nextPage, pageQuery, pageRange, previousPage, setPageSize, setSearch, setSorting, sortBy } from './list-state';

describe('affiliate table: sorting and paging state', () => {
  it('given the first view, when its query is built, then it asks for the most clicks first, 25 a page, no cursor', () => {
    expect(pageQuery(initialListState())).toEqual({ sort: 'clicks', order: 'desc', limit: 25, cursor: undefined });
  });

  it('given pages walked forward with the cursors the API answered, when going back, then each page is asked with the cursor that opened it', () => {
    let s = initialListState();
    s = nextPage(s, 'c1');
    expect(pageQuery(s).cursor).toBe('c1');
    s = nextPage(s, 'c2');
    expect(s.page).toBe(2);
    expect(pageQuery(s).cursor).toBe('c2');
    s = previousPage(s);
    expect(pageQuery(s).cursor).toBe('c1');
    s = previousPage(s);
    expect(pageQuery(s).cursor).toBeUndefined();
    expect(previousPage(s)).toBe(s);
  });

  it('given a page went back, when going forward on a new answer, then the cursors after it are replaced', () => {
    let s = nextPage(nextPage(initialListState(), 'c1'), 'c2');
    s = nextPage(previousPage(s), 'c2-new');
    expect(s.cursors).toEqual([undefined, 'c1', 'c2-new']);
  });

  it('given the last page (no next cursor), when asked for the next, then nothing changes', () => {
    const s = initialListState();
    expect(nextPage(s, null)).toBe(s);
  });

  it('given a sorted column, when it is chosen again, then the order flips; another column starts descending; either goes back to page 1', () => {
    let s = nextPage(initialListState(), 'c1');
    s = sortBy(s, 'clicks');
    expect([s.sort, s.order, s.page, s.cursors]).toEqual(['clicks', 'asc', 0, [undefined]]);
    s = sortBy(s, 'clicks');
    expect(s.order).toBe('desc');
    s = sortBy(nextPage(s, 'c9'), 'conversionRate');
    expect([s.sort, s.order, s.page]).toEqual(['conversionRate', 'desc', 0]);
  });

  it('given the table asks for the sorting it already has, when set, then the state (and its page) stays', () => {
    const s = nextPage(initialListState(), 'c1');
    expect(setSorting(s, 'clicks', 'desc')).toBe(s);
    expect(setSorting(s, 'commissionOwedMinor', 'asc')).toMatchObject({ sort: 'commissionOwedMinor', order: 'asc', page: 0 });
  });

  it('given a new page size or search, when set, then paging restarts; a search sends q and no cursor', () => {
    const s = nextPage(initialListState(), 'c1');
    expect(setPageSize(s, 100)).toMatchObject({ pageSize: 100, page: 0, cursors: [undefined] });
    const searching = setSearch(s, '  jan ');
    expect(pageQuery(searching)).toEqual({ sort: 'clicks', order: 'desc', limit: 25, q: 'jan' });
    expect(pageQuery(setSearch(searching, '   '))).toEqual({ sort: 'clicks', order: 'desc', limit: 25, cursor: undefined });
  });

  it('given a page of rows, when its range is described, then it counts from the page’s first row', () => {
    const s = nextPage(initialListState(), 'c1');
    expect(pageRange(s, 25, 120)).toBe('Affiliates 26–50 of 120');
    expect(pageRange(initialListState(), 0, 0)).toBe('No affiliates of 0');
  });
});
