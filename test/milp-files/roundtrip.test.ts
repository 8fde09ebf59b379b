/**
 * The MPS/LP round trip (issue 18): a family's compiled MILP written as MPS and as LP, read back as the `milp` kind
 * and solved, reaches the family's own certified optimum.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem, readModelFile, solve, writeModelText } from '../../src/api.ts';

const EXAMPLES = [
  'milp/knapsack.json',
  'pipeline-placement/edgeshard-memory-trap.json',
  'split-finetune/gpt2-medium-3-clients.json',
];
// Larger family models (kv-split-inference, moe-placement: minutes in HiGHS) are left to `edgeplan model` by hand.

describe('a family model exported to MPS and LP and read back as milp has the same optimum', () => {
  for (const example of EXAMPLES) {
    it(
      example,
      async () => {
        const raw: unknown = JSON.parse(readFileSync(new URL(`../../problems/${example}`, import.meta.url), 'utf8'));
        const problem = parseProblem(raw);
        const compile = problem.formulation.compile;
        if (compile === undefined) throw new Error(`${problem.kind} has no MILP`);
        const model = compile.call(problem.formulation, problem.problem).model;
        const family = await solve(problem, { backend: 'auto' });
        expect(family.termination).toBe('optimal');
        const optimum = family.solution?.objective as number;
        for (const format of ['mps', 'lp'] as const) {
          const text = writeModelText(model, format);
          const { document } = readModelFile(new TextEncoder().encode(text), format, `model.${format}`);
          const report = await solve(parseProblem(document), { backend: 'highs' });
          expect(report.termination, format).toBe('optimal');
          const gap = Math.abs((report.solution?.objective as number) - optimum);
          expect(gap, format).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(optimum)));
        }
      },
      60_000,
    );
  }
});
