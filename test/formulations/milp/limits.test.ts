/** Raw MILP magnitudes beyond double-precision solvers are refused with their path (fuzz finding: ±1e308 accepted). */
import { describe, expect, it } from 'vitest';
import { parseProblem } from '../../../src/api.ts';
import { MAX_MILP_MAGNITUDE } from '../../../src/formulations/milp/schema.ts';
import { errorOf } from '../../support/errors.ts';

type Doc = {
  kind: 'milp';
  sense: 'min';
  variables: { name: string; type: string; lower?: number | null; upper?: number | null }[];
  constraints: { terms: Record<string, number>; lower?: number | null; upper?: number | null }[];
  objective: Record<string, number>;
  objectiveConstant?: number;
};
const base = (): Doc => ({
  kind: 'milp',
  sense: 'min',
  variables: [{ name: 'x', type: 'continuous', upper: 10 }],
  constraints: [{ terms: { x: 1 }, lower: 1 }],
  objective: { x: 1 },
});


describe('milp magnitudes', () => {
  const cases: [string, (d: Doc) => void, string][] = [
    ['objective coefficient 1e308', (d) => (d.objective.x = 1e308), '$.objective.x'],
    ['row coefficient -1e308', (d) => (d.constraints[0].terms.x = -1e308), '$.constraints[0].terms.x'],
    ['variable bound 1e308', (d) => (d.variables[0].upper = 1e308), '$.variables[0].upper'],
    ['row side -1e16', (d) => (d.constraints[0].lower = -1e16), '$.constraints[0].lower'],
    ['objective constant 1e20', (d) => (d.objectiveConstant = 1e20), '$.objectiveConstant'],
  ];
  it.each(cases)('%s is refused at its path', (_name, mutate, path) => {
    const d = base();
    mutate(d);
    const e = errorOf(() => parseProblem(d));
    expect(e.path).toBe(path);
    expect(e.rule).toMatch(/beyond what double-precision solvers can use/);
    expect(e.exitCode).toBe(2);
  });

  it('values at the limit and unbounded (null) sides are accepted', () => {
    const d = base();
    d.objective.x = MAX_MILP_MAGNITUDE;
    d.constraints[0].terms.x = -MAX_MILP_MAGNITUDE;
    d.constraints[0].upper = null;
    d.variables[0].lower = null;
    d.variables[0].upper = MAX_MILP_MAGNITUDE;
    expect(() => parseProblem(d)).not.toThrow();
  });
});
