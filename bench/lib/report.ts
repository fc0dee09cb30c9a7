import { Figure } from './load';

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  value: Figure | null;
  reference?: { name: string; value: Figure };
  /** value.median / reference.median */
  ratio?: number;
  target: string;
  met: boolean | null;
  notes: string;
}

const fmt = (f: Figure | null | undefined) => (f ? `${f.median} (${f.min}–${f.max})` : 'not available');

export function markdown(rows: Row[], header: string): string {
  const lines = [
    header,
    '',
    '| scenario | metric | value: median (min–max) | reference: median (min–max) | ratio | target | met | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.metric} | ${fmt(r.value)} ${r.value ? r.unit : ''} | ${r.reference ? `${r.reference.name}: ${fmt(r.reference.value)}` : '—'} | ${
          r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`
        } | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : 'no'} | ${r.notes} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}
