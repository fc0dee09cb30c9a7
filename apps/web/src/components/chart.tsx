import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMoney } from '../lib/format';

export interface ChartSeries {
  label: string;
  color: string;
  values: number[];
  /** Money series (minor units) share a right-hand axis in the currency; counts use the left one. */
  money?: boolean;
}

/** A time chart with uPlot: `times` are epoch milliseconds; counts on the left axis, money on the right. */
export function TimeChart({ times, series, currency, title, stepped }: { times: number[]; series: ChartSeries[]; currency: string; title: string; stepped?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const money = (v: number) => formatMoney(Math.round(v), currency);
    const hasCounts = series.some((s) => !s.money);
    const hasMoney = series.some((s) => s.money);
    const paths = stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined;
    const width = () => Math.max(320, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            paths,
            scale: s.money ? 'money' : 'n',
            value: (_u: uPlot, v: number | null) => (v == null ? '–' : s.money ? money(v) : String(v)),
          })),
        ],
        scales: { n: { range: (_u, _min, max) => [0, Math.max(1, max)] }, money: { range: (_u, _min, max) => [0, Math.max(100, max)] } },
        axes: [
          {},
          ...(hasCounts ? [{ scale: 'n' }] : []),
          ...(hasMoney ? [{ scale: 'money', side: hasCounts ? 1 : 3, values: (_u: uPlot, ticks: number[]) => ticks.map(money), size: 90, grid: { show: !hasCounts } }] : []),
        ],
      },
      [times.map((t) => t / 1000), ...series.map((s) => s.values)],
      el,
    );
    const resize = () => plot.setSize({ width: width(), height: 240 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [times, series, currency, stepped]);
  return <div ref={box} className="chart" role="img" aria-label={title} />;
}
