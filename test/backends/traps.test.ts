/**
 * One test per backend trap listed in ARCHITECTURE.md ("Backend-specific traps"): where it
 * can be shown deterministically, the raw solver is first shown to fall into the trap, then
 * the adapter is shown to absorb it.
 */

import type { Highs } from 'highs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { glpkBackend, loadGlpkRuntime, toGlpkLp } from '../../src/backends/glpk.ts';
import {
  highsBackend,
  loadHighsRuntime,
  setHighsLoaderForTesting,
  toHighsModelData,
} from '../../src/backends/highs.ts';
import { interpretJslpResult, jslpBackend, loadJslpSolver, toJslpModel } from '../../src/backends/jslp.ts';
import { neverThrowing } from '../../src/backends/registry.ts';
import { checkMilpSolution, describeViolations } from '../../src/milp/check.ts';
import { generalizedAssignment } from '../../src/milp/generators.ts';
import { ModelBuilder, term, type Model } from '../../src/milp/model.ts';
import type { MilpResult } from '../../src/milp/result.ts';
import { catalogue } from './catalogue.ts';

// Solver tests share two cores with other suites; the limit guards against hangs, not speed.
vi.setConfig({ testTimeout: 60_000 });

const byId = (id: string): Model => {
  const entry = catalogue().find((e) => e.id === id);
  if (entry === undefined) throw new Error(`no catalogue model ${id}`);
  return entry.model;
};

function expectFeasible(model: Model, result: MilpResult): void {
  expect(result.solution).not.toBeNull();
  if (result.solution === null) return;
  const check = checkMilpSolution(model, result.solution.values);
  expect(check.ok, describeViolations(check)).toBe(true);
}

describe('javascript-lp-solver traps', () => {
  it('a time-limited MIP never returns fractional integers as a solution', async () => {
    // 40 × 8 type-D GAP with a 1 ms timeout: the search is cut off long before it ends.
    const model = generalizedAssignment(40, 8, 1);
    const result = await jslpBackend.solve(model, { timeLimitSeconds: 0.001 });
    expect(['time_limit', 'optimal']).toContain(result.termination);
    if (result.solution !== null) expectFeasible(model, result);
    if (result.termination === 'optimal') expect(result.solution).not.toBeNull();
  });

  it('a feasible-but-fractional MIP result (no isIntegral) is read as "no solution"', () => {
    const model = byId('mip-general');
    const { substitutions } = toJslpModel(model);
    // What jslp hands back when its timeout cuts the search: the last node's relaxation.
    const fractional = { feasible: true, result: 21, bounded: true, v0: 3, v1: 1.5 };
    expect(interpretJslpResult(fractional, substitutions, true, true)).toEqual({
      termination: 'time_limit',
      message: 'jslp: timeout before an integral solution',
    });
    expect(interpretJslpResult(fractional, substitutions, true, false)).toEqual({ termination: 'infeasible' });
    const integral = { ...fractional, result: 20, isIntegral: true, v0: 4, v1: undefined };
    expect(interpretJslpResult(integral, substitutions, true, false)).toEqual({
      termination: 'optimal',
      values: [4, 0],
    });
  });

  it('variables named feasible/result collide with status fields in the raw solver, not in the adapter', async () => {
    const solver = await loadJslpSolver();
    // Raw: max feasible + 2·result s.t. feasible + result ≤ 4 → optimum 8 at result = 4.
    const raw = solver.Solve({
      optimize: 'o',
      opType: 'max',
      constraints: { cap: { max: 4 } },
      variables: { feasible: { o: 1, cap: 1 }, result: { o: 2, cap: 1 } },
    }) as { result: number };
    expect(raw.result).toBe(4); // the objective 8 was overwritten by the variable `result`
    const b = new ModelBuilder('collide', 'max');
    const f = b.addVariable('feasible');
    const r = b.addVariable('result');
    b.addObjective(f, 1);
    b.addObjective(r, 2);
    b.lessEqual('cap', [term(f), term(r)], 4);
    const ours = await jslpBackend.solve(b.build());
    expect(ours.termination).toBe('optimal');
    expect(ours.solution?.objective).toBe(8);
    expect(ours.solution?.values).toEqual([0, 4]);
  });

  it('zero values, omitted by the raw solver, are filled back in', async () => {
    const model = byId('lp-degenerate'); // optimum (1, 0, 1, 0)
    const solver = await loadJslpSolver();
    const raw = solver.Solve(toJslpModel(model).model) as Record<string, unknown>;
    expect(raw.v1).toBeUndefined();
    expect(raw.v3).toBeUndefined();
    const ours = await jslpBackend.solve(model);
    expect(ours.solution?.values).toEqual([1, 0, 1, 0]);
  });
});

