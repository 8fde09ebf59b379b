import fc from 'fast-check';
import { getBackend } from '../../../src/backends/registry.ts';
import type { BackendName } from '../../../src/backends/types.ts';
import { modelCaching } from '../../../src/formulations/model-caching/index.ts';
import type { Decision, Problem } from '../../../src/formulations/model-caching/schema.ts';
import { storageBytes } from '../../../src/formulations/model-caching/cost.ts';

/** Small random instances: blocks shared inside families, random coverage and popularity. */
export const smallInstance = fc
  .record({
    families: fc.array(fc.record({ base: fc.integer({ min: 2, max: 9 }), variants: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 2 }),
    servers: fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 2 }),
    users: fc.array(fc.record({ cover: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), weights: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }) }), { minLength: 1, maxLength: 4 }),
    latency: fc.boolean(),
  })
  .map(({ families, servers, users, latency }) => {
    const blocks: { id: string; sizeBytes: number }[] = [];
    const models: { id: string; blocks: string[] }[] = [];
    families.forEach((f, i) => {
      blocks.push({ id: `b${i}`, sizeBytes: f.base * 1e9 });
      f.variants.forEach((v, j) => {
        blocks.push({ id: `b${i}.${j}`, sizeBytes: v * 1e9 });
        models.push({ id: `m${i}.${j}`, blocks: [`b${i}`, `b${i}.${j}`] });
      });
    });
    const serverList = servers.map((s, n) => ({ id: `s${n}`, storageBytes: s * 1e9 }));
    const userList = users.map((u, k) => {
      const covered = serverList.filter((_, n) => u.cover[n]).map((s) => s.id);
      const requests: Record<string, number> = {};
      models.forEach((m, i) => (requests[m.id] = u.weights[i % u.weights.length]));
      if (Object.values(requests).every((p) => p === 0)) requests[models[0].id] = 1;
      return { id: `u${k}`, servers: covered, requests: Object.fromEntries(Object.entries(requests).map(([m, p]) => [m, p / 10])) };
    });
    return { kind: 'model-caching', blocks, models, servers: serverList, users: userList, objective: latency ? 'expected-latency' : 'hit-ratio', cloudLatencySeconds: latency ? 2 : undefined } as Record<string, unknown>;
  });

export async function solveMilp(problem: Problem, backend: BackendName = 'highs'): Promise<{ decision: Decision; objective: number }> {
  const compiled = modelCaching.compile!(problem);
  const result = await getBackend(backend).solve(compiled.model, { mipGap: 1e-9 });
  if (result.termination !== 'optimal' || !result.solution) throw new Error(`${backend}: ${result.termination} ${result.message ?? ''}`);
  return { decision: compiled.decode(result.solution.values), objective: result.solution.objective };
}

/** Every combination of cached sets, one subset of models per server. */
export function bruteForce(problem: Problem): number {
  const M = problem.models.length;
  const N = problem.servers.length;
  const sense = problem.objective === 'hit-ratio' ? 1 : -1;
  let best = -Infinity;
  const sets: number[][] = [];
  const rec = (n: number): void => {
    if (n === N) {
      const cached: Record<string, string[]> = {};
      problem.servers.forEach((s, k) => (cached[s.id] = sets[k].map((m) => problem.models[m].id)));
      const e = modelCaching.evaluate(problem, { cached });
      if (e.feasible) best = Math.max(best, sense * e.objective);
      return;
    }
    for (let mask = 0; mask < 1 << M; mask++) {
      const s = Array.from({ length: M }, (_, m) => m).filter((m) => mask & (1 << m));
      if (storageBytes(problem, s) > problem.servers[n].storageBytes) continue;
      sets[n] = s;
      rec(n + 1);
    }
  };
  rec(0);
  return sense * best;
}
