import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSvg, VEGA_LITE_SCHEMA } from '../../src/bench/plot.ts';
import { benchMarkdown, RATIO_HEADER, writeBenchOutputs } from '../../src/bench/report.ts';
import { REPRODUCTIONS, runReproduction, selectReproductions, type Reproduction } from '../../src/bench/reproduce.ts';
import { writeReproduceOutputs } from '../../src/bench/reproduce-report.ts';
import { findConflicts, optimumPeerRatio, runBench, type BenchResults } from '../../src/bench/runner.ts';
import { gapProblem } from '../../src/bench/suites/milp.ts';
import { selectSuites, SUITES } from '../../src/bench/suites/index.ts';
import type { BenchSuite } from '../../src/bench/types.ts';
import { UsageError } from '../../src/errors.ts';
import { main } from '../../src/cli/main.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgeplan-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: root,
    env: {},
  });
  return { code, stdout, stderr };
}

/** Knapsack: optimum 7 (x and y); the greedy-repair peer's value over 7 is its max-sense ratio. */
const knapsack = {
  kind: 'milp',
  sense: 'max',
  variables: [
    { name: 'x', type: 'binary' },
    { name: 'y', type: 'binary' },
    { name: 'z', type: 'binary' },
  ],
  constraints: [{ name: 'cap', terms: { x: 2, y: 2, z: 4 }, upper: 4 }],
  objective: { x: 3, y: 4, z: 5 },
};

const tiny: BenchSuite = {
  kind: 'milp',
  instances: () => [
    { name: 'knapsack-3', description: 'three items', problem: knapsack, methods: ['highs', 'glpk'] },
    {
      name: 'gap-8x2',
      description: 'generalized assignment 8 × 2 (optimum 522; greedy-repair 552)',
      problem: gapProblem(8, 2, 2),
      methods: ['highs', 'glpk'],
    },
    { name: 'bad-input', description: 'no variables', problem: { kind: 'milp', sense: 'min' } },
    { name: 'no-method', description: 'milp has no exact method', problem: knapsack, methods: ['exact'] },
  ],
  scaling: () => [
    {
      parameter: 'items',
      points: [8, 10].map((n) => ({ size: n, problem: gapProblem(n, n === 8 ? 2 : 3, n === 8 ? 2 : 3) })),
      methods: ['highs'],
    },
    { parameter: 'items', points: [{ size: 8, problem: gapProblem(8, 2, 2) }], methods: ['glpk'] },
  ],
};

const throwing: BenchSuite = {
  kind: 'broken-suite',
  instances: () => {
    throw new Error('generator exploded');
  },
  scaling: () => [],
};

