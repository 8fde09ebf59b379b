/** milp: each row's activity against its bounds (slack), and the nonzero variables. */
import type { MilpBreakdown } from '../../formulations/milp/evaluate.ts';
import { chart } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { isRecord, numText } from '../units.ts';

const MAX_BARS = 80;

export async function drawMilp(input: DrawInput): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  const decision = input.decision;
  if (!isRecord(raw) || !Array.isArray(raw.rows) || !isRecord(decision) || !isRecord(decision.values)) return [];
  const b = raw as unknown as MilpBreakdown;
  const figures: Figure[] = [];
  // Slack as a share of the row's scale, so rows of different magnitudes share one axis.
  const rows = b.rows.slice(0, MAX_BARS).flatMap((r) => {
    if (r.slack === null) return [];
    const bound = r.upper ?? r.lower ?? 0;
    return [
      { row: r.name, slack: r.slack, relative: r.slack / Math.max(1, Math.abs(bound)), binding: r.slack <= 1e-9 },
    ];
  });
  if (rows.length > 0)
    figures.push(
      await chart(
        'Row slack (relative to the row bound); binding rows in red',
        {
          width: 520,
          height: Math.max(60, rows.length * 18),
          data: { values: rows },
          mark: 'bar',
          encoding: {
            y: { field: 'row', type: 'nominal', sort: null, title: 'row' },
            x: { field: 'relative', type: 'quantitative', title: 'slack / max(1, |bound|)' },
            color: {
              field: 'binding',
              type: 'nominal',
              scale: { domain: [true, false], range: ['#e45756', '#4c78a8'] },
              title: 'binding',
            },
            tooltip: [{ field: 'row' }, { field: 'slack' }],
          },
        },
        b.rows.length > MAX_BARS ? `the first ${MAX_BARS} of ${b.rows.length} rows` : undefined,
      ),
    );
  const nonzero = Object.entries(decision.values).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && Math.abs(e[1]) > 1e-9,
  );
  figures.push({
    kind: 'table',
    title: `Nonzero variables (${nonzero.length})`,
    header: ['variable', 'value'],
    rows: nonzero.slice(0, 500).map(([k, v]) => [k, numText(v)]),
  });
  figures.push({
    kind: 'table',
    title: 'Rows',
    header: ['row', 'activity', 'lower', 'upper', 'slack'],
    rows: b.rows
      .slice(0, 500)
      .map((r) => [r.name, numText(r.activity), numText(r.lower), numText(r.upper), numText(r.slack)]),
  });
  return figures;
}
