import type { SortKey, SortOrder } from '../api/types';

/**
 * The affiliate table's sorting and paging state. The API pages by cursor, so going back means
 * remembering the cursors of the pages seen: `cursors[i]` opens page i (page 0 has none).
 */
export interface ListState {
  sort: SortKey;
  order: SortOrder;
  pageSize: number;
  search: string;
  cursors: (string | undefined)[];
  page: number;
}

export const PAGE_SIZES = [25, 50, 100] as const;

export function initialListState(): ListState {
  return { sort: 'clicks', order: 'desc', pageSize: 25, search: '', cursors: [undefined], page: 0 };
}

/** Sorting by another column starts it descending (largest first); the same column again flips it. Back to page 1. */
export function sortBy(state: ListState, sort: SortKey): ListState {
  const order: SortOrder = state.sort === sort ? (state.order === 'desc' ? 'asc' : 'desc') : 'desc';
  return { ...state, sort, order, cursors: [undefined], page: 0 };
}

export function setSorting(state: ListState, sort: SortKey, order: SortOrder): ListState {
  if (state.sort === sort && state.order === order) return state;
  return { ...state, sort, order, cursors: [undefined], page: 0 };
}

export function setPageSize(state: ListState, pageSize: number): ListState {
  return { ...state, pageSize, cursors: [undefined], page: 0 };
}

export function setSearch(state: ListState, search: string): ListState {
  return { ...state, search, cursors: [undefined], page: 0 };
}

/** Moves to the next page with the cursor the current page answered; no cursor: there is no next page. */
export function nextPage(state: ListState, nextCursor: string | null): ListState {
  if (nextCursor === null) return state;
  const cursors = state.cursors.slice(0, state.page + 1);
  cursors.push(nextCursor);
  return { ...state, cursors, page: state.page + 1 };
}

export function previousPage(state: ListState): ListState {
  if (state.page === 0) return state;
  return { ...state, page: state.page - 1 };
}

/** The query for the current page. A search answers its matches in one page, so it sends no cursor. */
export function pageQuery(state: ListState): { sort: SortKey; order: SortOrder; limit: number; cursor?: string; q?: string } {
  const q = state.search.trim();
  if (q) return { sort: state.sort, order: state.order, limit: state.pageSize, q };
  return { sort: state.sort, order: state.order, limit: state.pageSize, cursor: state.cursors[state.page] };
}

/** "Affiliates 26–50 of 120". */
export function pageRange(state: ListState, shown: number, total: number): string {
  if (shown === 0) return `No affiliates of ${total}`;
  const first = state.page * state.pageSize + 1;
  return `Affiliates ${first}–${first + shown - 1} of ${total}`;
}