describe('bench runner on a tiny synthetic suite', () => {
  let results: BenchResults;
  beforeAll(async () => {
    results = await runBench([tiny, throwing], { repeat: 2 });
  });

  it('solves the good instances, re-checked, and rates the peer against the optimum', () => {
    const knap = results.instances.find((r) => r.instance === 'knapsack-3');
    expect(knap?.status).toBe('ok');
    expect(knap?.sense).toBe('max');
    expect(knap?.optimum).toMatchObject({ objective: 7, proven: true });
    expect(knap?.agreement).toBe(true);
    expect(knap?.methods.map((m) => m.method)).toEqual(['highs', 'glpk']);
    for (const m of knap?.methods ?? []) {
      expect(m.termination).toBe('optimal');
      expect(m.objective).toBe(7);
      expect(m.timesSeconds.length).toBeGreaterThanOrEqual(1);
    }
    const peer = knap?.peers.find((p) => p.name === 'greedy-repair');
    expect(peer?.objective).not.toBeNull();
    expect(peer?.ratio).toBeCloseTo((peer?.objective ?? 0) / 7, 12);
    expect(knap?.timeRatios['glpk/highs']).toBeGreaterThan(0);
    expect(peer?.ratio).toBeLessThanOrEqual(1);
    const gap = results.instances.find((r) => r.instance === 'gap-8x2');
    expect(gap?.status).toBe('ok');
    expect(gap?.sense).toBe('min');
    expect(gap?.optimum).toMatchObject({ objective: 522, proven: true });
    const greedy = gap?.peers.find((p) => p.name === 'greedy-repair');
    // min sense: optimum/peer, below 1 because the peer is worse.
    expect(greedy?.ratio).toBeCloseTo(522 / (greedy?.objective ?? NaN), 12);
    expect(greedy?.ratio).toBeLessThan(1);
  });

  it('turns bad input, a method that cannot run and a throwing suite into failed rows and goes on', () => {
    const bad = results.instances.find((r) => r.instance === 'bad-input');
    expect(bad?.status).toBe('failed');
    expect(bad?.reason).toMatch(/^bad input: \$\.variables/);
    const none = results.instances.find((r) => r.instance === 'no-method');
    expect(none?.status).toBe('failed');
    expect(none?.reason).toMatch(/no solution: exact error \(backend exact: kind milp has no exact method\)/);
    const suiteRow = results.instances.find((r) => r.suite === 'broken-suite');
    expect(suiteRow?.status).toBe('failed');
    expect(suiteRow?.reason).toMatch(/generator exploded/);
    // The scaling series after the failures still ran.
    expect(results.scaling[0].points.map((p) => p.size)).toEqual([8, 10]);
  });

  it('summarises mean and worst ratio per formulation', () => {
    const s = results.summaries.find((x) => x.suite === 'milp');
    expect(s?.instances).toBe(4);
    expect(s?.failed).toBe(2);
    expect(s?.ratio.count).toBeGreaterThanOrEqual(2);
    expect(s?.ratio.worst).toBeGreaterThanOrEqual(s?.ratio.mean ?? Infinity);
    expect(s?.ratio.worst).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('writes JSON, Markdown with ratios and failed rows, SVG plots and a script-free HTML report', async () => {
    const out = join(dir, 'bench');
    await writeBenchOutputs(results, out, { html: true });
    const json = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchResults;
    expect(json.instances.length).toBe(results.instances.length);
    const md = readFileSync(join(out, 'bench.md'), 'utf8');
    expect(md).toBe(benchMarkdown(results));
    expect(md).toContain(RATIO_HEADER);
    expect(md).toMatch(/\| knapsack-3 \| 7 \(highs\) \| greedy-repair \| \d+ \| [01]\.\d{3} \|/);
    expect(md).toMatch(/\| gap-8x2 \| 522 \(highs\) \| greedy-repair \| \d+ \| 0\.\d{3} \|/);
    expect(md).toContain('| bad-input | failed: bad input: $.variables');
    expect(md).toContain('failed: suite could not build its instances: generator exploded');
    const scaling = readFileSync(join(out, 'scaling-milp-items.svg'), 'utf8');
    expect(scaling.startsWith('<svg')).toBe(true);
    // A second series over the same parameter gets its own file rather than overwriting the first.
    expect(readFileSync(join(out, 'scaling-milp-items-2.svg'), 'utf8').startsWith('<svg')).toBe(true);
    expect(existsSync(join(out, 'ratios-milp.svg'))).toBe(true);
    const html = readFileSync(join(out, 'bench.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
  });
});

describe('ratio convention', () => {
  it('is ≤ 1 when the optimum is at least as good, for both senses', () => {
    expect(optimumPeerRatio('min', 8, 10)).toBeCloseTo(0.8, 12);
    expect(optimumPeerRatio('max', 10, 8)).toBeCloseTo(0.8, 12);
    expect(optimumPeerRatio('min', 3, 3)).toBe(1);
    expect(optimumPeerRatio('min', -5, 2)).toBeNull();
    expect(optimumPeerRatio('max', 0, 0)).toBe(1);
  });
});

describe('conflicts between methods', () => {
  it('flags an infeasible claim against a checked solution, and optima that differ', () => {
    const agreeing = findConflicts([
      { method: 'highs', termination: 'optimal', objective: 10 },
      { method: 'glpk', termination: 'optimal', objective: 10 },
    ]);
    expect(agreeing).toEqual({ agreement: true, conflicts: [] });
    const wrong = findConflicts([
      { method: 'highs', termination: 'optimal', objective: 10 },
      { method: 'jslp', termination: 'infeasible', objective: null },
    ]);
    expect(wrong.conflicts).toEqual([
      'jslp reports infeasible, but highs holds a decision evaluate accepts (objective 10)',
    ]);
    const differ = findConflicts([
      { method: 'exact', termination: 'optimal', objective: 10 },
      { method: 'highs', termination: 'optimal', objective: 11 },
    ]);
    expect(differ.agreement).toBe(false);
    expect(differ.conflicts[0]).toMatch(/exact and highs both claim optimal with 10 and 11/);
    // A time-limited incumbent that is worse is not a contradiction.
    expect(
      findConflicts([
        { method: 'highs', termination: 'optimal', objective: 10 },
        { method: 'glpk', termination: 'time_limit', objective: 12 },
      ]).conflicts,
    ).toEqual([]);
  });
});

describe('names', () => {
  it('lists the valid suites and reproductions on an unknown name', () => {
    expect(() => selectSuites('nope')).toThrow(UsageError);
    expect(() => selectSuites('nope')).toThrow(`valid suites: all, ${SUITES.map((s) => s.kind).join(', ')}`);
    expect(() => selectReproductions('nope')).toThrow(
      `valid names: all, ${REPRODUCTIONS.map((r) => r.name).join(', ')}`,
    );
    expect(selectSuites('all').length).toBe(SUITES.length);
  });

  it('exits 2 with the list from the CLI', async () => {
    const bench = await run(['bench', '--suite', 'nope']);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toMatch(/^edgeplan: unknown suite "nope"; valid suites: all, .*milp/);
    const rep = await run(['reproduce', 'nope']);
    expect(rep.code).toBe(2);
    expect(rep.stderr).toMatch(/^edgeplan: unknown reproduction "nope"; valid names: all, seed-numbers/);
  });
});

describe('plots', () => {
  it('renders a small vega-lite spec to an SVG document', async () => {
    const svg = await renderSvg({
      $schema: VEGA_LITE_SCHEMA,
      data: {
        values: [
          { x: 1, y: 2 },
          { x: 2, y: 1 },
        ],
      },
      mark: 'line',
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(svg).toMatch(/<path[^>]* d="M/);
  });
});

describe('reproductions', () => {
  it('the seed numbers and Leviathan Table 1 pass; reproduce exits 0 and writes table and plot', async () => {
    const out = join(dir, 'rep');
    const r = await run(['reproduce', 'leviathan-table-1', '--out', out, '--html']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/α = 0\.9, γ = 10\s+6\.86×\s+6\.86\d+×\s+± 0\.005\s+pass/);
    expect(readFileSync(join(out, 'leviathan-table-1.svg'), 'utf8').startsWith('<svg')).toBe(true);
    expect(readFileSync(join(out, 'reproduce.html'), 'utf8')).toContain('<svg');
    const seed = await runReproduction(REPRODUCTIONS.find((x) => x.name === 'seed-numbers') as Reproduction);
    expect(seed.pass).toBe(true);
    expect(seed.rows.map((x) => x.item)).toContain('seed-phone-battery');
  });

  it('a row outside its tolerance or an exception fails the reproduction', async () => {
    const missing: Reproduction = {
      name: 'synthetic-miss',
      title: 'a claim that misses',
      source: 'test',
      run: async () => ({
        rows: [{ item: 'x', expected: '1', obtained: '2', tolerance: '± 0.1', pass: false }],
        plot: null,
        data: null,
      }),
    };
    const throwingRepro: Reproduction = {
      name: 'synthetic-throw',
      title: 'a broken computation',
      source: 'test',
      run: async () => {
        throw new Error('boom');
      },
    };
    const a = await runReproduction(missing);
    const b = await runReproduction(throwingRepro);
    expect(a.pass).toBe(false);
    expect(b.pass).toBe(false);
    expect(b.error).toBe('boom');
    const files = await writeReproduceOutputs([a, b], join(dir, 'rep-fail'));
    const md = readFileSync(files.find((f) => f.endsWith('reproduce.md')) as string, 'utf8');
    expect(md).toContain('0/2 reproductions pass');
    expect(md).toContain('failed: boom');
  });
});
