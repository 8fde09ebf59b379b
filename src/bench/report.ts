/**
 * Turns BenchResults into tables (Markdown, terminal, HTML), vega-lite plots (scaling curves,
 * optimum/peer ratios) and the files of `edgeplan bench --out DIR`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml, type Block } from './html.ts';
import { renderSvg, slug, VEGA_LITE_SCHEMA, type TopLevelSpec } from './plot.ts';
import type { BenchResults, InstanceResult, ScalingResult } from './runner.ts';
import { formatGap, formatNumber, formatRatio, formatSeconds, toMarkdown, type Table } from './table.ts';

export const RATIO_HEADER = 'ratio (≤ 1: optimum at least as good)';

const TIME_RATIO_KEYS = ['glpk/highs', 'jslp/highs', 'exact/highs'] as const;

export function summaryTable(results: BenchResults): Table {
  return {
    title: 'Summary per formulation',
    header: [
      'formulation',
      'sense',
      'instances',
      'failed',
      'conflicts',
      'peer ratios',
      `mean ${RATIO_HEADER}`,
      'worst (closest peer)',
      'best (largest gain)',
      ...TIME_RATIO_KEYS.map((k) => `time ${k}`),
    ],
    rows: results.summaries.map((s) => [
      s.suite,
      s.sense,
      String(s.instances),
      String(s.failed),
      String(s.conflicts),
      String(s.ratio.count),
      formatRatio(s.ratio.mean),
      formatRatio(s.ratio.worst),
      formatRatio(s.ratio.best),
      ...TIME_RATIO_KEYS.map((k) => (s.timeRatios[k] !== undefined ? `${formatRatio(s.timeRatios[k])}×` : '-')),
    ]),
    note: `${results.ratioConvention}. Conflicts: instances where one method contradicts another (claims infeasible although another method's solution passes evaluate, or two proven optima differ). Time ratios: geometric mean over instances of the median solve time of the first method over HiGHS's, both on the same compiled model and both proving optimality (> 1: slower than HiGHS).`,
  };
}

function methodNote(message: string | undefined): string {
  if (message === undefined) return '';
  return message.length > 90 ? `${message.slice(0, 87)}…` : message;
}

export function instancesTable(results: BenchResults, suite: string): Table {
  return {
    title: `${suite}: instances`,
    header: ['instance', 'objective', 'time limit', 'compile', 'description'],
    rows: results.instances
      .filter((i) => i.suite === suite)
      .map((r) => [
        r.instance,
        r.sense === null ? '-' : `${r.sense} ${r.objectiveLabel ?? 'objective'}`,
        r.timeLimitSeconds > 0 ? `${r.timeLimitSeconds} s` : '-',
        formatSeconds(r.compileSeconds),
        r.description,
      ]),
  };
}

export function methodsTable(results: BenchResults, suite: string): Table {
  const rows: string[][] = [];
  for (const r of results.instances.filter((i) => i.suite === suite)) {
    if (r.status === 'failed' && r.methods.length === 0) {
      rows.push([r.instance, `failed: ${r.reason ?? 'unknown'}`]);
      continue;
    }
    if (r.status === 'failed') rows.push([r.instance, `failed: ${r.reason ?? 'unknown'}`]);
    for (const c of r.conflicts) rows.push([r.instance, `conflict: ${c}`]);
    for (const m of r.methods) {
      rows.push([
        r.instance,
        m.method,
        m.termination,
        formatNumber(m.objective),
        formatGap(m.gap),
        formatSeconds(m.medianSeconds),
        String(m.timesSeconds.length),
        methodNote(m.message),
      ]);
    }
  }
  return {
    title: `${suite}: methods (objective re-checked by evaluate; median wall-clock solve time over repeats)`,
    header: ['instance', 'method', 'termination', 'objective', 'gap', 'median time', 'repeats', 'note'],
    rows,
  };
}

export function peersTable(results: BenchResults, suite: string): Table {
  const rows: string[][] = [];
  for (const r of results.instances.filter((i) => i.suite === suite)) {
    if (r.status === 'failed') {
      rows.push([r.instance, `failed: ${r.reason ?? 'unknown'}`]);
      continue;
    }
    const optimum =
      r.optimum === null
        ? '-'
        : `${formatNumber(r.optimum.objective)} (${r.optimum.method}${r.optimum.proven ? '' : ', not proven'})`;
    if (r.peers.length === 0) rows.push([r.instance, optimum, '(no peers)', '-', '-']);
    for (const p of r.peers)
      rows.push([
        r.instance,
        optimum,
        p.name,
        p.objective !== null ? formatNumber(p.objective) : methodNote(p.message),
        formatRatio(p.ratio),
      ]);
  }
  const sense = results.summaries.find((s) => s.suite === suite)?.sense ?? '';
  return {
    title: `${suite}: optimum vs peers (${sense === 'max' ? 'max: ratio = peer/optimum' : sense === 'min' ? 'min: ratio = optimum/peer' : 'ratio = optimum/peer (min) or peer/optimum (max)'})`,
    header: ['instance', 'optimum (method)', 'peer', 'peer objective', RATIO_HEADER],
    rows,
  };
}

export function scalingTable(results: BenchResults): Table {
  const rows: string[][] = [];
  for (const s of results.scaling) {
    for (const p of s.points)
      rows.push([
        s.suite,
        s.parameter,
        String(p.size),
        p.method,
        p.termination,
        formatSeconds(p.seconds),
        formatNumber(p.objective),
      ]);
    for (const f of s.failures) rows.push([s.suite, s.parameter, String(f.size), '-', `failed: ${f.reason}`]);
  }
  return {
    title: 'Scaling: solve time vs size',
    header: ['formulation', 'parameter', 'size', 'method', 'termination', 'time', 'objective'],
    rows,
  };
}

export function scalingSpec(series: ScalingResult): TopLevelSpec {
  const values = series.points.map((p) => ({
    size: p.size,
    method: p.method,
    // A log axis cannot show 0; sub-0.1-ms solves sit on the floor.
    seconds: Math.max(p.seconds, 1e-4),
    outcome: p.termination === 'optimal' ? 'optimal' : p.termination,
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${series.suite}: solve time vs ${series.parameter} (${[...new Set(series.points.map((p) => p.method))].join(', ')}; limit ${series.timeLimitSeconds} s)`,
    width: 420,
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: 'line' },
        encoding: {
          x: { field: 'size', type: 'quantitative', title: series.parameter, scale: { type: 'log', nice: false } },
          y: { field: 'seconds', type: 'quantitative', title: 'solve time (s)', scale: { type: 'log' } },
          color: { field: 'method', type: 'nominal' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: 'size', type: 'quantitative', scale: { type: 'log', nice: false } },
          y: { field: 'seconds', type: 'quantitative', scale: { type: 'log' } },
          color: { field: 'method', type: 'nominal' },
          shape: { field: 'outcome', type: 'nominal', title: 'termination' },
          tooltip: [{ field: 'size' }, { field: 'method' }, { field: 'seconds' }, { field: 'outcome' }],
        },
      },
    ],
  };
}

export function ratiosSpec(results: BenchResults, suite: string): TopLevelSpec | null {
  const values = results.instances
    .filter((r) => r.suite === suite)
    .flatMap((r: InstanceResult) =>
      r.peers.filter((p) => p.ratio !== null).map((p) => ({ instance: r.instance, peer: p.name, ratio: p.ratio })),
    );
  if (values.length === 0) return null;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${suite}: ${RATIO_HEADER}`,
    width: 420,
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'ratio', type: 'quantitative', title: 'ratio', scale: { zero: false } },
          y: { field: 'instance', type: 'nominal', title: null, axis: { labelLimit: 320 } },
          color: { field: 'peer', type: 'nominal', legend: { labelLimit: 260 } },
          tooltip: [{ field: 'instance' }, { field: 'peer' }, { field: 'ratio' }],
        },
      },
      {
        data: { values: [{ x: 1 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  };
}

export function benchMarkdown(results: BenchResults): string {
  const m = results.machine;
  const parts = [
    '# edgeplan bench',
    '',
    `Run ${results.startedAt} on ${m.platform}, ${m.cores} cores (${m.cpu}), Node ${m.node}; repeats ${results.options.repeat} (methods whose first solve took > 5 s or did not prove optimality ran once); total ${formatSeconds(results.totalSeconds)}.`,
    '',
    toMarkdown(summaryTable(results)),
  ];
  for (const suite of results.options.suites) {
    parts.push(
      '',
      `## ${suite}`,
      '',
      toMarkdown(instancesTable(results, suite)),
      '',
      toMarkdown(methodsTable(results, suite)),
      '',
      toMarkdown(peersTable(results, suite)),
    );
  }
  if (results.scaling.length > 0) parts.push('', '## Scaling', '', toMarkdown(scalingTable(results)));
  return `${parts.join('\n')}\n`;
}

export interface WrittenFiles {
  readonly files: readonly string[];
}

/** Writes bench.json, bench.md, one SVG per plot and (with `html`) bench.html into `dir`. */
export async function writeBenchOutputs(
  results: BenchResults,
  dir: string,
  options: { html?: boolean } = {},
): Promise<WrittenFiles> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  write('bench.json', `${JSON.stringify(results, null, 2)}\n`);
  write('bench.md', benchMarkdown(results));
  const plots: { name: string; svg: string; suite: string; caption: string }[] = [];
  for (const suite of results.options.suites) {
    const spec = ratiosSpec(results, suite);
    if (spec !== null)
      plots.push({
        name: `ratios-${slug(suite)}.svg`,
        svg: await renderSvg(spec),
        suite,
        caption: `${suite}: ${RATIO_HEADER}, one point per (instance, peer)`,
      });
  }
  const used = new Set<string>();
  // Two series of one family may share a parameter name (e.g. users for two methods): number the later ones.
  const uniqueName = (base: string): string => {
    let name = `${base}.svg`;
    for (let k = 2; used.has(name); k++) name = `${base}-${k}.svg`;
    used.add(name);
    return name;
  };
  for (const series of results.scaling) {
    if (series.points.length === 0) continue;
    plots.push({
      name: uniqueName(`scaling-${slug(series.suite)}-${slug(series.parameter)}`),
      svg: await renderSvg(scalingSpec(series)),
      suite: series.suite,
      caption: `${series.suite}: solve time vs ${series.parameter}`,
    });
  }
  for (const p of plots) write(p.name, p.svg);
  if (options.html === true) {
    const blocks: Block[] = [
      {
        kind: 'paragraph',
        text: `Run ${results.startedAt} on ${results.machine.platform}, ${results.machine.cores} cores (${results.machine.cpu}), Node ${results.machine.node}; total ${formatSeconds(results.totalSeconds)}.`,
      },
      { kind: 'table', table: summaryTable(results) },
    ];
    for (const suite of results.options.suites) {
      blocks.push(
        { kind: 'heading', text: suite },
        { kind: 'table', table: instancesTable(results, suite) },
        { kind: 'table', table: methodsTable(results, suite) },
        { kind: 'table', table: peersTable(results, suite) },
      );
      for (const p of plots.filter((q) => q.suite === suite))
        blocks.push({ kind: 'svg', svg: p.svg, caption: p.caption });
    }
    if (results.scaling.length > 0)
      blocks.push({ kind: 'heading', text: 'Scaling' }, { kind: 'table', table: scalingTable(results) });
    write('bench.html', renderHtml('edgeplan bench', blocks));
  }
  return { files };
}
