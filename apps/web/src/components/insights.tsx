import type { Insight } from '../api/types';

const INSIGHT_LABELS: Record<Insight['code'], string> = {
  high_clicks_low_conversions: 'Many clicks, few conversions',
  low_clicks: 'Few clicks',
  high_conversion_rate: 'High conversion rate',
};

export function InsightBadges({ insights }: { insights: Insight[] }) {
  return (
    <>
      {insights.map((i) => (
        <span key={i.code} className={`badge ${i.code}`} title={i.message}>
          {INSIGHT_LABELS[i.code] ?? i.code}
        </span>
      ))}
    </>
  );
}
