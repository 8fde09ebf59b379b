/**
 * Scaling (src/milp/scale.ts, applied by guardedSolve for every backend) and the status facts the
 * guard keeps. The models are built the way the families build theirs — a budget row in joules
 * with µJ coefficients, storage rows in bytes next to ±1 rows, a bottleneck objective in seconds
 * of order 1e-7 — and every backend must return the optimum found by enumeration. Without
 * scaling HiGHS returns a wrong "optimal" on each of the first two (pinned below through the
 * unscaled HiGHS arrays), and GLPK without the objective constant stops 3e-4 off.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { solve } from '../../src/api.ts';
import { glpkBackend, loadGlpkRuntime, toGlpkLp } from '../../src/backends/glpk.ts';
import { loadHighsRuntime, toHighsModelData } from '../../src/backends/highs.ts';
import { jslpBackend } from '../../src/backends/jslp.ts';
import { listBackends } from '../../src/backends/registry.ts';
import { boundOnWrongSide, guardedSolve, type Outcome } from '../../src/backends/support.ts';
import { checkMilpSolution } from '../../src/milp/check.ts';
import { ModelBuilder, isInteger, term, type Model } from '../../src/milp/model.ts';
import { scaleModel } from '../../src/milp/scale.ts';

vi.setConfig({ testTimeout: 60_000 });

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const relOff = (value: number, best: number): number => Math.abs(value - best) / Math.abs(best);

/** 4 items × 3 options, one option each; minimise time (ms) within an energy budget of a few µJ. */
function microjouleBudget(seed: number): { model: Model; best: number } {
  const r = lcg(seed);
  const b = new ModelBuilder('budget', 'min');
  const x: number[][] = [];
  const t: number[][] = [];
  const e: number[][] = [];
  for (let i = 0; i < 4; i++) {
    x.push([]);
    t.push([]);
    e.push([]);
    for (let k = 0; k < 3; k++) {
      x[i].push(b.binary(`x${i}_${k}`));
      t[i].push(1e-3 * (1 + k + r()));
      e[i].push((1e-6 * (3 - k + r())) / 4); // faster options spend more energy
    }
    b.equal(`one${i}`, x[i].map((c) => term(c)), 1);
  }
  const combos: { time: number; energy: number }[] = [];
  const walk = (i: number, time: number, energy: number): void => {
    if (i === 4) combos.push({ time, energy });
    else for (let k = 0; k < 3; k++) walk(i + 1, time + t[i][k], energy + e[i][k]);
  };
  walk(0, 0, 0);
  const budget = [...combos].sort((p, q) => p.energy - q.energy)[Math.floor(combos.length / 2)].energy;
  b.lessEqual('energy', x.flatMap((row, i) => row.map((c, k) => term(c, e[i][k]))), budget);
  x.forEach((row, i) => row.forEach((c, k) => b.addObjective(c, t[i][k])));
  const best = Math.min(...combos.filter((c) => c.energy <= budget).map((c) => c.time));
  return { model: b.build(), best };
}

/** 6 layers on 3 servers, minimise the slowest server's time; layer times of order 1e-7 s. */
function microsecondBottleneck(seed: number): { model: Model; best: number } {
  const r = lcg(seed);
  const b = new ModelBuilder('bottleneck', 'min');
  const T = b.addVariable('T');
  const x: number[][] = [];
  const t: number[][] = [];
  for (let i = 0; i < 6; i++) {
    x.push([]);
    t.push([]);
    for (let j = 0; j < 3; j++) {
      x[i].push(b.binary(`x${i}_${j}`));
      t[i].push(1e-7 * (1 + 4 * r()));
    }
    b.equal(`assign${i}`, x[i].map((c) => term(c)), 1);
  }
  for (let j = 0; j < 3; j++) b.greaterEqual(`load${j}`, [term(T), ...x.map((row, i) => term(row[j], -t[i][j]))], 0);
  b.addObjective(T, 1);
  let best = Infinity;
  const loads = [0, 0, 0];
  const walk = (i: number): void => {
    if (i === 6) {
      best = Math.min(best, Math.max(...loads));
      return;
    }
    for (let j = 0; j < 3; j++) {
      loads[j] += t[i][j];
      walk(i + 1);
      loads[j] -= t[i][j];
    }
  };
  walk(0);
  return { model: b.build(), best };
}

