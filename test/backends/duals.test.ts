/**
 * LP duals and reduced costs (issue 18 item 7): HiGHS and GLPK report them for LPs, in the original model's units
 * (the model each backend solves is scaled, src/milp/scale.ts), with one convention for both senses: the dual of a
 * row is ∂z/∂(its active bound), a reduced cost ∂z/∂(the column's active bound). Checked on LPs solved by hand, by
 * finite differences (move a bound, re-solve, compare the change of the optimum), and HiGHS against GLPK.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, parseProblem, readModelFile, solve, type Backend, type MilpResult } from '../../src/api.ts';
import { getBackend } from '../../src/backends/registry.ts';
import type { BackendName } from '../../src/backends/types.ts';
import { dualCertificateFailure } from '../../src/formulations/milp/duals.ts';
import { parseMilp } from '../../src/formulations/milp/schema.ts';
import type { MilpDecision } from '../../src/formulations/milp/schema.ts';
import { ModelBuilder, type Model, type Sense } from '../../src/milp/model.ts';

const BACKENDS: readonly BackendName[] = ['highs', 'glpk'];

async function lp(name: BackendName, model: Model) {
  const result = await getBackend(name).solve(model);
  expect(result.termination, `${name}: ${result.message ?? ''}`).toBe('optimal');
  const solution = result.solution!;
  expect(solution.duals, `${name} duals`).toBeDefined();
  expect(solution.reducedCosts, `${name} reduced costs`).toBeDefined();
  return { objective: solution.objective, duals: solution.duals!, reducedCosts: solution.reducedCosts! };
}

/** min 2x + 3y, x + y ≥ 4, x + 3y ≥ 6, x ≤ 10 (a row): optimum (3, 1), z = 9, duals 1.5, 0.5, 0. */
function handMin(): Model {
  const b = new ModelBuilder('hand-min', 'min');
  const x = b.addVariable('x', { lower: 0 });
  const y = b.addVariable('y', { lower: 0 });
  b.addConstraint(
    'c1',
    [
      { variable: x, coefficient: 1 },
      { variable: y, coefficient: 1 },
    ],
    4,
    Infinity,
  );
  b.addConstraint(
    'c2',
    [
      { variable: x, coefficient: 1 },
      { variable: y, coefficient: 3 },
    ],
    6,
    Infinity,
  );
  b.addConstraint('c3', [{ variable: x, coefficient: 1 }], -Infinity, 10);
  b.addObjective(x, 2);
  b.addObjective(y, 3);
  return b.build();
}

/**
 * max 3x + 2y, a: x + y ≤ 4, b: x + 3y ≤ 7, 0 ≤ x ≤ 3 (a bound): optimum (3, 1), z = 11; dual of a is 2 (y basic:
 * 2 − y_a = 0), b is slack; x sits at its upper bound with reduced cost 3 − 2 = 1 (one more unit of bound, +1).
 */
function handMax(scaleRowA = 1): Model {
  const b = new ModelBuilder('hand-max', 'max');
  const x = b.addVariable('x', { lower: 0, upper: 3 });
  const y = b.addVariable('y', { lower: 0 });
  b.addConstraint(
    'a',
    [
      { variable: x, coefficient: scaleRowA },
      { variable: y, coefficient: scaleRowA },
    ],
    -Infinity,
    4 * scaleRowA,
  );
  b.addConstraint(
    'b',
    [
      { variable: x, coefficient: 1 },
      { variable: y, coefficient: 3 },
    ],
    -Infinity,
    7,
  );
  b.addObjective(x, 3);
  b.addObjective(y, 2);
  return b.build();
}