describe('glpk.js traps', () => {
  it('status 1 under presolve on an infeasible or unbounded LP is re-checked', async () => {
    const glpk = await loadGlpkRuntime();
    for (const [id, expected] of [
      ['lp-infeasible', 'infeasible'],
      ['lp-unbounded', 'unbounded'],
    ] as const) {
      const raw = glpk.solve(toGlpkLp(glpk, byId(id)), { msglev: glpk.GLP_MSG_OFF, presol: true });
      expect(raw.result.status, id).toBe(glpk.GLP_UNDEF);
      const ours = await glpkBackend.solve(byId(id));
      expect(ours.termination, id).toBe(expected);
      expect(ours.solution).toBeNull();
    }
  });

  it('"gap reached" (status 2 well inside the time limit) is optimal within mipGap', async () => {
    const model = generalizedAssignment(20, 5, 1);
    const glpk = await loadGlpkRuntime();
    const raw = glpk.solve(toGlpkLp(glpk, model), { msglev: glpk.GLP_MSG_OFF, mipgap: 0.05 });
    expect(raw.result.status).toBe(glpk.GLP_FEAS);
    const ours = await glpkBackend.solve(model, { mipGap: 0.05, timeLimitSeconds: 120 });
    expect(ours.termination).toBe('optimal');
    expect(ours.message).toMatch(/gap/);
    expectFeasible(model, ours);
  });

  it('"time limit" (status 2 after the whole limit) is time_limit, with the incumbent and a gap', async () => {
    // Type-D GAP 30 × 5: GLPK needs far more than 1 s to prove optimality.
    const model = generalizedAssignment(30, 5, 1);
    const ours = await glpkBackend.solve(model, { timeLimitSeconds: 1 });
    expect(ours.termination).toBe('time_limit');
    if (ours.solution !== null) {
      expectFeasible(model, ours);
      expect(ours.solution.bound).toBeLessThanOrEqual(ours.solution.objective);
      expect(ours.solution.gap).toBeGreaterThan(0);
    }
  });

  it('columns default to lower bound 0 in the raw solver; the adapter bounds every column', async () => {
    // min x + 2y with x ≥ −5, −3 ≤ y ≤ 10, x + y ≥ −6 → −9 at (−3, −3).
    const model = byId('lp-negative-bounds');
    const glpk = await loadGlpkRuntime();
    const lp = toGlpkLp(glpk, model);
    const { bounds: _explicit, ...withoutBounds } = lp;
    const raw = glpk.solve(withoutBounds, { msglev: glpk.GLP_MSG_OFF });
    expect(raw.result.z).toBe(0); // both columns stuck at their default lower bound 0
    const ours = await glpkBackend.solve(model);
    expect(ours.solution?.objective).toBe(-9);
    const free = await glpkBackend.solve(byId('lp-free'));
    expect(free.solution?.values).toEqual([-2, -1]);
  });

  it('integer columns with fractional bounds are rounded inward (glp_intopt rejects them)', async () => {
    const ours = await glpkBackend.solve(byId('no-constraints'));
    expect(ours.termination).toBe('optimal');
    expect(ours.solution?.values).toEqual([2, 2.5]);
  });
});