/** Model caching: 5 models of 1–7.8 GB on 2 servers, users served only where a copy is; maximise hits. */
function byteStorage(seed: number): { model: Model; best: number } {
  const r = lcg(seed);
  const b = new ModelBuilder('caching', 'max');
  const sizes = Array.from({ length: 5 }, () => 1e9 * (1 + 6.8 * r()));
  const capacity = [8e9, 12e9];
  const prob = sizes.map(() => 0.001 + 0.05 * r());
  const place = sizes.map((_, m) => capacity.map((_, s) => b.binary(`place${m}_${s}`)));
  const serve = sizes.map((_, m) => b.addVariable(`serve${m}`, { upper: 1 }));
  capacity.forEach((cap, s) => b.lessEqual(`storage${s}`, place.map((row, m) => term(row[s], sizes[m])), cap));
  sizes.forEach((_, m) => b.lessEqual(`covered${m}`, [term(serve[m]), ...place[m].map((c) => term(c, -1))], 0));
  serve.forEach((c, m) => b.addObjective(c, prob[m]));
  let best = 0;
  for (let mask = 0; mask < 1 << 10; mask++) {
    const used = [0, 0];
    const covered = sizes.map(() => false);
    sizes.forEach((size, m) => capacity.forEach((_, s) => {
      if ((mask >> (m * 2 + s)) & 1) {
        used[s] += size;
        covered[m] = true;
      }
    }));
    const hits = prob.reduce((a, p, m) => a + (covered[m] ? p : 0), 0);
    if (used.every((u, s) => u <= capacity[s])) best = Math.max(best, hits);
  }
  return { model: b.build(), best };
}

/** A cover problem whose objective terms sum to ≈ 12 and whose constant brings the optimum to 0.01. */
function largeConstant(seed: number): { model: Model; best: number } {
  const r = lcg(seed);
  const b = new ModelBuilder('constant', 'min');
  const n = 14;
  const cost: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < n; i++) {
    cost.push(1 + 1e-4 * r());
    weight.push(1 + Math.floor(9 * r()));
  }
  const x = cost.map((_, i) => b.binary(`x${i}`));
  const need = Math.floor(weight.reduce((p, q) => p + q, 0) * 0.6);
  b.greaterEqual('cover', x.map((c, i) => term(c, weight[i])), need);
  x.forEach((c, i) => b.addObjective(c, cost[i]));
  let cheapest = Infinity;
  for (let mask = 0; mask < 1 << n; mask++) {
    let w = 0;
    let c = 0;
    for (let i = 0; i < n; i++) if ((mask >> i) & 1) {
      w += weight[i];
      c += cost[i];
    }
    if (w >= need) cheapest = Math.min(cheapest, c);
  }
  b.addObjectiveConstant(0.01 - cheapest);
  return { model: b.build(), best: 0.01 };
}

async function unscaledHighsObjective(model: Model): Promise<number> {
  const highs = await loadHighsRuntime();
  return highs.withModel(toHighsModelData(highs, model), (hm) => {
    hm.options.set({ output_flag: false, log_to_console: false, mip_rel_gap: 1e-6, mip_abs_gap: 0 });
    hm.run();
    return Number(hm.info.get('objective_function_value'));
  });
}

describe('scaleModel', () => {
  const { model } = microjouleBudget(1);
  const scaled = scaleModel(model);

  it('uses powers of two only, leaves integer columns unscaled and brings every row near 1', () => {
    const isPowerOfTwo = (f: number): boolean => Number.isInteger(Math.log2(f));
    expect([...scaled.rowScale, ...scaled.columnScale, scaled.objectiveScale].every(isPowerOfTwo)).toBe(true);
    model.variables.forEach((v, j) => {
      if (isInteger(v)) expect(scaled.columnScale[j]).toBe(1);
    });
    for (const row of scaled.model.constraints) {
      const largest = Math.max(...row.terms.map((t) => Math.abs(t.coefficient)));
      expect(largest).toBeGreaterThanOrEqual(Math.SQRT1_2);
      expect(largest).toBeLessThanOrEqual(Math.SQRT2);
    }
    // The budget row had coefficients ≈ 1e-7 and the objective ≈ 1e-3 before.
    expect(scaled.rowScale[model.constraints.length - 1]).toBeGreaterThan(1e5);
    expect(scaled.objectiveScale).toBeGreaterThan(1e2);
  });

  it('column-scales a continuous column in seconds and maps values back exactly', () => {
    const { model: bn } = microsecondBottleneck(1);
    const s = scaleModel(bn);
    expect(s.columnScale[0]).toBeLessThan(1e-5); // T is solved in units of about 1e-7 s
    const values = bn.variables.map((_, j) => (j === 0 ? 5.123456789e-7 : j % 2));
    expect(s.unscaleValues(s.scaleValues(values))).toEqual(values);
    expect(s.unscaleObjective(s.objectiveScale * 0.3)).toBe(0.3);
    expect(s.model.objectiveConstant).toBe(bn.objectiveConstant * s.objectiveScale);
  });

  it('does not touch the model it is given', () => {
    const before = JSON.stringify(model);
    scaleModel(model);
    expect(JSON.stringify(model)).toBe(before);
  });
});

