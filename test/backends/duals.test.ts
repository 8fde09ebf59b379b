/**
 * LP duals and reduced costs (issue 18 item 7): HiGHS and GLPK report them for LPs, in the original model's units
 * (the model each backend solves is scaled, src/milp/scale.ts), with one convention for both senses: the dual of a
 * row is ∂z/∂(its active bound), a reduced cost ∂z/∂(the column's active bound). Checked on LPs solved by hand, by
 * finite differences (move a bound, re-solve, compare the change of the optimum), and HiGHS against GLPK.
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backends/registry.ts';
import type { BackendName } from '../../src/backends/types.ts';
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
  b.addConstraint('c1', [{ variable: x, coefficient: 1 }, { variable: y, coefficient: 1 }], 4, Infinity);
  b.addConstraint('c2', [{ variable: x, coefficient: 1 }, { variable: y, coefficient: 3 }], 6, Infinity);
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
    [{ variable: x, coefficient: scaleRowA }, { variable: y, coefficient: scaleRowA }],
    -Infinity,
    4 * scaleRowA,
  );
  b.addConstraint('b', [{ variable: x, coefficient: 1 }, { variable: y, coefficient: 3 }], -Infinity, 7);
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
