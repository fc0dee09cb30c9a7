import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import { useApi } from '../app';
import type { AffiliateStats, Interval, Program, Totals } from '../api/types';
import { TimeChart } from '../components/lazy-chart';
import { Empty, ErrorBox, Loading, Money, useLoad } from '../components/common';
import { formatCount, formatLag, formatRate } from '../lib/format';
import { InsightBadges } from '../components/insights';

const RANGES: Record<Interval, { label: string; points: number }[]> = {
  day: [
    { label: 'Last 7 days', points: 7 },
    { label: 'Last 30 days', points: 30 },
    { label: 'Last 90 days', points: 90 },
  ],
  hour: [
    { label: 'Last 24 hours', points: 24 },
    { label: 'Last 48 hours', points: 48 },
    { label: 'Last 7 days', points: 168 },
  ],
};

export function DashboardPage({ program }: { program: Program }) {
  const api = useApi();
  const dash = useLoad(() => api.dashboard(program.id), [api, program.id]);
  if (dash.loading && !dash.data) return <Loading what="the dashboard" />;
  if (dash.error != null || !dash.data) return <ErrorBox error={dash.error} retry={dash.reload} />;
  const d = dash.data;
  return (
    <>
      <h1>{program.name}</h1>
      <p className="freshness" data-testid="freshness">
        Figures are {formatLag(d.freshness.lagMs)} (events up to #{formatCount(d.freshness.position)} of {formatCount(d.freshness.headPosition)}).{' '}
        <button type="button" className="link-button" onClick={dash.reload}>
          Refresh
        </button>
      </p>
      <Metrics totals={d.totals} currency={d.currency} />
      {d.totals.clicks === 0 && (
        <Empty>
          No clicks yet: share an affiliate's link (<Link href="/affiliates">Affiliates</Link> lists them, and enrolls new ones).
        </Empty>
      )}
      <Activity programId={program.id} currency={d.currency} />
      <section aria-labelledby="attention">
        <h2 id="attention">Affiliates that need attention</h2>
        {d.needsAttention.length === 0 ? (
          <Empty>Nobody stands out right now: insights appear once at least a few active affiliates have clicks to compare.</Empty>
        ) : (
          <ul className="attention">
            {d.needsAttention.map((a) => (
              <AttentionItem key={a.id} a={a} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="top">
        <h2 id="top">Top affiliates by commission</h2>
        {d.topAffiliates.length === 0 ? (
          <Empty>
            No affiliates yet: <Link href="/affiliates">enroll the first one</Link> and share their link.
          </Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Affiliate</th>
                <th scope="col" className="num">Clicks</th>
                <th scope="col" className="num">Conversions</th>
                <th scope="col" className="num">Rate</th>
                <th scope="col" className="num">Earned</th>
              </tr>
            </thead>
            <tbody>
              {d.topAffiliates.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Link href={`/affiliates/${a.id}`}>{a.name}</Link>
                  </td>
                  <td className="num">{formatCount(a.clicks)}</td>
                  <td className="num">{formatCount(a.conversions)}</td>
                  <td className="num">{formatRate(a.conversionRate)}</td>
                  <td className="num">
                    <Money minor={a.commissionEarnedMinor} currency={d.currency} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function Metrics({ totals, currency }: { totals: Totals; currency: string }) {
  const items: [string, string, React.ReactNode][] = [
    ['clicks', 'Clicks', formatCount(totals.clicks)],
    ['unique-clicks', 'Unique clicks', formatCount(totals.uniqueClicks)],
    ['conversions', 'Conversions', formatCount(totals.conversions)],
    ['conversion-rate', 'Conversion rate', formatRate(totals.conversionRate)],
    ['earned', 'Commission earned', <Money minor={totals.commissionEarnedMinor} currency={currency} />],
    ['owed', 'Owed', <Money minor={totals.commissionOwedMinor} currency={currency} />],
    ['paid', 'Paid', <Money minor={totals.commissionPaidMinor} currency={currency} />],
    ['payable', 'Payable now', <Money minor={totals.commissionPayableMinor} currency={currency} />],
  ];
  return (
    <dl className="metrics">
      {items.map(([id, label, value]) => (
        <div key={id} data-testid={`metric-${id}`}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function AttentionItem({ a }: { a: AffiliateStats }) {
  return (
    <li>
      <Link href={`/affiliates/${a.id}`}>{a.name}</Link> <InsightBadges insights={a.insights} />
      {a.insights.map((i) => (
        <p key={i.code}>{i.message}</p>
      ))}
      <Link href={`/affiliates/${a.id}`} className="act">
        Open {a.name}'s page to act
      </Link>
    </li>
  );
}

function Activity({ programId, currency }: { programId: string; currency: string }) {
  const api = useApi();
  const [interval, setBucket] = useState<Interval>('day');
  const [rangeIndex, setRangeIndex] = useState(1);
  const range = RANGES[interval][rangeIndex];
  const series = useLoad(async () => {
    const step = interval === 'hour' ? 3_600_000 : 86_400_000;
    const to = new Date();
    const from = new Date(to.getTime() - (range.points - 1) * step);
    const q = { interval, from: from.toISOString(), to: to.toISOString() };
    const [clicks, conversions, commission] = await Promise.all([
      api.timeseries(programId, { ...q, metric: 'clicks' }),
      api.timeseries(programId, { ...q, metric: 'conversions' }),
      api.timeseries(programId, { ...q, metric: 'commission' }),
    ]);
    return { clicks, conversions, commission };
  }, [api, programId, interval, range.points]);
  const chart = useMemo(() => {
    if (!series.data) return null;
    const { clicks, conversions, commission } = series.data;
    return {
      times: clicks.points.map((p) => Date.parse(p.t)),
      series: [
        { label: 'Clicks', color: '#2563eb', values: clicks.points.map((p) => p.value) },
        { label: 'Conversions', color: '#16a34a', values: conversions.points.map((p) => p.value) },
        { label: 'Commission', color: '#b45309', values: commission.points.map((p) => p.value), money: true },
      ],
    };
  }, [series.data]);
  return (
    <section aria-labelledby="activity">
      <h2 id="activity">Activity</h2>
      <div className="toolbar">
        <label>
          Per{' '}
          <select
            value={interval}
            onChange={(e) => {
              setBucket(e.target.value as Interval);
              setRangeIndex(1);
            }}
          >
            <option value="day">day</option>
            <option value="hour">hour</option>
          </select>
        </label>
        <label>
          Range{' '}
          <select value={rangeIndex} onChange={(e) => setRangeIndex(Number(e.target.value))}>
            {RANGES[interval].map((r, i) => (
              <option key={r.label} value={i}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">Buckets are UTC {interval === 'day' ? 'days' : 'hours'}.</span>
      </div>
      {series.loading && !chart && <Loading what="the chart" />}
      {series.error != null && <ErrorBox error={series.error} retry={series.reload} />}
      {chart && <TimeChart times={chart.times} series={chart.series} currency={currency} title={`Clicks, conversions and commission, ${range.label.toLowerCase()}`} />}
    </section>
  );
}
