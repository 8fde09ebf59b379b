/**
 * `edgeplan reproduce helix`: the three public Helix placement instances (Mei et al., ASPLOS 2025;
 * ../shared/data/helix, bundled converted in problems/fleet-serving/), Helix's published best and
 * bound (Gurobi 11, 20 threads) beside ours: the exact method, and Helix's own MILP as published
 * on our HiGHS (the same model, an open solver), each with the same time limit. Ours passes when
 * its throughput is at least Helix's best and its certified bound at most Helix's bound.
 */
import { readFileSync } from 'node:fs';
import { solve } from '../../api.ts';
import { relativeGap } from '../../milp/result.ts';
import type { ReproRow, Reproduction } from '../reproduce.ts';
import { VEGA_LITE_SCHEMA, type TopLevelSpec } from '../plot.ts';
import { formatNumber } from '../table.ts';

/** Per method; the targets are measured by `edgeplan bench --suite fleet-serving` at 600 s. */
export const HELIX_REPRODUCTION_LIMIT_SECONDS = 60;

/** Helix's figures are published to 6 significant digits (286.587); compare within that rounding. */
const PUBLISHED_RTOL = 5e-6;

const PUBLISHED = [
  {
    file: 'helix-10-llama30b-quality.json',
    best: 286.587,
    bound: 286.587,
    seconds: 3803,
    note: 'optimal, 9.8 M nodes',
  },
  {
    file: 'helix-24-llama70b-single-cluster.json',
    best: 1289.56,
    bound: 78_062,
    seconds: 600,
    note: 'stopped at 600 s',
  },
  {
    file: 'helix-42-llama70b-high-heterogeneity.json',
    best: 4137.55,
    bound: 91_951,
    seconds: 3035,
    note: 'stopped at 3035 s',
  },
] as const;

function problem(file: string): Record<string, unknown> {
  return JSON.parse(
    readFileSync(new URL(`../../../problems/fleet-serving/${file}`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${formatNumber(100 * x, 4)}%` : '∞');

export const helixReproduction: Reproduction = {
  name: 'helix',
  title: "Helix's placement instances: published Gurobi best and bound against edgeplan's certified answers",
  source: 'Helix (Mei et al., ASPLOS 2025), repository Thesys-lab/Helix-ASPLOS25; ../shared/data/helix/README.md',
  async run() {
    const rows: ReproRow[] = [];
    const values: { instance: string; method: string; kind: string; value: number }[] = [];
    const data: unknown[] = [];
    for (const p of PUBLISHED) {
      const instance = p.file.replace(/\.json$/, '');
      values.push(
        { instance, method: 'Helix (Gurobi)', kind: 'best', value: p.best },
        { instance, method: 'Helix (Gurobi)', kind: 'bound', value: p.bound },
      );
      const runs = [
        { method: 'edgeplan exact', raw: problem(p.file), backend: 'exact' as const },
        {
          method: 'Helix MILP on HiGHS',
          raw: { ...problem(p.file), milpFormulation: 'helix' },
          backend: 'highs' as const,
        },
      ];
      for (const run of runs) {
        const r = await solve(run.raw, { backend: run.backend, timeLimitSeconds: HELIX_REPRODUCTION_LIMIT_SECONDS });
        const best = r.bounds.primal;
        const bound = r.bounds.dual;
        data.push({ instance, method: run.method, termination: r.termination, best, bound, seconds: r.timeSeconds });
        if (Number.isFinite(best)) values.push({ instance, method: run.method, kind: 'best', value: best });
        if (Number.isFinite(bound)) values.push({ instance, method: run.method, kind: 'bound', value: bound });
        const ours = run.backend === 'exact';
        rows.push({
          item: `${instance}: ${run.method}`,
          expected:
            `Helix: ${formatNumber(p.best)} tokens/s, bound ${formatNumber(p.bound)} ` +
            `(gap ${pct(relativeGap(p.best, p.bound))}, ${p.seconds} s, ${p.note})`,
          obtained:
            `${Number.isFinite(best) ? formatNumber(best) : 'none'} tokens/s, bound ${formatNumber(bound)} ` +
            `(gap ${pct(relativeGap(best, bound))}, ${formatNumber(r.timeSeconds, 3)} s, ${r.termination})`,
          tolerance: ours
            ? `best ≥ Helix best, bound ≤ Helix bound (relative ${PUBLISHED_RTOL}: figures published rounded)`
            : 'reported only',
          pass: ours ? best >= p.best * (1 - PUBLISHED_RTOL) && bound <= p.bound * (1 + PUBLISHED_RTOL) : true,
        });
      }
    }
    const plot: TopLevelSpec = {
      $schema: VEGA_LITE_SCHEMA,
      title: 'Helix instances: best throughput and proven bound per method (tokens/s, log scale)',
      data: { values },
      facet: { row: { field: 'instance', type: 'nominal', title: null } },
      spec: {
        width: 380,
        mark: { type: 'point', filled: true, size: 90 },
        encoding: {
          y: { field: 'method', type: 'nominal', title: null },
          x: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'tokens/s' },
          shape: { field: 'kind', type: 'nominal', title: null },
          color: { field: 'kind', type: 'nominal', title: null },
          tooltip: [{ field: 'method' }, { field: 'kind' }, { field: 'value' }],
        },
      },
      resolve: { scale: { x: 'independent' } },
    };
    return { rows, plot, data };
  },
};
