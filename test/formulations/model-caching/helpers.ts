import fc from 'fast-check';
import { solve } from '../../../src/api.ts';
import type { BackendName } from '../../../src/backends/types.ts';
import { modelCaching } from '../../../src/formulations/model-caching/index.ts';
import type { Decision, Problem } from '../../../src/formulations/model-caching/schema.ts';
import { fitsStorage, storageBytes } from '../../../src/formulations/model-caching/cost.ts';
import { emptyCached } from '../../../src/formulations/model-caching/decision.ts';

/** Small random instances: blocks shared inside families, random coverage and popularity. */
export const smallInstance = fc
  .record({
    families: fc.array(
      fc.record({
        base: fc.integer({ min: 2, max: 9 }),
        variants: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    servers: fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 2 }),
    users: fc.array(
      fc.record({
        cover: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
        weights: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
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
      const written = Object.fromEntries(Object.entries(requests).map(([m, p]) => [m, p / 10]));
      if (!latency) return { id: `u${k}`, servers: covered, requests: written };
      // Latency instances reach servers over links (0.2 s, 0.5 s, … plus the download), so that
      // serve latencies differ by server and no optimum is a degenerate 0.
      const links = covered.map((id) => ({
        server: id,
        link: {
          downlinkBitsPerSecond: 1e12,
          uplinkBitsPerSecond: 1e9,
          latencySeconds: 0.2 + 0.3 * Number(id.slice(1)),
        },
      }));
      return { id: `u${k}`, links, latencyBoundSeconds: 100, requests: written };
    });
    return {
      kind: 'model-caching',
      blocks,
      models,
      servers: serverList,
      users: userList,
      objective: latency ? 'expected-latency' : 'hit-ratio',
      cloudLatencySeconds: latency ? 2 : undefined,
    } as Record<string, unknown>;
  });

/** One backend through the solve chain (which compiles, solves, decodes and certifies). */
export async function solveMilp(
  raw: unknown,
  backend: BackendName = 'highs',
): Promise<{ decision: Decision; objective: number }> {
  const report = await solve(raw, { backend, mipGap: 1e-9 });
  if (report.termination !== 'optimal' || !report.solution) throw new Error(`${backend}: ${report.termination}`);
  return { decision: report.solution.decision as Decision, objective: report.solution.objective };
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
      const cached = emptyCached();
      problem.servers.forEach((s, k) => (cached[s.id] = sets[k].map((m) => problem.models[m].id)));
      const e = modelCaching.evaluate(problem, { cached });
      if (e.feasible) best = Math.max(best, sense * e.objective);
      return;
    }
    for (let mask = 0; mask < 1 << M; mask++) {
      const s = Array.from({ length: M }, (_, m) => m).filter((m) => mask & (1 << m));
      if (!fitsStorage(storageBytes(problem, s), problem.servers[n].storageBytes)) continue;
      sets[n] = s;
      rec(n + 1);
    }
  };
  rec(0);
  return sense * best;
}
