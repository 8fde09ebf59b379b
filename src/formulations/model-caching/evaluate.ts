/**
 * Independent re-check of a caching decision: storage per server on the union of the blocks it
 * holds, and the objective recomputed from the cached sets alone.
 */
import type { Evaluation, Violation } from '../types.ts';
import { requestMass, storageBytes } from './cost.ts';
import type { Decision, Problem } from './schema.ts';

const STORAGE_TOLERANCE = 1e-9;

/** Cached model indices per server, with violations for ids that do not exist. */
export function cachedSets(problem: Problem, decision: Decision): { sets: number[][]; violations: Violation[] } {
  const violations: Violation[] = [];
  const serverIndex = new Map(problem.servers.map((s, i) => [s.id, i]));
  const modelIndex = new Map(problem.models.map((m, i) => [m.id, i]));
  const sets: number[][] = problem.servers.map(() => []);
  for (const [serverId, models] of Object.entries(decision.cached)) {
    const n = serverIndex.get(serverId);
    if (n === undefined) {
      violations.push({ constraint: `server[${serverId}]`, message: `decision names server "${serverId}", which the problem does not have` });
      continue;
    }
    const seen = new Set<number>();
    for (const id of models) {
      const m = modelIndex.get(id);
      if (m === undefined) violations.push({ constraint: `server[${serverId}].model`, message: `decision caches model "${id}", which the problem does not have` });
      else if (!seen.has(m)) {
        seen.add(m);
        sets[n].push(m);
      }
    }
  }
  return { sets, violations };
}

/** Per (user, model): the best latency among servers that hold the model and cover the user, or null. */
function bestServe(problem: Problem, sets: readonly number[][]): (number | null)[][] {
  const holds = problem.servers.map((_, n) => new Set(sets[n]));
  return problem.users.map((_, u) =>
    problem.models.map((_, m) => {
      let best: number | null = null;
      problem.servers.forEach((__, n) => {
        const t = problem.latencySeconds[u][n][m];
        if (t !== null && holds[n].has(m) && (best === null || t < best)) best = t;
      });
      return best;
    }),
  );
}

export function evaluate(problem: Problem, decision: Decision): Evaluation {
  const { sets, violations } = cachedSets(problem, decision);
  const servers = problem.servers.map((s, n) => {
    const used = storageBytes(problem, sets[n]);
    if (used > s.storageBytes * (1 + STORAGE_TOLERANCE) + 1e-6)
      violations.push({
        constraint: `server[${s.id}].storage`,
        message: `server ${s.id} needs ${(used / 1e9).toFixed(3)} GB for its cached models, it has ${(s.storageBytes / 1e9).toFixed(3)} GB`,
        excess: used - s.storageBytes,
      });
    return { server: s.id, models: sets[n].map((m) => problem.models[m].id), storageBytes: used, capacityBytes: s.storageBytes };
  });

  const best = bestServe(problem, sets);
  let hitRatio = 0;
  let latency = 0;
  const perModelHit = problem.models.map(() => ({ requested: 0, served: 0 }));
  problem.users.forEach((_, u) =>
    problem.models.forEach((__, m) => {
      const mass = requestMass(problem, u, m);
      if (mass === 0) return;
      const t = best[u][m];
      perModelHit[m].requested += mass;
      if (t !== null) {
        hitRatio += mass;
        perModelHit[m].served += mass;
      }
      if (problem.objective === 'expected-latency') {
        const cloud = problem.cloudLatencySeconds as number;
        latency += mass * (t === null ? cloud : Math.min(t, cloud));
      }
    }),
  );
  const objective = problem.objective === 'hit-ratio' ? hitRatio : latency;
  return {
    feasible: violations.length === 0,
    objective,
    violations,
    breakdown: {
      objective: problem.objective,
      hitRatio,
      expectedLatencySeconds: problem.objective === 'expected-latency' ? latency : undefined,
      servers,
      models: problem.models.map((m, k) => ({ model: m.id, requestShare: perModelHit[k].requested, servedShare: perModelHit[k].served })),
    },
  };
}
