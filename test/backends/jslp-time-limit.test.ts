import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem } from '../../src/api.ts';
import { getBackend } from '../../src/backends/registry.ts';

describe('jslp: a time limit is honoured even inside one long solve', () => {
  it('stops a solve that its own between-node timeout check would let run for minutes', async () => {
    // jslp on this 12-user split-inference MILP ran past 5 minutes with a 60 s `timeout`: the
    // adapter's worker is stopped shortly after the limit instead.
    const parsed = parseProblem(JSON.parse(readFileSync(new URL('../../problems/kv-split-inference/kv-bound.json', import.meta.url), 'utf8')));
    const compiled = parsed.formulation.compile!(parsed.problem);
    const result = await getBackend('jslp').solve(compiled.model, { timeLimitSeconds: 1 });
    expect(result.termination).toBe('time_limit');
  });

  it('still solves small models to optimality through the worker', async () => {
    const parsed = parseProblem(JSON.parse(readFileSync(new URL('../../problems/milp/knapsack.json', import.meta.url), 'utf8')));
    const compiled = parsed.formulation.compile!(parsed.problem);
    const result = await getBackend('jslp').solve(compiled.model, { timeLimitSeconds: 30 });
    expect(result.termination).toBe('optimal');
    expect(result.solution?.objective).toBe(309);
  });
});
