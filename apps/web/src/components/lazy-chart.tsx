import { ComponentProps, lazy, Suspense } from 'react';
import { PageBoundary } from './boundary';
import { Loading } from './common';

// uPlot is a third of the shipped JavaScript: it loads after the figures are on the page, not before.
const Chart = lazy(() => import('./chart').then((m) => ({ default: m.TimeChart })));

export function TimeChart(props: ComponentProps<typeof Chart>) {
  return (
    <PageBoundary>
      <Suspense fallback={<Loading what="the chart" />}>
        <Chart {...props} />
      </Suspense>
    </PageBoundary>
  );
}