describe('every backend returns the true optimum of badly scaled family-style models', () => {
  it('µJ energy budget (HiGHS on the unscaled arrays ignores the budget)', async () => {
    const trap = microjouleBudget(1);
    expect(relOff(await unscaledHighsObjective(trap.model), trap.best)).toBeGreaterThan(0.1);
    for (const seed of [1, 2, 3, 29]) {
      const { model, best } = microjouleBudget(seed);
      for (const backend of listBackends()) {
        const result = await backend.solve(model);
        expect(result.termination, `${backend.name} seed ${seed}`).toBe('optimal');
        expect(relOff(result.solution!.objective, best), `${backend.name} seed ${seed}`).toBeLessThan(1e-6);
      }
    }
  });

  it('bottleneck objective in seconds of order 1e-7 (HiGHS on the unscaled arrays returns 0)', async () => {
    const trap = microsecondBottleneck(1);
    expect(relOff(await unscaledHighsObjective(trap.model), trap.best)).toBeGreaterThan(0.1);
    for (const seed of [1, 2, 3]) {
      const { model, best } = microsecondBottleneck(seed);
      for (const backend of listBackends()) {
        const result = await backend.solve(model);
        expect(result.termination, `${backend.name} seed ${seed}`).toBe('optimal');
        expect(relOff(result.solution!.objective, best), `${backend.name} seed ${seed}`).toBeLessThan(1e-6);
        expect(checkMilpSolution(model, result.solution!.values).ok).toBe(true);
      }
    }
  });

  it('storage rows in bytes next to ±1 rows', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { model, best } = byteStorage(seed);
      for (const backend of listBackends()) {
        const result = await backend.solve(model);
        expect(result.termination, `${backend.name} seed ${seed}`).toBe('optimal');
        expect(relOff(result.solution!.objective, best), `${backend.name} seed ${seed}`).toBeLessThan(1e-6);
      }
    }
  });
});

describe('the objective constant reaches every backend', () => {
  it('GLPK measures its relative gap against the true objective (without the constant it stops 3e-4 off)', async () => {
    const glpk = await loadGlpkRuntime();
    for (const seed of [11, 28]) {
      const { model, best } = largeConstant(seed);
      const withoutConstant = glpk.solve(toGlpkLp(glpk, { ...model, objectiveConstant: 0 }), {
        msglev: glpk.GLP_MSG_OFF,
        presol: true,
        mipgap: 1e-6,
      });
      expect(relOff(withoutConstant.result.z + model.objectiveConstant, best)).toBeGreaterThan(1e-5);
      const result = await glpkBackend.solve(model);
      expect(result.termination).toBe('optimal');
      expect(relOff(result.solution!.objective, best)).toBeLessThan(1e-6);
    }
  });

  it('jslp and GLPK receive it as a column held at 1', async () => {
    const glpk = await loadGlpkRuntime();
    const { model } = largeConstant(11);
    const lp = toGlpkLp(glpk, model);
    expect(lp.objective.vars.at(-1)).toEqual({ name: 'k', coef: model.objectiveConstant });
    const result = await jslpBackend.solve(model);
    expect(result.termination).toBe('optimal');
    expect(relOff(result.solution!.objective, 0.01)).toBeLessThan(1e-6);
  });
});