describe.each(BACKENDS)('%s: LP duals', (name) => {
  it('min with ≥ rows: the duals solved by hand, nonnegative', async () => {
    const r = await lp(name, handMin());
    expect(r.objective).toBeCloseTo(9, 9);
    expect(r.duals[0]).toBeCloseTo(1.5, 9);
    expect(r.duals[1]).toBeCloseTo(0.5, 9);
    expect(r.duals[2]).toBeCloseTo(0, 9);
    expect(r.reducedCosts[0]).toBeCloseTo(0, 9);
    expect(r.reducedCosts[1]).toBeCloseTo(0, 9);
  });

  it('max with ≤ rows and a column at its upper bound: duals and reduced cost by hand', async () => {
    const r = await lp(name, handMax());
    expect(r.objective).toBeCloseTo(11, 9);
    expect(r.duals[0]).toBeCloseTo(2, 9);
    expect(r.duals[1]).toBeCloseTo(0, 9);
    expect(r.reducedCosts[0]).toBeCloseTo(1, 9);
    expect(r.reducedCosts[1]).toBeCloseTo(0, 9);
  });

  it('a row written in micro-units (scaled by the guard) has its dual in its own units', async () => {
    // Row a times 1e-6: the same LP; its dual per unit of the (micro) right-hand side is 1e6 times larger.
    const r = await lp(name, handMax(1e-6));
    expect(r.objective).toBeCloseTo(11, 9);
    expect(r.duals[0] / 2e6).toBeCloseTo(1, 9);
    expect(r.reducedCosts[0]).toBeCloseTo(1, 9);
  });

  it('no duals for a model with integer columns', async () => {
    const b = new ModelBuilder('int', 'max');
    const x = b.addVariable('x', { type: 'integer', lower: 0, upper: 10 });
    b.addConstraint('c', [{ variable: x, coefficient: 2 }], -Infinity, 7);
    b.addObjective(x, 1);
    const result = await getBackend(name).solve(b.build());
    expect(result.solution?.objective).toBe(3);
    expect(result.solution?.duals).toBeUndefined();
    expect(result.solution?.reducedCosts).toBeUndefined();
  });
});

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  readonly coefficients: number[];
  lower: number;
  upper: number;
}

interface RandomLp {
  readonly sense: Sense;
  readonly cost: number[];
  readonly rows: Row[];
  readonly upper: number[];
}

/**
 * A bounded random LP with continuous data (so nondegenerate with probability one): packing rows for max, covering
 * rows and one equality row for min, column upper bounds, and row magnitudes from 1e-3 to 1e3 so that scaling acts.
 */
function randomLp(seed: number, sense: Sense): RandomLp {
  const next = random(seed);
  const n = 6;
  const cost = Array.from({ length: n }, () => 1 + 9 * next());
  const upper = Array.from({ length: n }, () => 2 + 8 * next());
  const rows: Row[] = [];
  for (let i = 0; i < 5; i++) {
    const magnitude = 10 ** (3 * (2 * next() - 1));
    const coefficients = Array.from({ length: n }, () => (next() < 0.7 ? magnitude * (0.5 + next()) : 0));
    // Packing rows bind below the column bounds' reach; covering rows ask for less than the bounds allow.
    const rhs = magnitude * (sense === 'max' ? 1 + 3 * next() : 3 + 4 * next());
    rows.push(
      sense === 'max' ? { coefficients, lower: -Infinity, upper: rhs } : { coefficients, lower: rhs, upper: Infinity },
    );
  }
  if (sense === 'min') {
    const eq = Array.from({ length: n }, () => 0.5 + next());
    rows.push({ coefficients: eq, lower: 8, upper: 8 });
  }
  return { sense, cost, rows, upper };
}

function build(p: RandomLp): Model {
  const b = new ModelBuilder('random-lp', p.sense);
  const cols = p.cost.map((_, j) => b.addVariable(`x${j}`, { lower: 0, upper: p.upper[j] }));
  p.rows.forEach((row, i) => {
    const terms = row.coefficients.flatMap((a, j) => (a !== 0 ? [{ variable: cols[j], coefficient: a }] : []));
    b.addConstraint(`r${i}`, terms, row.lower, row.upper);
  });
  p.cost.forEach((c, j) => b.addObjective(cols[j], c));
  return b.build();
}

