import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parallelPlacementFormulation as F } from '../../../src/formulations/parallel-placement/index.ts';
import { searchOptimum } from '../../../src/formulations/parallel-placement/exact.ts';
import { compileParallel, stageColumns } from '../../../src/formulations/parallel-placement/milp.ts';
import type { Model } from '../../../src/milp/model.ts';
import { sameObjective } from '../../../src/formulations/tolerance.ts';
import { tinyParallel } from '../../contract/generators/parallel-placement.ts';

/** Rows broken by a column vector (relative tolerance), and its objective value. */
function check(model: Model, values: readonly number[]): { broken: string[]; objective: number } {
  const broken: string[] = [];
  for (const row of model.constraints) {
    const lhs = row.terms.reduce((s, t) => s + t.coefficient * values[t.variable], 0);
    const tol = 1e-7 * Math.max(1, Math.abs(lhs), Math.abs(Number.isFinite(row.upper) ? row.upper : row.lower));
    if (lhs < row.lower - tol || lhs > row.upper + tol) broken.push(row.name);
  }
  const objective = model.objective.reduce((s, t) => s + t.coefficient * values[t.variable], model.objectiveConstant);
  return { broken, objective };
}

describe('parallel-placement MILP compile', () => {
  // The DP's optimum, encoded, is a point of the model with the same objective; decoding it gives
  // back a plan evaluate accepts at that objective. (Backends solving the model: the contract suite.)
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: the DP optimum encodes to a feasible point of equal value and decodes back`, () => {
      const raw = tinyParallel(seed);
      const p = F.parse(raw);
      const dp = searchOptimum(p);
      const compiled = compileParallel(p);
      if (dp.decision === null) {
        expect(compiled.model.variables.length).toBeGreaterThanOrEqual(0);
        return;
      }
      const values = compiled.encode?.(dp.decision) ?? null;
      expect(values).not.toBeNull();
      const { broken, objective } = check(compiled.model, values!);
      expect(broken).toEqual([]);
      expect(sameObjective(objective, dp.objective)).toBe(true);
      const back = compiled.decode(values!);
      const ev = F.evaluate(p, back);
      expect(ev.violations).toEqual([]);
      expect(sameObjective(ev.objective, dp.objective)).toBe(true);
    });
  }

  it('every column fits and its KV blocks reach one full sequence', () => {
    const p = F.parse(tinyParallel(1));
    const { columns } = stageColumns(p);
    expect(columns.length).toBeGreaterThan(0);
    if (p.mode.kind === 'kv-capacity') {
      const need = Math.ceil(p.mode.contextTokens / p.mode.blockTokens);
      for (const c of columns) expect(c.blocks).toBeGreaterThanOrEqual(need);
    }
  });

  it('refuses a model too large for the backends with the column count', () => {
    const raw = JSON.parse(
      readFileSync(new URL('../../../problems/parallel-placement/metis-gpt3-1.5b-4a100-4t4.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(() => compileParallel(F.parse(raw))).toThrow(/stage columns exceed .*use backend exact/);
  });
});
