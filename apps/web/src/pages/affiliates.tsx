import { FormEvent, useMemo, useState } from 'react';
import { Link } from 'wouter';
import { createColumnHelper, rowSortingFeature, tableFeatures, useTable, type SortingState, type Updater } from '@tanstack/react-table';
import { useApi } from '../app';
import type { Affiliate, AffiliateStats, Program, SortKey } from '../api/types';
import { InsightBadges } from '../components/insights';
import { SORT_KEYS } from '../api/types';
import { CopyButton, Empty, ErrorBox, Field, Loading, Money, useLoad } from '../components/common';
import { formatCount, formatRate } from '../lib/format';
import { initialListState, nextPage, pageQuery, pageRange, PAGE_SIZES, previousPage, setPageSize, setSearch, setSorting } from '../lib/list-state';
import { describeError } from '../lib/messages';

const features = tableFeatures({ rowSortingFeature });
const column = createColumnHelper<typeof features, AffiliateStats>();
const isSortKey = (id: string): id is SortKey => (SORT_KEYS as readonly string[]).includes(id);

export function AffiliatesPage({ program }: { program: Program }) {
  const api = useApi();
  const [state, setState] = useState(initialListState);
  const [searchText, setSearchText] = useState('');
  const [created, setCreated] = useState(0);
  const query = pageQuery(state);
  const page = useLoad(() => api.affiliates(program.id, query), [api, program.id, JSON.stringify(query), created]);
  const currency = program.currency;

  const columns = useMemo(
    () =>
      column.columns([
        column.accessor('name', { header: 'Name', enableSorting: false, cell: (c) => <Link href={`/affiliates/${c.row.original.id}`}>{c.getValue()}</Link> }),
        column.accessor('code', { header: 'Code', enableSorting: false, cell: (c) => <code>{c.getValue()}</code> }),
        column.accessor('link', {
          header: 'Link',
          enableSorting: false,
          cell: (c) => (
            <span className="link-cell">
              <span className="truncate" title={c.getValue()}>
                {c.getValue()}
              </span>{' '}
              <CopyButton text={c.getValue()} label={`Copy ${c.row.original.name}'s link`} />
            </span>
          ),
        }),
        column.accessor('clicks', { header: 'Clicks', cell: (c) => formatCount(c.getValue()) }),
        column.accessor('conversions', { header: 'Conversions', cell: (c) => formatCount(c.getValue()) }),
        column.accessor('conversionRate', { header: 'Conv. rate', cell: (c) => formatRate(c.getValue()) }),
        column.accessor('commissionEarnedMinor', { header: 'Earned', cell: (c) => <Money minor={c.getValue()} currency={currency} /> }),
        column.accessor('commissionPaidMinor', { header: 'Paid', enableSorting: false, cell: (c) => <Money minor={c.getValue()} currency={currency} /> }),
        column.accessor('commissionOwedMinor', { header: 'Owed', cell: (c) => <Money minor={c.getValue()} currency={currency} /> }),
        column.accessor('status', { header: 'Status', enableSorting: false, cell: (c) => <span className={`status ${c.getValue()}`}>{c.getValue()}</span> }),
        column.accessor('insights', { header: 'Insights', enableSorting: false, cell: (c) => <InsightBadges insights={c.getValue()} /> }),
      ]),
    [currency],
  );
  const sorting: SortingState = useMemo(() => [{ id: state.sort, desc: state.order === 'desc' }], [state.sort, state.order]);
  const onSortingChange = (updater: Updater<SortingState>) => {
    const next = typeof updater === 'function' ? updater(sorting) : updater;
    const first = next[0];
    if (first && isSortKey(first.id)) setState((s) => setSorting(s, first.id as SortKey, first.desc ? 'desc' : 'asc'));
  };
  const rows = page.data?.items ?? NO_ROWS;
  const table = useTable({
    features,
    columns,
    data: rows,
    getRowId: (row) => row.id,
    state: { sorting },
    onSortingChange,
    manualSorting: true,
    enableMultiSort: false,
    enableSortingRemoval: false,
    sortDescFirst: true,
  });

  const searching = state.search.trim() !== '';
  const submitSearch = (e: FormEvent) => {
    e.preventDefault();
    setState((s) => setSearch(s, searchText));
  };

  return (
    <>
      <h1>Affiliates</h1>
      <form className="toolbar" role="search" onSubmit={submitSearch}>
        <label>
          Search by name or code{' '}
          <input type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} placeholder="e.g. jane or jane-2024" />
        </label>
        <button type="submit">Search</button>
        {searching && (
          <button
            type="button"
            onClick={() => {
              setSearchText('');
              setState((s) => setSearch(s, ''));
            }}
          >
            Show all
          </button>
        )}
      </form>
      {page.loading && <Loading what="affiliates" />}
      {page.error != null && <ErrorBox error={page.error} retry={page.reload} />}
      {page.data && rows.length === 0 && (
        <Empty>
          {searching
            ? `No affiliate's name or code starts with "${state.search.trim()}". Check the spelling, or show all.`
            : 'No affiliates yet: enroll the first one with the form below, then share their link.'}
        </Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="affiliates" aria-label="Affiliates">
            <thead>
              {table.getHeaderGroups().map((group) => (
                <tr key={group.id}>
                  {group.headers.map((header) => {
                    const sorted = header.column.getIsSorted();
                    const numeric = !['name', 'code', 'link', 'status', 'insights'].includes(header.column.id);
                    return (
                      <th
                        key={header.id}
                        scope="col"
                        className={numeric ? 'num' : undefined}
                        aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                      >
                        {header.column.getCanSort() ? (
                          <button type="button" className="sort" onClick={header.column.getToggleSortingHandler()}>
                            <table.FlexRender header={header} /> {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                          </button>
                        ) : (
                          <table.FlexRender header={header} />
                        )}
                      </th>
                    );
                  })}
                </tr>
              ))}
            </thead>
            <tbody>
              {table.getRowModel().rows.map((row) => (
                <tr key={row.id} data-code={row.original.code}>
                  {row.getAllCells().map((cell) => (
                    <td key={cell.id} className={['name', 'code', 'link', 'status', 'insights'].includes(cell.column.id) ? undefined : 'num'} data-col={cell.column.id}>
                      <table.FlexRender cell={cell} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.data && (
        <div className="toolbar pager">
          <span>{searching ? `${rows.length} ${rows.length === 1 ? 'match' : 'matches'}` : pageRange(state, rows.length, page.data.total)}</span>
          {!searching && (
            <>
              <button type="button" onClick={() => setState(previousPage)} disabled={state.page === 0}>
                Previous page
              </button>
              <button type="button" onClick={() => setState((s) => nextPage(s, page.data!.nextCursor))} disabled={page.data.nextCursor === null}>
                Next page
              </button>
            </>
          )}
          <label>
            Rows per page{' '}
            <select value={state.pageSize} onChange={(e) => setState((s) => setPageSize(s, Number(e.target.value)))}>
              {PAGE_SIZES.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
        </div>
      )}
      <EnrollForm programId={program.id} onEnrolled={() => setCreated((n) => n + 1)} />
    </>
  );
}

const NO_ROWS: AffiliateStats[] = [];

function EnrollForm({ programId, onEnrolled }: { programId: string; onEnrolled: () => void }) {
  const api = useApi();
  const [f, setF] = useState({ name: '', email: '', code: '', landingUrl: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [enrolled, setEnrolled] = useState<Affiliate | null>(null);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const a = await api.enroll(programId, {
        name: f.name.trim(),
        email: f.email.trim(),
        ...(f.code.trim() ? { code: f.code.trim() } : {}),
        ...(f.landingUrl.trim() ? { landingUrl: f.landingUrl.trim() } : {}),
      });
      setEnrolled(a);
      setF({ name: '', email: '', code: '', landingUrl: '' });
      onEnrolled();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="enroll">
      <h2 id="enroll">Enroll an affiliate</h2>
      <form onSubmit={submit} className="grid-form">
        <Field label="Name">
          <input value={f.name} onChange={set('name')} required maxLength={200} />
        </Field>
        <Field label="Email">
          <input type="email" value={f.email} onChange={set('email')} required />
        </Field>
        <Field label="Code (optional)" hint="3–32 letters, digits, _ or -; generated when empty">
          <input value={f.code} onChange={set('code')} pattern="[A-Za-z0-9_\-]{3,32}" />
        </Field>
        <Field label="Landing page (optional)" hint="Default: the program's landing page">
          <input type="url" value={f.landingUrl} onChange={set('landingUrl')} />
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Enrolling…' : 'Enroll affiliate'}
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
      {enrolled && (
        <div className="notice" role="status">
          <p>
            {enrolled.name} is enrolled. Their link: <a href={enrolled.link}>{enrolled.link}</a> <CopyButton text={enrolled.link} label="Copy the new link" />
          </p>
          <p>
            <Link href={`/affiliates/${enrolled.id}`}>Open {enrolled.name}'s page</Link>
          </p>
        </div>
      )}
    </section>
  );
}
