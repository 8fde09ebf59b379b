import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem } from '../../src/api.ts';
import { getBackend } from '../../src/backends/registry.ts';
import { obviousPoint } from '../../src/backends/support.ts';
import { ModelBuilder, term } from '../../src/milp/model.ts';

describe('solver faults the adapters absorb', () => {
  it('jslp solves a caching MILP whose storage rows are in bytes (it called it infeasible before rows were scaled)', async () => {
    const parsed = parseProblem(JSON.parse(readFileSync(new URL('../../problems/model-caching/fine-tune-family.json', import.meta.url), 'utf8')));
    const compiled = parsed.formulation.compile!(parsed.problem);
    const [jslp, highs] = await Promise.all([getBackend('jslp').solve(compiled.model, { timeLimitSeconds: 60 }), getBackend('highs').solve(compiled.model)]);
    expect(jslp.termination).toBe('optimal');
    expect(jslp.solution!.objective).toBeCloseTo(highs.solution!.objective, 9);
  });

  it('an infeasibility claim is checked against the point with every variable at its bound nearest zero', () => {
    const b = new ModelBuilder('zero-feasible', 'max');
    const x = b.binary('x');
    const y = b.addVariable('y', { lower: -5, upper: -1 });
    b.lessEqual('storage', [term(x, 13.48e9)], 30e9);
    b.lessEqual('y-row', [term(y, 1)], 0);
    expect(obviousPoint(b.build())).toEqual([0, -1]);
    b.greaterEqual('needs-x', [term(x, 1)], 1);
    expect(obviousPoint(b.build())).toBeNull();
  });
});