/** The active bound of a row (the finite one; for an equality either), moved by `delta`. */
function moveRow(p: RandomLp, i: number, delta: number): RandomLp {
  const rows = p.rows.map((r) => ({ ...r, coefficients: r.coefficients }));
  const r = rows[i];
  if (r.lower === r.upper) {
    r.lower += delta;
    r.upper += delta;
  } else if (Number.isFinite(r.upper)) r.upper += delta;
  else r.lower += delta;
  return { ...p, rows };
}

describe('duals by finite differences, and HiGHS = GLPK', () => {
  for (const sense of ['min', 'max'] as const) {
    for (const seed of sense === 'min' ? [1, 2, 5] : [1, 2, 4]) {
      it(`${sense} LP seed ${seed}`, async () => {
        const p = randomLp(seed, sense);
        const base = await Promise.all(BACKENDS.map((name) => lp(name, build(p))));
        const [highs, glpk] = base;
        expect(glpk.objective / highs.objective).toBeCloseTo(1, 7);
        // The instance must test something: binding rows (the equality row at least) with nonzero duals.
        expect(highs.duals.filter((y) => Math.abs(y) > 1e-9).length).toBeGreaterThanOrEqual(2);
        for (let i = 0; i < p.rows.length; i++) {
          const scale = Math.max(1, Math.abs(highs.duals[i]));
          expect(Math.abs(highs.duals[i] - glpk.duals[i]) / scale, `row ${i}`).toBeLessThan(1e-5);
          // Move the row's bound by a small step; the optimum moves by dual × step while the basis holds.
          const rhs = Number.isFinite(p.rows[i].upper) ? p.rows[i].upper : p.rows[i].lower;
          const delta = 1e-5 * Math.max(1, Math.abs(rhs));
          const moved = await lp('highs', build(moveRow(p, i, delta)));
          const slope = (moved.objective - highs.objective) / delta;
          expect(Math.abs(slope - highs.duals[i]), `row ${i}: slope ${slope}, dual ${highs.duals[i]}`).toBeLessThan(
            1e-4 * Math.max(1, Math.abs(highs.duals[i])),
          );
        }
        for (let j = 0; j < p.cost.length; j++) {
          const scale = Math.max(1, Math.abs(highs.reducedCosts[j]));
          expect(Math.abs(highs.reducedCosts[j] - glpk.reducedCosts[j]) / scale, `column ${j}`).toBeLessThan(1e-5);
          // Raise the column's upper bound: the optimum moves by its reduced cost when the column sits there, by 0
          // otherwise (a column at its lower bound 0 is checked by the same formula with the bound unchanged).
          const delta = 1e-5 * p.upper[j];
          const raised = await lp('highs', build({ ...p, upper: p.upper.map((u, k) => (k === j ? u + delta : u)) }));
          const slope = (raised.objective - highs.objective) / delta;
          const atUpper = sense === 'max' ? highs.reducedCosts[j] > 1e-9 : highs.reducedCosts[j] < -1e-9;
          const expected = atUpper ? highs.reducedCosts[j] : 0;
          expect(Math.abs(slope - expected), `column ${j}: slope ${slope}, reduced cost ${expected}`).toBeLessThan(
            1e-4 * Math.max(1, Math.abs(expected)),
          );
        }
      });
    }
  }
});

/**
 * Our own check of the dual certificate (src/formulations/milp/duals.ts, issue: "LP duals skip certification"): duals
 * and reduced costs reach the output only beside a certified optimum and only when they pass dual feasibility,
 * complementary slackness and strong duality on the original model. The tampering backends below wrap the real
 * HiGHS and alter its answer the way a faulty adapter would; the chain and certify are the real ones.
 */
const wyndor = JSON.parse(readFileSync(new URL('../../problems/milp/wyndor-lp.json', import.meta.url), 'utf8'));

