import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { greedyRepair, greedyRepairBaseline } from '../../../src/formulations/milp/baselines.ts';
import { evaluateMilp } from '../../../src/formulations/milp/evaluate.ts';
import { explainMilpInfeasible } from '../../../src/formulations/milp/explain.ts';
import { milpFormulation } from '../../../src/formulations/milp/index.ts';
import { compileMilp } from '../../../src/formulations/milp/milp.ts';
import { parseMilp, type MilpDecision, type MilpProblem } from '../../../src/formulations/milp/schema.ts';

const example = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../problems/milp/${name}.json`, import.meta.url), 'utf8'));

const small = {
  kind: 'milp',
  sense: 'max',
  variables: [
    { name: 'x', type: 'integer', upper: 4 },
    { name: 'y', type: 'continuous', lower: null, upper: 3 },
    { name: 'z', type: 'binary' },
  ],
  constraints: [
    { name: 'cap', terms: { x: 2, y: 1, z: 3 }, upper: 10 },
    { name: 'floor', terms: { y: 1 }, lower: -1 },
  ],
  objective: { x: 3, y: 1, z: 4 },
  objectiveConstant: 0.5,
};

function inputError(raw: unknown): InputError {
  try {
    parseMilp(raw);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const edit = (mutate: (p: Record<string, unknown>) => void): unknown => {
  const copy = structuredClone(small) as unknown as Record<string, unknown>;
  mutate(copy);
  return copy;
};

describe('milp schema', () => {
  it('parses the bundled examples and keeps declaration order', () => {
    for (const name of ['knapsack', 'gap-20x4', 'gap-100x10']) expect(() => parseMilp(example(name))).not.toThrow();
    const p = parseMilp(small);
    expect(p.variables.map((v) => v.name)).toEqual(['x', 'y', 'z']);
    expect(p.variables[0]).toEqual({ name: 'x', type: 'integer', lower: 0, upper: 4 });
    expect(p.variables[1]).toEqual({ name: 'y', type: 'continuous', lower: -Infinity, upper: 3 });
    expect(p.variables[2]).toEqual({ name: 'z', type: 'binary', lower: 0, upper: 1 });
    expect(p.constraints[0]).toMatchObject({ name: 'cap', lower: -Infinity, upper: 10 });
    expect(p.constraints[1]).toMatchObject({ name: 'floor', lower: -1, upper: Infinity });
  });

  it.each([
    [
      'an undeclared variable in a row',
      (p: Record<string, unknown>) => ((p.constraints as { terms: Record<string, number> }[])[1].terms.w = 1),
      '$.constraints[1].terms.w',
      'variable w is not declared',
    ],
    [
      'an undeclared variable in the objective',
      (p: Record<string, unknown>) => ((p.objective as Record<string, number>).q = 2),
      '$.objective.q',
      'variable q is not declared',
    ],
    [
      'a duplicate variable',
      (p: Record<string, unknown>) => (p.variables as unknown[]).push({ name: 'x', type: 'binary' }),
      '$.variables[3].name',
      'duplicate variable name "x"',
    ],
    [
      'crossed variable bounds',
      (p: Record<string, unknown>) => ((p.variables as { lower?: number }[])[0].lower = 5),
      '$.variables[0].upper',
      'below the lower bound 5',
    ],
    [
      'an omitted lower bound above a negative upper',
      (p: Record<string, unknown>) => ((p.variables as { upper?: number }[])[0].upper = -1),
      '$.variables[0].upper',
      'an omitted lower bound is 0',
    ],
    [
      'a negative binary bound',
      (p: Record<string, unknown>) => ((p.variables as { lower?: number }[])[2].lower = -1),
      '$.variables[2].lower',
      'must lie within [0, 1]',
    ],
    [
      'equals together with upper',
      (p: Record<string, unknown>) => ((p.constraints as { equals?: number }[])[0].equals = 3),
      '$.constraints[0].equals',
      'either equals or lower/upper',
    ],
    [
      'a row without sides',
      (p: Record<string, unknown>) => delete (p.constraints as { upper?: number }[])[0].upper,
      '$.constraints[0]',
      'at least one of lower, upper or equals',
    ],
    [
      'a row without terms',
      (p: Record<string, unknown>) => ((p.constraints as { terms: object }[])[0].terms = {}),
      '$.constraints[0].terms',
      'at least one term',
    ],
    [
      'crossed row sides',
      (p: Record<string, unknown>) => ((p.constraints as { upper?: number }[])[1].upper = -2),
      '$.constraints[1].upper',
      'below the lower side -1',
    ],
    [
      'duplicate row names',
      (p: Record<string, unknown>) => ((p.constraints as { name?: string }[])[1].name = 'cap'),
      '$.constraints[1].name',
      'duplicate constraint name "cap"',
    ],
    ['a missing field', (p: Record<string, unknown>) => delete p.sense, '$.sense', 'required field is missing'],
    [
      'an extra field',
      (p: Record<string, unknown>) => ((p.variables as Record<string, unknown>[])[1].colour = 'red'),
      '$.variables[1].colour',
      'unknown field',
    ],
    [
      'a NaN coefficient (library input)',
      (p: Record<string, unknown>) => ((p.objective as Record<string, number>).x = NaN),
      '$.objective.x',
      'must be a finite number, got NaN',
    ],
    [
      'an infinite bound (library input)',
      (p: Record<string, unknown>) => ((p.variables as { upper?: number }[])[0].upper = Infinity),
      '$.variables[0].upper',
      'must be a finite number, got Infinity',
    ],
    [
      'a bad type',
      (p: Record<string, unknown>) => ((p.variables as { type: string }[])[0].type = 'real'),
      '$.variables[0].type',
      'expected one of',
    ],
    ['no variables', (p: Record<string, unknown>) => ((p.variables as unknown[]).length = 0), '$.variables', ''],
  ])('rejects %s with its JSON path', (_label, mutate, path, rule) => {
    const error = inputError(edit(mutate));
    expect(error.path).toBe(path);
    expect(error.rule).toContain(rule);
    expect(error.message.split('\n')).toHaveLength(1);
  });
});

describe('milp evaluate', () => {
  const p = parseMilp(small);
  const at = (x: number, y: number, z: number): MilpDecision => ({ values: { x, y, z } });

  it('accepts a feasible point and recomputes the objective with the constant', () => {
    const e = evaluateMilp(p, at(3, 1, 1));
    expect(e.feasible).toBe(true);
    expect(e.objective).toBe(3 * 3 + 1 + 4 + 0.5);
  });

  it('names each broken bound, integrality and row', () => {
    const e = evaluateMilp(p, at(4.5, -2, 1));
    const ids = e.violations.map((v) => v.constraint);
    expect(ids).toContain('variables.x.upper');
    expect(ids).toContain('variables.x.integrality');
    expect(ids).toContain('constraints.floor');
    const row = evaluateMilp(p, at(4, 3, 1)).violations.find((v) => v.constraint === 'constraints.cap');
    expect(row?.excess).toBeCloseTo(4);
  });

  it('reports unknown variables; a variable the decision does not list is 0', () => {
    const e = evaluateMilp(p, { values: { x: 1, y: 0, w: 2 } });
    expect(e.feasible).toBe(false);
    expect(e.violations.map((v) => v.constraint)).toEqual(['values.w']);
    const nonzerosOnly = evaluateMilp(p, { values: { x: 3 } });
    expect(nonzerosOnly.feasible).toBe(true);
    expect(nonzerosOnly.objective).toBe(9.5);
    expect(nonzerosOnly.breakdown.nonzeroVariables).toBe(1);
  });

  it('check accepts a solution file that lists only the nonzero values', () => {
    const report = check(small, { values: { x: 4, z: 0 } });
    expect(report.evaluation.feasible).toBe(true);
    expect(report.evaluation.objective).toBe(12.5);
  });

  it('applies the tolerance scaled by the size of the side', () => {
    const big = parseMilp({
      kind: 'milp',
      sense: 'min',
      variables: [{ name: 'a', type: 'continuous' }],
      constraints: [{ terms: { a: 1 }, upper: 1000 }],
      objective: {},
    });
    expect(evaluateMilp(big, { values: { a: 1000 + 5e-4 } }).feasible).toBe(true);
    expect(evaluateMilp(big, { values: { a: 1000 + 2e-3 } }).feasible).toBe(false);
  });
});

describe('milp compile', () => {
  it('builds columns and rows in declaration order and decodes by name, snapping near-integers', () => {
    const p = parseMilp(small);
    const c = compileMilp(p);
    expect(c.model.variables.map((v) => v.name)).toEqual(['x', 'y', 'z']);
    expect(c.model.constraints.map((r) => r.name)).toEqual(['cap', 'floor']);
    expect(c.model.objectiveConstant).toBe(0.5);
    expect(c.decode([2.9999999, 0.25, 1e-9])).toEqual({ values: { x: 3, y: 0.25, z: 0 } });
    expect(c.decode([2.5, 0, 0]).values.x).toBe(2.5);
    expect(c.encode?.({ values: { x: 3, z: 1 } })).toEqual([3, 0, 1]);
    expect(c.encode?.({ values: { x: 3, w: 1 } })).toBeNull();
  });

  it('runs no heuristic: the greedy warm start is its own step and gives up at the deadline', () => {
    const p = parseMilp(small);
    expect(compileMilp(p)).not.toHaveProperty('warmStart');
    const start = milpFormulation.warmStart?.(p, Infinity);
    expect(start).not.toBeNull();
    expect(evaluateMilp(p, start!).feasible).toBe(true);
    expect(milpFormulation.warmStart?.(p, performance.now() - 1)).toBeNull();
    const late = greedyRepair(p, performance.now() - 1);
    expect(late).toEqual({ ok: false, reason: 'greedy repair gave up at the deadline' });
  });
});

describe('user names that are Object.prototype keys', () => {
  // Issue 13: a variable named __proto__ lost its terms in every row and in the objective (zod's
  // record drops the key), so 3 was reported optimal where the optimum is 11.
  const raw = JSON.parse(`{
    "kind": "milp", "sense": "max",
    "variables": [
      { "name": "__proto__", "type": "integer", "upper": 3 },
      { "name": "constructor", "type": "integer", "upper": 5 },
      { "name": "toString", "type": "binary" }
    ],
    "constraints": [
      { "name": "__proto__", "terms": { "__proto__": 1, "constructor": 1 }, "upper": 4 },
      { "name": "hasOwnProperty", "terms": { "constructor": 1, "toString": 1 }, "upper": 1 }
    ],
    "objective": { "__proto__": 3, "constructor": 2, "toString": 1 }
  }`);

  it('parses every term of a variable named __proto__', () => {
    const p = parseMilp(raw);
    expect(p.constraints[0].terms).toEqual([{ variable: 0, coefficient: 1 }, { variable: 1, coefficient: 1 }]);
    expect(p.objective).toHaveLength(3);
  });

  it.each(['highs', 'glpk', 'jslp'] as const)('%s finds the optimum 11 and check agrees', async (backend) => {
    const report = await solve(raw, { backend });
    expect(report.termination).toBe('optimal');
    expect(report.solution?.objective).toBe(11);
    const values = (report.solution?.decision as MilpDecision).values;
    expect(Object.hasOwn(values, '__proto__')).toBe(true);
    expect(values.__proto__).toBe(3);
    // The report survives JSON (as a file would) and check reads the same point back.
    const again = check(raw, JSON.parse(JSON.stringify(report)));
    expect(again.evaluation.objective).toBe(11);
    expect(again.evaluation.feasible).toBe(true);
  });

  it('a decision value named __proto__ is read, not dropped', () => {
    const decision = milpFormulation.decisionSchema.parse(JSON.parse('{"values": {"__proto__": 3, "constructor": 1}}'));
    expect(evaluateMilp(parseMilp(raw), decision).objective).toBe(11);
  });
});

describe('greedy-repair baseline', () => {
  it('is Dantzig\'s ratio greedy on a knapsack', () => {
    const p = parseMilp(example('knapsack'));
    const d = greedyRepairBaseline.run(p);
    expect(d).not.toBeNull();
    // values/weights by ratio: items 1 (4.0), 11 (1.82), 2 (1.84)… greedily packed into 165.
    const w = [23, 31, 29, 44, 53, 38, 63, 85, 89, 82, 17, 41];
    const v = [92, 57, 49, 68, 60, 43, 67, 84, 87, 72, 31, 55];
    const order = w.map((_, i) => i).sort((a, b) => v[b] / w[b] - v[a] / w[a]);
    let room = 165;
    let value = 0;
    for (const i of order) if (w[i] <= room) ((room -= w[i]), (value += v[i]));
    expect(milpFormulation.evaluate(p, d as MilpDecision).objective).toBe(value);
  });

  it('finds a feasible assignment on the 20×4 generalized-assignment example', () => {
    const p = parseMilp(example('gap-20x4'));
    const d = greedyRepairBaseline.run(p);
    expect(d).not.toBeNull();
    expect(evaluateMilp(p, d as MilpDecision).feasible).toBe(true);
  });

  it('returns null with a reason when it cannot repair', () => {
    const p = parseMilp({
      kind: 'milp',
      sense: 'min',
      variables: [{ name: 'a', type: 'binary' }, { name: 'b', type: 'binary' }],
      constraints: [{ name: 'need3', terms: { a: 1, b: 1 }, lower: 3 }],
      objective: { a: 1 },
    });
    expect(greedyRepairBaseline.run(p)).toBeNull();
    expect(greedyRepairBaseline.whyNoDecision?.(p)).toMatch(/need3/);
  });

  // Random small binary/integer programs: whatever greedy returns passes evaluate and is never
  // better than the brute-force optimum.
  const smallProblem = fc
    .record({
      n: fc.integer({ min: 1, max: 5 }),
      sense: fc.constantFrom('min' as const, 'max' as const),
      rows: fc.array(
        fc.record({
          coefs: fc.array(fc.integer({ min: -5, max: 9 }), { minLength: 5, maxLength: 5 }),
          lower: fc.option(fc.integer({ min: -5, max: 8 })),
          span: fc.integer({ min: 0, max: 12 }),
        }),
        { maxLength: 3 },
      ),
      costs: fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 5, maxLength: 5 }),
      upper: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 5, maxLength: 5 }),
    })
    .map(({ n, sense, rows, costs, upper }) =>
      parseMilp({
        kind: 'milp',
        sense,
        variables: Array.from({ length: n }, (_, j) => ({ name: `v${j}`, type: 'integer', upper: upper[j] })),
        constraints: rows.map((r) => ({
          terms: Object.fromEntries(Array.from({ length: n }, (_, j) => [`v${j}`, r.coefs[j] === 0 ? 1 : r.coefs[j]])),
          ...(r.lower !== null ? { lower: r.lower, upper: r.lower + r.span } : { upper: r.span }),
        })),
        objective: Object.fromEntries(Array.from({ length: n }, (_, j) => [`v${j}`, costs[j]])),
      }),
    );

  function bruteForce(p: MilpProblem): number | null {
    let best: number | null = null;
    const n = p.variables.length;
    const x = new Array<number>(n).fill(0);
    const visit = (j: number): void => {
      if (j === n) {
        const e = evaluateMilp(p, { values: Object.fromEntries(p.variables.map((v, i) => [v.name, x[i]])) });
        const better = best === null || (p.sense === 'min' ? e.objective < best : e.objective > best);
        if (e.feasible && better) best = e.objective;
        return;
      }
      for (let v = p.variables[j].lower; v <= p.variables[j].upper; v++) {
        x[j] = v;
        visit(j + 1);
      }
    };
    visit(0);
    return best;
  }

  it('returns only feasible decisions, never better than the optimum (property)', () => {
    fc.assert(
      fc.property(smallProblem, (p) => {
        const outcome = greedyRepair(p);
        const optimum = bruteForce(p);
        if (!outcome.ok) return;
        expect(optimum).not.toBeNull();
        const d = greedyRepairBaseline.run(p) as MilpDecision;
        const e = evaluateMilp(p, d);
        expect(e.feasible).toBe(true);
        if (p.sense === 'min') expect(e.objective).toBeGreaterThanOrEqual((optimum as number) - 1e-9);
        else expect(e.objective).toBeLessThanOrEqual((optimum as number) + 1e-9);
      }),
      { numRuns: 200, seed: 20240601 },
    );
  });
});

describe('milp explainInfeasible', () => {
  it('names the row that cannot reach its side within the bounds', () => {
    const p = parseMilp({
      kind: 'milp',
      sense: 'min',
      variables: [{ name: 'a', type: 'binary' }, { name: 'b', type: 'continuous', upper: 1.5 }],
      constraints: [{ name: 'demand', terms: { a: 2, b: 1 }, lower: 5 }],
      objective: {},
    });
    expect(explainMilpInfeasible(p)).toMatch(
      /row demand needs activity ≥ 5, but within the variable bounds it reaches at most 3.5 \(short by 1.5\)/,
    );
  });

  it('names an integer variable whose bounds hold no integer', () => {
    const p = parseMilp({
      kind: 'milp',
      sense: 'min',
      variables: [{ name: 'k', type: 'integer', lower: 0.2, upper: 0.8 }],
      constraints: [],
      objective: { k: 1 },
    });
    expect(explainMilpInfeasible(p)).toMatch(/k has no integer value/);
  });

  it('says when the conflict involves several rows', () => {
    const p = parseMilp({
      kind: 'milp',
      sense: 'min',
      variables: [{ name: 'a', type: 'continuous', upper: 10 }],
      constraints: [{ terms: { a: 1 }, lower: 6 }, { terms: { a: 1 }, upper: 4 }],
      objective: {},
    });
    expect(explainMilpInfeasible(p)).toMatch(/several rows/);
  });
});