describe('highs traps', () => {
  afterEach(() => setHighsLoaderForTesting(null));

  it('names that break LP text (inf…, nan…, a-b, keywords) do not matter to the array API', async () => {
    const highs = await loadHighsRuntime();
    const lpText = (y: string): string =>
      `Maximize\n obj: x + ${y}\nSubject To\n c1: x + ${y} <= 4\n c2: ${y} <= 1\n c3: x <= 2\nEnd\n`;
    // The legacy LP-text path: `inf` is read as infinity, `nanny` as NaN times `ny`, `a-b` as
    // a − b, and the keyword `free` aborts the reader.
    expect(highs.solve(lpText('inf'), { output_flag: false }).ObjectiveValue).toBe(Infinity);
    expect(Object.keys(highs.solve(lpText('nanny'), { output_flag: false }).Columns)).toEqual(['x', 'ny']);
    expect(Object.keys(highs.solve(lpText('a-b'), { output_flag: false }).Columns)).toEqual(['x', 'a', 'b']);
    expect(() => highs.solve(lpText('free'), { output_flag: false })).toThrow(/Unable to read LP model/);
    for (const name of ['inf', 'nanny', 'a-b', 'free']) {
      const b = new ModelBuilder('names', 'max');
      const x = b.addVariable('x', { upper: 2 });
      const y = b.addVariable(name);
      b.addObjective(x, 1);
      b.addObjective(y, 1);
      b.lessEqual('c1', [term(x), term(y)], 4);
      b.lessEqual('c2', [term(y)], 1);
      const ours = await highsBackend.solve(b.build());
      expect(ours.termination, name).toBe('optimal');
      expect(ours.solution?.values, name).toEqual([2, 1]);
    }
  });

  it('the MIP gap is set explicitly: HiGHS default 1e-4 stops early, ours proves 1e-6', async () => {
    // A large objective constant makes HiGHS's relative 1e-4 an absolute gap of about 30.
    const base = generalizedAssignment(15, 3, 2);
    const model: Model = { ...base, objectiveConstant: 3e5 };
    const highs = await loadHighsRuntime();
    const raw = highs.withModel(toHighsModelData(highs, model), (hm) => {
      hm.options.set('output_flag', false);
      expect(hm.options.get('mip_rel_gap')).toBe(1e-4);
      hm.run();
      return { status: hm.getModelStatus(), objective: hm.getObjectiveValue() };
    });
    expect(raw.status).toBe(highs.constants.modelStatus.optimal);
    const ours = await highsBackend.solve(model);
    expect(ours.termination).toBe('optimal');
    const solution = ours.solution;
    expect(solution?.gap).toBeLessThanOrEqual(1e-6);
    if (solution?.bound === undefined) throw new Error('HiGHS reports a bound for MIPs');
    // Integer costs: a proven absolute gap below 1 means this is the optimum.
    expect(solution.objective - solution.bound).toBeLessThan(1);
    // "Optimal" by HiGHS's default gap, yet worse than the true optimum.
    expect(raw.objective).toBeGreaterThanOrEqual(solution.objective + 1);
  });

  it('a WASM abort is memory_limit naming the backend, and the next solve loads a fresh runtime', async () => {
    const real = await loadHighsRuntime();
    let loads = 0;
    const aborting: Highs = {
      ...real,
      withModel: () => {
        throw new WebAssembly.RuntimeError('Aborted(OOM). Build with -sASSERTIONS for more info.');
      },
    };
    setHighsLoaderForTesting(async () => {
      loads++;
      return loads === 1 ? aborting : real;
    });
    const model = byId('mip-general');
    const first = await highsBackend.solve(model);
    expect(first.termination).toBe('memory_limit');
    expect(first.solution).toBeNull();
    expect(first.message).toMatch(/^highs: .*RuntimeError: Aborted\(OOM\)/);
    const second = await highsBackend.solve(model);
    expect(loads).toBe(2);
    expect(second.termination).toBe('optimal');
    expect(second.solution?.objective).toBe(20);
  });

  it('a runtime that fails to load is an error, and loading is retried next time', async () => {
    const real = await loadHighsRuntime();
    let loads = 0;
    setHighsLoaderForTesting(async () => {
      loads++;
      if (loads === 1) throw new Error('cannot instantiate highs.wasm');
      return real;
    });
    const first = await highsBackend.solve(byId('lp-optimal'));
    expect(first.termination).toBe('error');
    expect(first.message).toMatch(/cannot instantiate/);
    const second = await highsBackend.solve(byId('lp-optimal'));
    expect(second.termination).toBe('optimal');
    expect(loads).toBe(2);
  });

  it('a node limit stops the search with node_limit', async () => {
    const model = generalizedAssignment(12, 4, 3); // not solved at the root node
    const result = await highsBackend.solve(model, { nodeLimit: 1 });
    expect(result.termination).toBe('node_limit');
    if (result.solution !== null) {
      expectFeasible(model, result);
      expect(result.solution.gap).toBeGreaterThan(1e-6);
    }
  });

  it('accepts a warm start and rejects one of the wrong length', async () => {
    const model = generalizedAssignment(10, 3, 2);
    const cold = await highsBackend.solve(model);
    expect(cold.termination).toBe('optimal');
    const start = cold.solution?.values ?? [];
    const warm = await highsBackend.solve(model, { warmStart: start });
    expect(warm.termination).toBe('optimal');
    expect(warm.solution?.objective).toBe(cold.solution?.objective);
    const bad = await highsBackend.solve(model, { warmStart: start.slice(1) });
    expect(bad.termination).toBe('invalid_model');
    expect(bad.message).toMatch(/warmStart/);
  });
});

describe('every backend', () => {
  it('turns a thrown exception into an error result (registry guard)', async () => {
    const broken = neverThrowing({
      ...highsBackend,
      solve: () => {
        throw new Error('adapter bug');
      },
    });
    const result = await broken.solve(byId('lp-optimal'));
    expect(result).toMatchObject({
      backend: 'highs',
      termination: 'error',
      solution: null,
      message: 'Error: adapter bug',
    });
  });

  it.each([highsBackend, glpkBackend, jslpBackend].map((b) => [b.name, b] as const))(
    '%s rejects invalid options and invalid models as invalid_model, without throwing',
    async (_name, backend) => {
      const model = byId('lp-optimal');
      expect((await backend.solve(model, { timeLimitSeconds: 0 })).termination).toBe('invalid_model');
      expect((await backend.solve(model, { mipGap: -1 })).termination).toBe('invalid_model');
      const nan: Model = { ...model, objective: [{ variable: 0, coefficient: Number.NaN }] };
      const result = await backend.solve(nan);
      expect(result.termination).toBe('invalid_model');
      expect(result.message).toMatch(new RegExp(`^${backend.name}: invalid model`));
    },
  );
});