describe('status facts kept by the guard', () => {
  const b = new ModelBuilder('tiny', 'min');
  const x = b.addVariable('x', { type: 'integer', upper: 10 });
  b.greaterEqual('need', [term(x, 1)], 2);
  b.addObjective(x, 1);
  const tiny = b.build();
  const scripted = (outcome: Outcome) => guardedSolve('highs', tiny, undefined, async () => null, () => outcome);

  it('a bound on the wrong side is dropped and said; 2.2e-16 beside 0 is rounding noise', async () => {
    expect(boundOnWrongSide('min', 0, 2.2e-16)).toBe(false);
    expect(boundOnWrongSide('min', 0, 1e-9)).toBe(true);
    expect(boundOnWrongSide('max', 5.31e-7, 1.05e-6)).toBe(false);
    expect(boundOnWrongSide('max', 1.05e-6, 5.31e-7)).toBe(true);
    const result = await scripted({ termination: 'time_limit', values: [2], bound: 5 });
    expect(result.termination).toBe('time_limit');
    expect(result.solution?.objective).toBe(2);
    expect(result.solution?.bound).toBeUndefined();
    expect(result.message).toMatch(/bound 5 lies above the objective 2 .* dropped/);
  });

  it('a point failing the row check is an error that keeps the solver claim', async () => {
    const claim = { status: 'HiGHS: optimal', objective: 0 };
    const result = await scripted({ termination: 'optimal', values: [0], claim });
    expect(result.termination).toBe('error');
    expect(result.rawClaim).toEqual({ status: 'HiGHS: optimal', objective: 0 });
    expect(result.message).toMatch(/infeasible point/);
  });

  it('"optimal" without a solution and a contradicted infeasibility claim keep the claim', async () => {
    const claim = { status: 'X: optimal', objective: 999 };
    const none = await scripted({ termination: 'optimal', values: null, claim });
    expect(none).toMatchObject({ termination: 'error', rawClaim: { status: 'X: optimal', objective: 999 } });
    const zeroFeasible = new ModelBuilder('zero', 'min');
    zeroFeasible.lessEqual('r', [term(zeroFeasible.addVariable('y'), 1)], 4);
    const claimed = await guardedSolve('jslp', zeroFeasible.build(), undefined, async () => null, () => ({
      termination: 'infeasible',
    }));
    expect(claimed).toMatchObject({ termination: 'error', rawClaim: { status: 'infeasible' } });
  });

  it('an unsettled "infeasible or unbounded" and numerical trouble are their own terminations', async () => {
    expect((await scripted({ termination: 'infeasible_or_unbounded' })).termination).toBe('infeasible_or_unbounded');
    expect((await scripted({ termination: 'numerical_error', message: 'HiGHS: solveError' })).termination).toBe(
      'numerical_error',
    );
  });

  it('an out-of-memory inside the runtime is memory_limit with the backend named', async () => {
    const result = await guardedSolve('glpk', tiny, undefined, async () => null, () => {
      throw new RangeError('Array buffer allocation failed');
    });
    expect(result.termination).toBe('memory_limit');
    expect(result.message).toMatch(/^glpk: /);
  });

  it('only jslp is untrusted on infeasibility', () => {
    expect(Object.fromEntries(listBackends().map((be) => [be.name, be.capabilities.trustedInfeasibility]))).toEqual({
      highs: true,
      glpk: true,
      jslp: false,
    });
  });
});

