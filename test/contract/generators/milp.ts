/**
 * Contract generator for the `milp` kind: tiny pure-integer MILPs (2–5 variables, binary or
 * integer in 0..3, 1–3 rows with small integer coefficients, a random sense and objective
 * constant), so that every integer point can be enumerated (at most 4^5 = 1024). Brute force
 * values each point with the family's evaluate — never a backend. Integer data keep every
 * comparison exact, so the optimum is unambiguous. Some seeds are infeasible, which checks that
 * every backend says so too.
 */
import { evaluateMilp } from '../../../src/formulations/milp/evaluate.ts';
import { decisionOf } from '../../../src/formulations/milp/cost.ts';
import { parseMilp } from '../../../src/formulations/milp/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

interface RawVariable {
  readonly name: string;
  readonly type: 'binary' | 'integer';
  readonly upper?: number;
}

interface RawRow {
  readonly name: string;
  readonly terms: Readonly<Record<string, number>>;
  readonly lower?: number;
  readonly upper?: number;
}

interface RawMilp {
  readonly kind: 'milp';
  readonly description: string;
  readonly sense: 'min' | 'max';
  readonly variables: readonly RawVariable[];
  readonly constraints: readonly RawRow[];
  readonly objective: Readonly<Record<string, number>>;
  readonly objectiveConstant: number;
}

function int(rand: () => number, low: number, high: number): number {
  return low + Math.floor(rand() * (high - low + 1));
}

function tiny(seed: number): unknown {
  const rand = mulberry32(seed);
  const n = int(rand, 2, 5);
  const variables: RawVariable[] = Array.from({ length: n }, (_, j) =>
    rand() < 0.5 ? { name: `x${j}`, type: 'binary' } : { name: `x${j}`, type: 'integer', upper: int(rand, 1, 3) },
  );
  const constraints: RawRow[] = Array.from({ length: int(rand, 1, 3) }, (_, i) => {
    const terms: Record<string, number> = {};
    for (const v of variables) {
      const c = int(rand, -2, 5);
      if (c !== 0 && rand() < 0.8) terms[v.name] = c;
    }
    if (Object.keys(terms).length === 0) terms[variables[0].name] = 1;
    const total = Object.values(terms).reduce((a, c) => a + Math.abs(c), 0);
    // A ≤ row cuts into the box; a ≥ row (a cover) forces some activity; sometimes both.
    const side = rand();
    const upper = int(rand, 1, Math.max(1, Math.floor(total * 1.5)));
    const lower = int(rand, 1, Math.max(1, Math.floor(total / 2)));
    if (side < 0.55) return { name: `r${i}`, terms, upper };
    if (side < 0.85) return { name: `r${i}`, terms, lower };
    return { name: `r${i}`, terms, lower: Math.min(lower, upper), upper: Math.max(lower, upper) };
  });
  const objective: Record<string, number> = {};
  for (const v of variables) objective[v.name] = int(rand, -4, 9);
  return {
    kind: 'milp',
    description: `contract instance ${seed}`,
    sense: rand() < 0.5 ? 'min' : 'max',
    variables,
    constraints,
    objective,
    objectiveConstant: int(rand, -5, 5),
  } satisfies RawMilp;
}

/** Every integer point of the box, valued with evaluate. */
function bruteForce(raw: unknown): BruteForce {
  const problem = parseMilp(raw);
  const uppers = problem.variables.map((v) => v.upper);
  const x = problem.variables.map((v) => v.lower);
  let best: number | null = null;
  const better = (a: number, b: number): boolean => (problem.sense === 'min' ? a < b : a > b);
  const walk = (j: number): void => {
    if (j === x.length) {
      const evaluation = evaluateMilp(problem, decisionOf(problem, x));
      if (evaluation.feasible && (best === null || better(evaluation.objective, best))) best = evaluation.objective;
      return;
    }
    for (let value = problem.variables[j].lower; value <= uppers[j]; value++) {
      x[j] = value;
      walk(j + 1);
    }
  };
  walk(0);
  return best === null ? { status: 'infeasible' } : { status: 'optimal', objective: best };
}

const asMilp = (raw: unknown): RawMilp => raw as RawMilp;

const relaxations: readonly Relaxation[] = [
  {
    name: 'every row side moved outward by 1',
    apply: (raw) => ({
      ...asMilp(raw),
      constraints: asMilp(raw).constraints.map((row) => ({
        ...row,
        ...(row.lower !== undefined ? { lower: row.lower - 1 } : {}),
        ...(row.upper !== undefined ? { upper: row.upper + 1 } : {}),
      })),
    }),
  },
  {
    name: 'the first row dropped',
    apply: (raw) => ({ ...asMilp(raw), constraints: asMilp(raw).constraints.slice(1) }),
  },
  {
    name: 'every integer variable may go one higher',
    apply: (raw) => ({
      ...asMilp(raw),
      variables: asMilp(raw).variables.map((v) => (v.type === 'integer' ? { ...v, upper: (v.upper ?? 0) + 1 } : v)),
    }),
  },
];

export const generator: ContractGenerator = {
  kind: 'milp',
  tiny,
  bruteForce,
  relaxations,
  seeds: 16,
  exclusions: { exact: 'a raw MILP has no structure-exploiting exact method; the backends are the methods' },
};

export default generator;