/** The real backend `name`, its result passed through `alter` (the model is handed along for recomputations). */
function altered(name: BackendName, alter: (result: MilpResult, model: Model) => MilpResult): Backend {
  const real = getBackend(name);
  return { ...real, solve: async (model, options) => alter(await real.solve(model, options), model) };
}

/** Reduced costs consistent with `duals` on `model` (d = c − Aᵀy), so that only the duals' own fault shows. */
function consistentReducedCosts(model: Model, duals: readonly number[]): number[] {
  const d = model.variables.map(() => 0);
  for (const t of model.objective) d[t.variable] += t.coefficient;
  model.constraints.forEach((row, i) => {
    for (const t of row.terms) d[t.variable] -= duals[i] * t.coefficient;
  });
  return d;
}

function withDuals(result: MilpResult, duals: readonly number[], reducedCosts: readonly number[]): MilpResult {
  if (result.solution === null) throw new Error(`no solution: ${result.termination}`);
  return { ...result, solution: { ...result.solution, duals, reducedCosts } };
}

type Decision = { duals?: Record<string, number>; reducedCosts?: Record<string, number> };
const decisionOf = (report: Awaited<ReturnType<typeof solve>>): Decision => report.solution?.decision as Decision;
const notesOf = (report: Awaited<ReturnType<typeof solve>>): string =>
  report.attempts.flatMap((a) => a.notes).join('\n');

