/**
 * A sweep for papers: the CSV (tidy/long form — one row per point and method, so that pandas,
 * R or a spreadsheet pivots it as it likes) and the plot (objective against the first parameter,
 * one line per method: the certified optimum and, with --with-peers, every peer; one panel per
 * value of the second parameter in a grid).
 */
import type { SweepReport } from '../solve/sweep.ts';
import { lines } from './chart.ts';

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const numberField = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);

/** Name of the optimum's series: what edgeplan certified at each point (the method may change between points). */
export const OPTIMUM_SERIES = 'edgeplan';

export function sweepCsv(report: SweepReport): string {
  const paths = report.paths ?? [report.path];
  const header = [...paths, 'method', 'role', 'termination', 'feasible', 'objective', 'gap', 'time_s'];
  const out = [header.map(csvField).join(',')];
  for (const row of report.rows) {
    const values = (row.values ?? [row.value]).map((v) => String(v));
    out.push(
      [
        ...values,
        row.method,
        'solver',
        row.termination,
        row.objective !== null ? 'true' : '',
        numberField(row.objective),
        numberField(row.gap),
        numberField(row.timeSeconds),
      ]
        .map(csvField)
        .join(','),
    );
    for (const peer of row.peers ?? []) {
      out.push(
        [
          ...values,
          peer.name,
          'peer',
          '',
          peer.feasible === null ? '' : String(peer.feasible),
          numberField(peer.objective),
          '',
          numberField(peer.timeSeconds),
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** The plot as one SVG document (vega-lite). Points without a feasible decision are left out of a line. */
export async function sweepPlotSvg(report: SweepReport): Promise<string> {
  const paths = report.paths ?? [report.path];
  const data: { x: number; y: number; series: string; facet?: string }[] = [];
  for (const row of report.rows) {
    const values = row.values ?? [row.value];
    const facet =
      paths.length > 1
        ? values
            .slice(1)
            .map((v, i) => `${paths[i + 1]} = ${v}`)
            .join(', ')
        : undefined;
    const at = { x: values[0], ...(facet !== undefined ? { facet } : {}) };
    if (row.objective !== null && Number.isFinite(row.objective))
      data.push({ ...at, y: row.objective, series: OPTIMUM_SERIES });
    for (const peer of row.peers ?? [])
      if (peer.objective !== null && Number.isFinite(peer.objective))
        data.push({ ...at, y: peer.objective, series: peer.name });
  }
  const figure = await lines({
    title: `sweep of ${paths.join(' × ')}`,
    data,
    xTitle: paths[0],
    yTitle: report.objectiveLabel ?? 'objective',
    seriesTitle: 'method',
  });
  return figure.svg;
}
