import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compare, solve } from '../../../src/api.ts';
import { getBackend } from '../../../src/backends/registry.ts';
import { BACKEND_NAMES } from '../../../src/backends/types.ts';
import { checkMilpSolution } from '../../../src/milp/check.ts';
import { solveExact, solveUnconstrained } from '../../../src/formulations/speculative-threshold/exact.ts';
import { speculativeThresholdFormulation as f } from '../../../src/formulations/speculative-threshold/index.ts';
import { paretoOptions, undominatedChoices } from '../../../src/formulations/speculative-threshold/milp.ts';
import { roundTable } from '../../../src/formulations/speculative-threshold/cost.ts';
import { example, problemArb } from './gen.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const exactCtx = {
  mipGap: 1e-9,
  solveMilp: (
    m: Parameters<ReturnType<typeof getBackend>['solve']>[0],
    o?: Parameters<ReturnType<typeof getBackend>['solve']>[1],
  ) => getBackend('highs').solve(m, o),
};

describe('Charnes–Cooper MILP', () => {
  it('every backend reaches the exact optimum through the solve chain; the warm start encodes to a feasible point', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb({ maxStates: 2, maxDraft: 3, budget: true, objective: true }), async (raw) => {
        const exact = await solve(raw, { backend: 'exact', mipGap: 1e-9 });
        const p = f.parse(raw);
        const compiled = f.compile?.(p);
        if (!compiled) throw new Error('compile missing');
        const warm = f.warmStart?.(p, Infinity) ?? null;
        if (warm !== null) {
          const start = compiled.encode?.(warm) ?? null;
          expect(start).not.toBeNull();
          expect(checkMilpSolution(compiled.model, start as number[]).ok).toBe(true);
        }
        for (const backend of BACKEND_NAMES) {
          const res = await solve(raw, { backend, mipGap: 1e-9, timeLimitSeconds: 30 });
          if (exact.termination === 'infeasible') {
            expect(res.termination, backend).toBe('infeasible');
            continue;
          }
          expect(res.termination, backend).toBe('optimal');
          expect(res.solution?.evaluation.feasible).toBe(true);
          expect((res.solution?.objective as number) / (exact.solution?.objective as number)).toBeCloseTo(1, 6);
        }
      }),
      { numRuns: 5, seed: 11 },
    );
  }, 120_000);

  it('each pruned option has a kept replacement at least as good in cost, tokens and (with a budget) energy', () => {
    for (const name of ['energy-budget', 'satellite']) {
      const p = f.parse(example(name));
      const t = roundTable(p);
      p.states.forEach((_, s) => {
        const { kept, replacement } = undominatedChoices(p, s);
        expect(kept.length).toBeLessThan(t.choices.length);
        replacement.forEach((k, j) => {
          expect(kept).toContain(k);
          expect(t.cost[s][k]).toBeLessThanOrEqual(t.cost[s][j]);
          expect(t.tokens[s][k]).toBeGreaterThanOrEqual(t.tokens[s][j]);
          if (p.energyBudgetJoulesPerToken !== null) expect(t.joules[s][k]).toBeLessThanOrEqual(t.joules[s][j]);
        });
      });
    }
  });

  it('Pareto pruning keeps exactly the options not dominated in both values', () => {
    const a = Float64Array.from([3, 1, 2, 1, 5]);
    const b = Float64Array.from([1, 4, 2, 3, 0]);
    expect(paretoOptions(a, b).sort()).toEqual([0, 2, 3, 4]);
  });
});

describe('through the API and the CLI', () => {
  it('solve() uses the exact method and returns the optimum with a per-state policy', async () => {
    const report = await solve(example('phone-1b-draft-llama-2-7b-5g'));
    expect(report.method).toBe('exact');
    expect(report.termination).toBe('optimal');
    const p = f.parse(example('phone-1b-draft-llama-2-7b-5g'));
    expect(report.solution?.objective).toBeCloseTo(solveUnconstrained(p).ratio, 12);
  });

  it('compare(): all methods agree and the optimum is no worse than any feasible peer (simulated peers within 3 SE)', async () => {
    for (const name of ['phone-1b-draft-llama-2-7b-5g', 'energy-budget']) {
      const raw = example(name);
      const report = await compare(raw, { only: ['glpk'] });
      expect(report.agreement.agree).toBe(true);
      const exactRow = report.rows.find((r) => r.method === 'exact');
      const optimum = exactRow?.objective as number;
      const p = f.parse(raw);
      for (const row of report.rows.filter((r) => r.kind === 'baseline' && r.feasible)) {
        const baseline = f.baselines.find((b) => b.name === row.method);
        const d = baseline?.run(p);
        const be = f.evaluate(p, d as NonNullable<typeof d>);
        const se = ((be.breakdown as { objectiveStandardError?: number }).objectiveStandardError ?? 0) * 3;
        expect(optimum, `${name}: ${row.method}`).toBeLessThanOrEqual((row.objective as number) + se + 1e-12 * optimum);
      }
    }
  }, 60_000);

  it('explains an energy budget no policy can meet, and the CLI exits 1', async () => {
    const raw = { ...example('energy-budget'), energyBudgetJoulesPerToken: 1e-6 };
    const p = f.parse(raw);
    const r = await solveExact(p, exactCtx);
    expect(r.termination).toBe('infeasible');
    expect(f.explainInfeasible?.(p)).toMatch(
      /budget is 1\.00 µJ per token, but the least any policy spends is \d+\.\d+ µJ per token/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(raw));
    const run = spawnSync('node', [BIN, 'solve', file], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/µJ per token/);
  }, 60_000);

  it('the CLI solves an example file and rejects bad input with exit code 2', () => {
    const out = execFileSync(
      'node',
      [BIN, 'solve', new URL('../../../problems/speculative-threshold/satellite.json', import.meta.url).pathname],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/state geo-fallback/);
    expect(out).toMatch(/speed-up over server-only decoding/);
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...example('satellite'), draftTokens: { min: 0, max: -1 } }));
    const run = spawnSync('node', [BIN, 'solve', file], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/\$\.draftTokens\.max/);
  }, 60_000);
});
