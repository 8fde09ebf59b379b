/**
 * Independent re-check of a caching decision: storage per server on the union of the blocks it
 * holds (under the one tolerance policy), and the objective recomputed from the cached sets alone
 * (per user and model, not through the MILP's demand groups).
 */
import type { Evaluation } from '../types.ts';
import { edgeServes, fitsStorage, requestMass, storageBytes } from './cost.ts';
import { cachedSets } from './decision.ts';
import type { Decision, Problem } from './schema.ts';

export interface CachingServerBreakdown {
  readonly server: string;
  readonly models: readonly string[];
  readonly storageBytes: number;
  readonly capacityBytes: number;
}

export interface CachingModelBreakdown {
  readonly model: string;
  readonly requestShare: number;
  /** Share of all requests for this model served at the edge. */
  readonly servedShare: number;
}

export interface CachingBreakdown {
  readonly objective: Problem['objective'];
  /**
   * Share of requests served at the edge. Under expected latency, a server slower than the cloud
   * does not count (the request goes to the cloud), the same rule as the objective's.
   */
  readonly hitRatio: number;
  /** Expected serve latency with cloud fallback; present under the expected-latency objective. */
  readonly expectedLatencySeconds?: number;
  readonly servers: readonly CachingServerBreakdown[];
  readonly models: readonly CachingModelBreakdown[];
}

export type CachingEvaluation = Evaluation<CachingBreakdown>;

/** Per (user, model): the best latency among edge servers that hold the model and serve it, or null. */
function bestServe(problem: Problem, sets: readonly number[][]): (number | null)[][] {
  const holds = problem.servers.map((_, n) => new Set(sets[n]));
  return problem.users.map((_, u) =>
    problem.models.map((_, m) => {
      let best: number | null = null;
      problem.servers.forEach((__, n) => {
        if (!holds[n].has(m) || !edgeServes(problem, u, n, m)) return;
        const t = problem.latencySeconds[u][n][m] as number;
        if (best === null || t < best) best = t;
      });
      return best;
    }),
  );
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(3)} GB`;
}

export function evaluate(problem: Problem, decision: Decision): CachingEvaluation {
  const { sets, violations } = cachedSets(problem, decision);
  const servers = problem.servers.map((s, n): CachingServerBreakdown => {
    const used = storageBytes(problem, sets[n]);
    if (!fitsStorage(used, s.storageBytes)) {
      // Bytes when the two would print alike in GB (a 20-byte excess must be visible).
      const same = gigabytes(used) === gigabytes(s.storageBytes);
      const shown = (b: number): string => (same ? `${b} B` : gigabytes(b));
      violations.push({
        constraint: `server[${s.id}].storage`,
        message: `server ${s.id} needs ${shown(used)} for its cached models, it has ${shown(s.storageBytes)}`,
        excess: used - s.storageBytes,
      });
    }
    const models = sets[n].map((m) => problem.models[m].id);
    return { server: s.id, models, storageBytes: used, capacityBytes: s.storageBytes };
  });

  const best = bestServe(problem, sets);
  const cloud = problem.cloudLatencySeconds ?? 0;
  let hitRatio = 0;
  let latency = 0;
  const perModel = problem.models.map(() => ({ requested: 0, served: 0 }));
  problem.users.forEach((_, u) =>
    problem.models.forEach((__, m) => {
      const mass = requestMass(problem, u, m);
      if (mass === 0) return;
      const t = best[u][m];
      perModel[m].requested += mass;
      if (t !== null) {
        hitRatio += mass;
        perModel[m].served += mass;
      }
      latency += mass * (t === null ? cloud : t);
    }),
  );
  const latencyObjective = problem.objective === 'expected-latency';
  return {
    feasible: violations.length === 0,
    objective: latencyObjective ? latency : hitRatio,
    violations,
    breakdown: {
      objective: problem.objective,
      hitRatio,
      ...(latencyObjective ? { expectedLatencySeconds: latency } : {}),
      servers,
      models: problem.models.map((m, k) => ({
        model: m.id,
        requestShare: perModel[k].requested,
        servedShare: perModel[k].served,
      })),
    },
  };
}