describe('LP duals are certified by our own duality check', () => {
  it('valid duals stand: Wyndor with HiGHS and GLPK keeps them, with no note about them', async () => {
    for (const backend of ['highs', 'glpk'] as const) {
      const report = await solve(wyndor, { backend });
      expect(report.termination).toBe('optimal');
      expect(decisionOf(report).duals).toMatchObject({ plant2_hours: expect.closeTo(1.5, 9) });
      expect(notesOf(report)).not.toMatch(/LP duals/);
    }
  });

  it.each([
    [
      'a dual with the wrong sign (reduced costs made consistent with it)',
      (r: MilpResult, m: Model) => withDuals(r, [0, -1.5, 1], consistentReducedCosts(m, [0, -1.5, 1])),
      /row plant2_hours \(a ≤ row\) has dual -1\.5: the wrong sign for a maximisation \(needs ≥ 0\)/,
    ],
    [
      'a dual on a row that is not binding',
      (r: MilpResult, m: Model) => withDuals(r, [1, 1.5, 1], consistentReducedCosts(m, [1, 1.5, 1])),
      /row plant1_hours has dual 1 but is not binding \(activity 2, upper side 4\): complementary slackness fails/,
    ],
    [
      'duals doubled, reduced costs left as they were',
      (r: MilpResult) => withDuals(r, [0, 3, 2], r.solution?.reducedCosts ?? []),
      /reduced cost of doors is 0, but c − Aᵀy gives -3 from the duals/,
    ],
    [
      'duals doubled and reduced costs made consistent (a basic column gets a reduced cost)',
      (r: MilpResult, m: Model) => withDuals(r, [0, 3, 2], consistentReducedCosts(m, [0, 3, 2])),
      /variable doors has reduced cost -3 but is 2, off its lower bound 0: complementary slackness fails/,
    ],
  ])('%s: dropped with one line saying why, the optimum still certified', async (_what, alter, why) => {
    const report = await solve(wyndor, { backend: 'highs', backends: { highs: altered('highs', alter) } });
    expect(report.termination).toBe('optimal');
    expect(report.solution?.objective).toBeCloseTo(36, 9);
    expect(decisionOf(report).duals).toBeUndefined();
    expect(decisionOf(report).reducedCosts).toBeUndefined();
    const dropped = report.attempts[0].notes.filter((n) => n.startsWith('LP duals and reduced costs dropped: '));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(why);
    expect(dropped[0]).not.toContain('\n');
  });

  it('duals are withheld when the verdict is not optimal: an adapter saying time_limit with its LP duals', async () => {
    const timed = altered('highs', (r) => ({ ...r, termination: 'time_limit' }));
    const report = await solve(wyndor, { backend: 'highs', backends: { highs: timed } });
    expect(report.termination).toBe('time_limit');
    expect(report.solution?.objective).toBeCloseTo(36, 9);
    expect(decisionOf(report).duals).toBeUndefined();
    expect(notesOf(report)).toMatch(
      /LP duals and reduced costs withheld: the answer is not certified optimal \(time_limit\)/,
    );
  });

  it("duals are withheld when certify downgrades an optimum (the solver's objective below evaluate's)", async () => {
    // The solver values its point at 35.9 on a max problem; evaluate computes 36: the point is accepted, the
    // solver's LP value (its own bound) lies on the wrong side and is dropped, so nothing is proven.
    const low = altered('highs', (r) => ({ ...r, solution: r.solution && { ...r.solution, objective: 35.9 } }));
    const report = await solve(wyndor, { backend: 'highs', backends: { highs: low } });
    expect(report.termination).toBe('numerical_error');
    expect(report.solution?.objective).toBeCloseTo(36, 9);
    expect(decisionOf(report).duals).toBeUndefined();
    expect(notesOf(report)).toMatch(/withheld: the answer is not certified optimal \(numerical_error\)/);
  });

  it('check shows the duals of a solution file only when they pass the same check', async () => {
    const report = await solve(wyndor, { backend: 'highs' });
    const good = check(wyndor, report);
    expect(good.ok).toBe(true);
    expect(good.summary).toContain('duals (∂objective/∂bound, largest first): plant2_hours = 1.5');
    const decision = report.solution?.decision as MilpDecision;
    const tampered = { ...decision, duals: { ...decision.duals, plant2_hours: -1.5 } };
    const bad = check(wyndor, tampered);
    expect(bad.ok).toBe(true); // the point itself is feasible and optimal; only its certificate is wrong
    expect(bad.summary).toMatch(/LP duals and reduced costs not shown: reduced cost of windows is 0, but c − Aᵀy/);
    expect(bad.summary).not.toContain('plant2_hours = -1.5');
  });

  it('the check itself: names, MILPs, a minimisation with ≥ rows, free and fixed columns', () => {
    // min 2x + 3y, c1: x + y ≥ 4, c2: x + 3y ≥ 6, c3: x ≤ 10: optimum (3, 1), duals 1.5, 0.5, 0 (handMin above).
    const raw = {
      kind: 'milp',
      sense: 'min',
      variables: [
        { name: 'x', type: 'continuous' },
        { name: 'y', type: 'continuous' },
      ],
      objective: { x: 2, y: 3 },
      constraints: [
        { name: 'c1', terms: { x: 1, y: 1 }, lower: 4 },
        { name: 'c2', terms: { x: 1, y: 3 }, lower: 6 },
        { name: 'c3', terms: { x: 1 }, upper: 10 },
      ],
    };
    const p = parseMilp(raw);
    const at = (duals: Record<string, number>, reducedCosts: Record<string, number> = { x: 0, y: 0 }) =>
      dualCertificateFailure(p, { values: { x: 3, y: 1 }, duals, reducedCosts });
    expect(at({ c1: 1.5, c2: 0.5, c3: 0 })).toBeNull();
    expect(dualCertificateFailure(p, { values: { x: 3, y: 1 } })).toBeNull();
    expect(at({ c1: 1.5, c2: 0.5 })).toBe('duals has no value for row c3');
    expect(at({ c1: 1.5, c2: 0.5, c3: 0, c4: 0 })).toBe('duals names c4, which is no row of the problem');
    expect(at({ c1: 2, c2: 0, c3: 0 }, { x: 0, y: 1 })).toMatch(/row c1 has dual 2|complementary slackness/);
    expect(at({ c1: -1.5, c2: 3.5, c3: 0 }, { x: 0, y: -6 })).toMatch(
      /row c1 \(a ≥ row\) has dual -1\.5: the wrong sign for a minimisation \(needs ≥ 0\)/,
    );
    expect(dualCertificateFailure(p, { values: { x: 3, y: 1 }, duals: { c1: 1.5, c2: 0.5, c3: 0 } })).toMatch(
      /duals without reduced costs/,
    );
    const milp = parseMilp({ ...raw, variables: [{ name: 'x', type: 'integer' }, raw.variables[1]] });
    expect(dualCertificateFailure(milp, { values: { x: 3, y: 1 }, duals: {}, reducedCosts: {} })).toMatch(
      /integer variable x: LP duals certify a linear program only/,
    );
    // A free column (no bounds) may carry no reduced cost; a fixed one may carry either sign.
    const free = parseMilp({ ...raw, variables: [{ name: 'x', type: 'continuous', lower: null }, raw.variables[1]] });
    expect(
      dualCertificateFailure(free, {
        values: { x: 3, y: 1 },
        duals: { c1: 1, c2: 0, c3: 0 },
        reducedCosts: { x: 1, y: 2 },
      }),
    ).toMatch(/variable x has reduced cost 1, which prices its lower bound, and it has none/);
    const fixed = parseMilp({
      ...raw,
      variables: [{ name: 'x', type: 'continuous', lower: 3, upper: 3 }, raw.variables[1]],
    });
    // x fixed at 3: y ≥ 1 from c1 and c2 both; c1's dual 3 prices y alone, x's reduced cost 2 − 3 = −1 its fixed bound.
    expect(
      dualCertificateFailure(fixed, {
        values: { x: 3, y: 1 },
        duals: { c1: 3, c2: 0, c3: 0 },
        reducedCosts: { x: -1, y: 0 },
      }),
    ).toBeNull();
  });

  it('real solvers pass it: random LPs of both senses and netlib LPs keep their duals (HiGHS, GLPK)', async () => {
    const problems: unknown[] = [];
    for (const sense of ['min', 'max'] as const) {
      // The seeds of the finite-difference test above (others give infeasible covering rows).
      for (const seed of sense === 'min' ? [1, 2, 5] : [1, 2, 4]) {
        const lp = randomLp(seed, sense);
        problems.push({
          kind: 'milp',
          sense,
          variables: lp.cost.map((_, j) => ({ name: `x${j}`, type: 'continuous', upper: lp.upper[j] })),
          objective: Object.fromEntries(lp.cost.map((c, j) => [`x${j}`, c])),
          constraints: lp.rows.map((row, i) => ({
            name: `r${i}`,
            terms: Object.fromEntries(row.coefficients.flatMap((a, j) => (a !== 0 ? [[`x${j}`, a]] : []))),
            ...(row.lower === row.upper
              ? { equals: row.lower }
              : {
                  ...(Number.isFinite(row.lower) ? { lower: row.lower } : {}),
                  ...(Number.isFinite(row.upper) ? { upper: row.upper } : {}),
                }),
          })),
        });
      }
    }
    // GLPK's noise-level reduced costs on blend and capri (~1e-14 on columns off their bounds) once tripped the check.
    const netlib = ['afiro', 'sc50a', 'kb2', 'blend', 'recipe', 'capri'];
    for (const name of netlib) {
      const bytes = readFileSync(new URL(`../milp-files/public/${name}.mps.gz`, import.meta.url));
      problems.push(readModelFile(bytes, 'mps', `${name}.mps.gz`).document);
    }
    for (const [k, raw] of problems.entries()) {
      const problem = parseProblem(raw);
      // capri takes HiGHS about 2 s; GLPK (the backend whose noise it shows) 0.02 s.
      const backends = k === problems.length - 1 ? (['glpk'] as const) : (['highs', 'glpk'] as const);
      for (const backend of backends) {
        const report = await solve(problem, { backend, timeLimitSeconds: 30 });
        expect(report.termination).toBe('optimal');
        expect(notesOf(report), `${backend}`).not.toMatch(/LP duals/);
        expect(decisionOf(report).duals, `${backend}`).toBeDefined();
      }
    }
  }, 60_000);
});
