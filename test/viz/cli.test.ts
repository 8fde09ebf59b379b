import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  InputError,
  parseFieldPath,
  parseProblem,
  solve,
  sweep,
  sweepCsv,
  sweepGrid,
  sweepPlotSvg,
  withField,
  type ExactContext,
  type SolveMilp,
  type SweepReport,
} from '../../src/api.ts';
import { ROOT, runCli } from '../support/cli.ts';

// The CLI's pictures, the sweeps (API and CLI) and progress share one file: each test file pays for
// loading the whole library again, and these need all of it.

// The spawned solve waits seconds on its time limit: it starts when this file loads and runs while
// the in-process tests below do, and its test only awaits it. DeepSeek-V3 on 16 servers: the exact
// method's per-layer bounds take seconds, so the 3 s limit is reached while it works whatever the
// load (the CLI stays silent for the first second, then prints a line a second at most).
const spawnedSolve = promisify(execFile)(
  process.execPath,
  [
    join(ROOT, 'bin/edgeplan.js'),
    'solve',
    'problems/moe-placement/deepseek-v3-16-servers.json',
    '--backend',
    'exact',
    '--time-limit',
    '3',
    '--json',
  ],
  { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, EDGEPLAN_PROGRESS: '' } },
);
// Awaited by its test; a failure must not surface earlier as an unhandled rejection.
spawnedSolve.catch(() => undefined);

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-viz-cli-'));
const quiet = { EDGEPLAN_PROGRESS: '0' };

describe('CLI: --html, show, sweep --csv/--plot', () => {
  it('solve --html/--svg/--out, then show draws the saved solution', async () => {
    const html = join(dir, 'plan.html');
    const svg = join(dir, 'plan.svg');
    const out = join(dir, 'plan.json');
    const solved = await runCli(
      ['solve', 'problems/milp/knapsack.json', '--html', html, '--svg', svg, '--out', out],
      quiet,
    );
    expect(solved.code).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('Nonzero variables');
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg /);
    const shown = join(dir, 'shown.html');
    const show = await runCli(['show', 'problems/milp/knapsack.json', out, '--html', shown], quiet);
    expect(show.code).toBe(0);
    expect(readFileSync(shown, 'utf8')).toContain('recomputed by evaluate');
  });

  it('show refuses a solution of another kind with the JSON path, exit 2', async () => {
    const out = join(dir, 'other.json');
    await runCli(['solve', 'problems/milp/knapsack.json', '--out', out, '--quiet'], quiet);
    const r = await runCli(
      ['show', 'problems/speculative-threshold/satellite.json', out, '--html', join(dir, 'x.html')],
      quiet,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^edgeplan: \$\.kind: the solution is for kind "milp"/);
  });

  it('two --sweep flags make a grid; --csv and --plot are written; --json stays clean', async () => {
    const csv = join(dir, 'sweep.csv');
    const plot = join(dir, 'sweep.svg');
    const r = await runCli(
      [
        'solve',
        'problems/milp/knapsack.json',
        '--sweep',
        'constraints[0].upper=100,165',
        '--sweep',
        'objective.item1=1,50',
        '--with-peers',
        '--csv',
        csv,
        '--plot',
        plot,
        '--json',
      ],
      quiet,
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { rows: { values: number[] }[] };
    expect(report.rows.map((row) => row.values)).toEqual([
      [100, 1],
      [100, 50],
      [165, 1],
      [165, 50],
    ]);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toMatch(
      /^\$\.constraints\[0\]\.upper,\$\.objective\.item1,method,/,
    );
    expect(readFileSync(plot, 'utf8')).toContain('<svg');
  });
});

interface Report {
  readonly phase: string;
  readonly incumbent?: number;
  readonly bound?: number;
}

/** Runs a bundled example's exact method directly, recording what it reports through ExactContext.progress. */
async function exactPhases(file: string, edit = (raw: Record<string, unknown>) => raw): Promise<Report[]> {
  const parsed = parseProblem(edit(JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>));
  const exact = parsed.formulation.exact;
  if (exact === undefined) throw new Error(`${file}: no exact method`);
  const reports: Report[] = [];
  const solveMilp: SolveMilp = () => Promise.reject(new Error('these exact methods need no MILP'));
  const context: ExactContext = {
    mipGap: 1e-4,
    solveMilp,
    progress: (phase, facts) => reports.push({ phase, ...facts }),
  };
  const result = await exact.solve.call(exact, parsed.problem, context);
  expect(result.termination).toBe('optimal');
  return reports;
}

/** The first number after `word` in each report's phase. */
const numbers = (reports: readonly Report[], pattern: RegExp): number[] =>
  reports.map((r) => Number(pattern.exec(r.phase)?.[1]));

const increasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]);

describe('progress from exact methods (ExactContext.progress)', () => {
  it('pipeline-placement: the subset DP reports every layer, 1 to L in order', async () => {
    const reports = await exactPhases('problems/pipeline-placement/edgeshard-llama-2-7b.json');
    expect(reports.map((r) => r.phase)).toEqual(Array.from({ length: 32 }, (_, i) => `subset DP layer ${i + 1} of 32`));
  });

  it('pipeline-placement training: rounds in order, the incumbent never worse, the bound below it', async () => {
    // The first five of its eight servers: the same search, a 32-subset DP instead of a 256-subset one.
    const reports = await exactPhases('problems/pipeline-placement/gpt2-medium-training-8-servers.json', (raw) => ({
      ...raw,
      servers: (raw.servers as unknown[]).slice(0, 5),
    }));
    const rounds = reports.filter((r) => r.phase.startsWith('bottleneck round'));
    expect(rounds.length).toBeGreaterThan(2);
    const roundNumbers = numbers(rounds, /^bottleneck round (\d+),/);
    for (let i = 1; i < rounds.length; i++) {
      expect(roundNumbers[i]).toBeGreaterThanOrEqual(roundNumbers[i - 1]);
      expect(rounds[i].incumbent ?? Infinity).toBeLessThanOrEqual(rounds[i - 1].incumbent ?? Infinity);
    }
    for (const r of rounds)
      if (r.bound !== undefined) expect(r.bound).toBeLessThanOrEqual((r.incumbent ?? Infinity) * (1 + 1e-12));
  });

  it('split-finetune: sub-problems numbered 1, 2, … within their announced count', async () => {
    const reports = await exactPhases('problems/split-finetune/gpt2-medium-3-clients.json');
    const k = numbers(reports, /^sub-problem (\d+) of at most \d+$/);
    const total = numbers(reports, /of at most (\d+)$/);
    expect(k[0]).toBe(1);
    expect(increasing(k)).toBe(true);
    k.forEach((x, i) => expect(x).toBeLessThanOrEqual(total[i]));
  });

  it('kv-split-inference: descent probes in order with the incumbent latency falling', async () => {
    const reports = await exactPhases('problems/kv-split-inference/kv-bound.json');
    expect(reports.length).toBeGreaterThan(2);
    expect(increasing(numbers(reports, /^descent probe (\d+)$/))).toBe(true);
    expect(increasing(reports.map((r) => -(r.incumbent ?? NaN)))).toBe(true);
  });

  it('parallel-placement training: the scalar pass reports its plan (the cut-off of the Pareto pass)', async () => {
    // Metis's fleet cut to its first six servers (link pairs of the others dropped): a DP of a tenth of a second.
    const reports = await exactPhases('problems/parallel-placement/metis-gpt3-1.5b-4a100-4t4.json', (raw) => {
      const servers = (raw.servers as { name: string }[]).slice(0, 6);
      const names = new Set(servers.map((s) => s.name));
      const links = raw.links as { pairs?: { from: string; to: string }[] };
      const pairs = (links.pairs ?? []).filter((p) => names.has(p.from) && names.has(p.to));
      return { ...raw, servers, links: { ...links, pairs } };
    });
    const scalar = reports.find((r) => r.phase === 'scalar pass done');
    expect(scalar?.incumbent).toBeGreaterThan(0);
  });

  it('the solve chain hands the hook to the exact method (hooks.onProgress, method exact)', async () => {
    const phases: string[] = [];
    const parsed = parseProblem(
      JSON.parse(readFileSync(join(ROOT, 'problems/kv-split-inference/kv-bound.json'), 'utf8')),
    );
    const report = await solve(parsed, {
      backend: 'exact',
      hooks: { onProgress: (e) => void (e.method === 'exact' && e.phase !== undefined && phases.push(e.phase)) },
    });
    expect(report.termination).toBe('optimal');
    expect(phases.length).toBeGreaterThan(2);
    expect(phases.every((p) => p.startsWith('descent probe'))).toBe(true);
  });
});

describe('progress on stderr (the real entry point, spawned)', () => {
  it("a solve of seconds prints the exact method's phases on stderr; --json's stdout stays parseable", async () => {
    const { stdout, stderr } = await spawnedSolve;
    const report = JSON.parse(stdout) as { method: string; termination: string };
    expect(report.method).toBe('exact');
    const lines = stderr.split('\n').filter((l) => l.startsWith('edgeplan: '));
    expect(lines.length, stderr).toBeGreaterThanOrEqual(1);
    // The exact method's own phase after its name: a peer seeding the incumbent, then the layers.
    expect(stderr).toMatch(/^edgeplan: \d+ s {2}exact {2}(incumbent from peer \S+|aggregate bound, layer \d+ of 58)/m);
  }, 60_000);
});