describe('family models through solve(), every backend against the exact method', () => {
  const relClose = (a: number | undefined, b: number | undefined): boolean =>
    a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);

  it('speculative-threshold with a budget of 2.26 µJ per token (unscaled: numerical_error everywhere)', async () => {
    const raw = JSON.parse(
      readFileSync(new URL('../../problems/speculative-threshold/energy-budget.json', import.meta.url), 'utf8'),
    );
    // The phone's powers divided by 1e4: the unconstrained optimum spends 7.53 µJ per token; the
    // budget is 30 % of that, so the budget row's coefficients are of order 1e-7 J.
    raw.draft.device = { id: 'phone', transmitPowerWatts: 1.5e-4, activePowerWatts: 5e-4 };
    raw.energyBudgetJoulesPerToken = 2.26038e-6;
    const exact = await solve(raw, { backend: 'exact' });
    expect(exact.termination).toBe('optimal');
    // The budget binds: the unconstrained optimum (0.0319 s per token when measured) is faster.
    const free = await solve({ ...raw, energyBudgetJoulesPerToken: undefined }, { backend: 'exact' });
    expect(exact.solution!.objective).toBeGreaterThan(1.2 * free.solution!.objective);
    for (const backend of ['highs', 'glpk', 'jslp'] as const) {
      const report = await solve(raw, { backend, timeLimitSeconds: 60 });
      expect(report.termination, backend).toBe('optimal');
      expect(relClose(report.solution?.objective, exact.solution?.objective), backend).toBe(true);
    }
  });

  it('pipeline-placement: GLPK agrees with exact where, unscaled, it returned an infeasible point', async () => {
    // A contract-generator instance (pipeline-placement seed 49), written out.
    const raw = {
      kind: 'pipeline-placement',
      links: {
        bitsPerSecondMatrix: [[null, 533642394], [461944503, null]],
        latencySecondsMatrix: [[0, 0.004], [0, 0]],
      },
      source: 's0',
      model: { id: 'llama-2-7b', layers: 3 },
      mode: { kind: 'inference-throughput', promptTokens: 16, outputTokens: 16 },
      servers: [
        { name: 's0', device: 'rtx-3090', memoryBytes: 3.5e9, profile: {
          layerSeconds: [0.011, 0.015, 0.035], embeddingSeconds: 0.0001, headSeconds: 0.0004, layerMemoryBytes: 1e9,
          embeddingMemoryBytes: 2e8, headMemoryBytes: 2e8, activationBytesPerHop: 65536 } },
        { name: 's1', device: 'rtx-3090', memoryBytes: 2.5e9, profile: {
          layerSeconds: [0.013, 0.034, 0.026], embeddingSeconds: 0.0001, headSeconds: 0.001, layerMemoryBytes: 1e9,
          embeddingMemoryBytes: 2e8, headMemoryBytes: 2e8, activationBytesPerHop: 65536 } },
      ],
    };
    const exact = await solve(raw, { backend: 'exact' });
    expect(exact.termination).toBe('optimal');
    for (const backend of ['highs', 'glpk'] as const) {
      const report = await solve(raw, { backend, timeLimitSeconds: 60 });
      expect(report.termination, backend).toBe('optimal');
      expect(relClose(report.solution?.objective, exact.solution?.objective), backend).toBe(true);
    }
  });

  it('model-caching: GLPK\'s point is polished (integers fixed, LP re-solved) where it missed serve ≤ x', async () => {
    // A model-caching contract-generator instance (seed 95), written out: GLPK's MIP point had
    // serve = 1.33e-6 with x = 0 (a row over by 1.33e-6) and was an error; brute force gives 0.56604525.
    const link = (latencySeconds: number) => ({
      downlinkBitsPerSecond: 1e12,
      uplinkBitsPerSecond: 1e9,
      latencySeconds,
    });
    const raw = {
      kind: 'model-caching',
      blocks: [
        { id: 'base0', sizeBytes: 1e9 },
        { id: 'top0.0', sizeBytes: 3e9 },
        { id: 'top0.1', sizeBytes: 3e9 },
      ],
      models: [
        { id: 'm0.0', blocks: ['base0', 'top0.0'] },
        { id: 'm0.1', blocks: ['base0', 'top0.1'] },
      ],
      servers: [
        { id: 's0', storageBytes: 4e9 },
        { id: 's1', storageBytes: 4e9 },
      ],
      users: [
        { id: 'u0', links: [{ server: 's0', link: link(0.52) }], latencyBoundSeconds: 10, requests: { 'm0.0': 0.011 } },
        {
          id: 'u1',
          links: [{ server: 's0', link: link(0.47) }],
          latencyBoundSeconds: 10,
          requests: { 'm0.0': 0.439, 'm0.1': 0.037 },
        },
        {
          id: 'u2',
          links: [{ server: 's0', link: link(0.98) }, { server: 's1', link: link(0.51) }],
          latencyBoundSeconds: 10,
          requests: { 'm0.0': 0.095, 'm0.1': 0.591 },
        },
      ],
      objective: 'expected-latency',
      cloudLatencySeconds: 1,
      parameterSharing: true,
    };
    for (const backend of ['glpk', 'highs'] as const) {
      const report = await solve(raw, { backend });
      expect(report.termination, backend).toBe('optimal');
      expect(relClose(report.solution?.objective, 0.5660452466700967), backend).toBe(true);
    }
  });
});