const knapsack = {
  kind: 'milp',
  sense: 'max',
  variables: [
    { name: 'a', type: 'binary' },
    { name: 'b', type: 'binary' },
    { name: 'c', type: 'binary' },
  ],
  objective: { a: 5, b: 4, c: 3 },
  constraints: [{ name: 'cap', terms: { a: 2, b: 3, c: 1 }, upper: 3 }],
};

describe('sweep paths with [*]', () => {
  it('sets the field in every element of the array, and only there', () => {
    const raw = {
      users: [
        { up: 1, down: 2 },
        { up: 3, down: 4 },
      ],
      up: 9,
    };
    expect(parseFieldPath('users[*].up')).toEqual(['users', '*', 'up']);
    expect(withField(raw, parseFieldPath('users[*].up'), 7)).toEqual({
      users: [
        { up: 7, down: 2 },
        { up: 7, down: 4 },
      ],
      up: 9,
    });
    expect(withField({ m: [[1, 2], [3]] }, parseFieldPath('m[*][*]'), 0)).toEqual({ m: [[0, 0], [0]] });
    expect(raw.users[0].up).toBe(1);
  });

  it('names the JSON path when [*] does not meet an array or meets an empty one', () => {
    expect(() => withField({ users: {} }, parseFieldPath('users[*].up'), 1)).toThrow(InputError);
    expect(() => withField({ users: [] }, parseFieldPath('users[*].up'), 1)).toThrow(/empty array/);
    expect(() => withField({ users: [{ up: 'x' }] }, parseFieldPath('users[*].up'), 1)).toThrow(/numeric field/);
  });
});

describe('sweep grids, peers, CSV and plot', () => {
  it('solves every combination of two axes, first axis slowest, with the peers at each point', async () => {
    const report = await sweepGrid(
      knapsack,
      [
        { path: 'constraints[0].upper', values: [2, 3] },
        { path: 'objective.c', values: [1, 10] },
      ],
      { withPeers: true },
    );
    expect(report.paths).toEqual(['$.constraints[0].upper', '$.objective.c']);
    expect(report.rows.map((r) => r.values)).toEqual([
      [2, 1],
      [2, 10],
      [3, 1],
      [3, 10],
    ]);
    // Brute force over the 8 subsets of {a, b, c} for each point.
    for (const row of report.rows) {
      const [cap, c] = row.values ?? [];
      let best = 0;
      for (let mask = 0; mask < 8; mask++) {
        const [x, y, z] = [mask & 1, (mask >> 1) & 1, (mask >> 2) & 1];
        if (2 * x + 3 * y + z <= cap) best = Math.max(best, 5 * x + 4 * y + c * z);
      }
      expect(row.objective).toBeCloseTo(best, 9);
      expect(row.peers?.length).toBeGreaterThan(0);
      for (const peer of row.peers ?? [])
        if (peer.objective !== null) expect(peer.objective).toBeLessThanOrEqual(best + 1e-9);
    }
    const csv = sweepCsv(report).trim().split('\n');
    expect(csv[0]).toBe('$.constraints[0].upper,$.objective.c,method,role,termination,feasible,objective,gap,time_s');
    expect(csv.filter((l) => l.includes(',solver,'))).toHaveLength(4);
    expect(csv.filter((l) => l.includes(',peer,')).length).toBe(4 * (report.rows[0].peers?.length ?? 0));
    const svg = await sweepPlotSvg(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('edgeplan');
  });

  it('keeps the one-axis sweep as it was (value per row, path)', async () => {
    const report: SweepReport = await sweep(knapsack, 'constraints[0].upper', [1, 3]);
    expect(report.path).toBe('$.constraints[0].upper');
    expect(report.rows.map((r) => [r.value, r.objective])).toEqual([
      [1, 3],
      [3, 8],
    ]);
  });

  it('quotes CSV fields that hold a comma or a quote', () => {
    const report: SweepReport = {
      kind: 'milp',
      path: '$.a',
      rows: [
        {
          value: 1,
          method: 'highs',
          termination: 'optimal',
          objective: 2,
          gap: 0,
          summary: null,
          decision: null,
          timeSeconds: 0.5,
          peers: [{ name: 'a,"b"', objective: null, feasible: false, timeSeconds: 0 }],
        },
      ],
    };
    expect(sweepCsv(report).split('\n')[2]).toBe('1,"a,""b""",peer,,false,,,0');
  });
});
