/**
 * Independent re-check of an expert placement: structure, every expert served, shares summing
 * to one over holders only, server memory, replica budget, then the objective with a per-layer
 * breakdown — all recomputed from the decision through cost.ts.
 */
import { FEASIBILITY_RTOL, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import {
  layerLoads,
  migrationCost,
  migrationObjective,
  serverLayerObjective,
  serverLayerTime,
  serverTrafficBytes,
} from './cost.ts';
import type { MoePlacementDecision, MoePlacementProblem, PopularitySource } from './schema.ts';

/** Shares are fractions summing to 1; the one relative tolerance applies to them too. */
const SHARE_TOLERANCE = FEASIBILITY_RTOL;

export interface LayerBreakdown {
  readonly layer: number;
  /** The layer's contribution to the objective (slowest server's time; bytes for traffic). */
  readonly value: number;
  readonly busiestServer: number;
  readonly servers: readonly {
    readonly server: number;
    readonly replicas: number;
    readonly tokens: number;
    readonly seconds: number;
    readonly bound: string;
  }[];
}

export interface MoeBreakdown {
  readonly objective: string;
  readonly units: string;
  readonly popularity: PopularitySource;
  readonly layers: readonly LayerBreakdown[];
  readonly servers: readonly { readonly server: number; readonly name: string; readonly replicas: number; readonly memoryBytes: number; readonly memoryLimitBytes: number }[];
  readonly replicasPerLayer: readonly number[];
  readonly migration: { readonly replicasMoved: number; readonly bytesMoved: number; readonly seconds: number; readonly objectiveTerm: number } | null;
  readonly migrationObjective: number;
}

function structuralViolations(problem: MoePlacementProblem, decision: MoePlacementDecision): Violation[] {
  const v: Violation[] = [];
  const S = problem.servers.length;
  if (decision.placement.length !== problem.layers) {
    return [{ constraint: 'shape', message: `the placement lists ${decision.placement.length} layers, the model has ${problem.layers} MoE layers` }];
  }
  for (let l = 0; l < problem.layers; l++) {
    const row = decision.placement[l];
    if (row.length !== problem.experts) {
      v.push({ constraint: `layer[${l}].shape`, message: `layer ${l} lists ${row.length} experts, the model has ${problem.experts}` });
      continue;
    }
    for (let e = 0; e < problem.experts; e++) {
      const reps = row[e];
      if (reps.length === 0) {
        v.push({ constraint: `layer[${l}].expert[${e}].served`, message: `expert ${e} of layer ${l} has no replica on any server`, excess: 1 });
        continue;
      }
      const seen = new Set<number>();
      let sum = 0;
      for (const r of reps) {
        if (!Number.isInteger(r.server) || r.server < 0 || r.server >= S) {
          v.push({ constraint: `layer[${l}].expert[${e}].server`, message: `expert ${e} of layer ${l} names server ${r.server}, servers are 0..${S - 1}` });
          continue;
        }
        if (seen.has(r.server)) v.push({ constraint: `layer[${l}].expert[${e}].duplicate`, message: `expert ${e} of layer ${l} lists server ${r.server} twice` });
        seen.add(r.server);
        if (!(r.share >= -SHARE_TOLERANCE) || r.share > 1 + SHARE_TOLERANCE)
          v.push({ constraint: `layer[${l}].expert[${e}].share`, message: `expert ${e} of layer ${l} sends share ${r.share} to server ${r.server}; shares lie in [0, 1]` });
        sum += r.share;
      }
      if (Math.abs(sum - 1) > SHARE_TOLERANCE)
        v.push({ constraint: `layer[${l}].expert[${e}].shares`, message: `the shares of expert ${e} of layer ${l} sum to ${sum}, not 1`, excess: Math.abs(sum - 1) });
    }
  }
  return v;
}

/** null when the decision's structure is broken (wrong shape, unknown server): nothing to break down. */
export type MoeEvaluation = Evaluation<MoeBreakdown | null>;

export function evaluateDecision(problem: MoePlacementProblem, decision: MoePlacementDecision): MoeEvaluation {
  const structural = structuralViolations(problem, decision);
  if (structural.length > 0) return { feasible: false, objective: NaN, violations: structural, breakdown: null };
  const S = problem.servers.length;
  const violations: Violation[] = [];
  const { replicas, tokens } = layerLoads(problem, decision);

  const serverSummary = problem.servers.map((server, s) => {
    const count = replicas.reduce((a, row) => a + row[s], 0);
    const memoryBytes = count * problem.expertBytes;
    if (!withinLimit(memoryBytes, server.expertMemoryBytes)) {
      violations.push({
        constraint: `server[${s}].memory`,
        message: `${server.name} holds ${count} experts needing ${(memoryBytes / 1e9).toFixed(3)} GB, it has ${(server.expertMemoryBytes / 1e9).toFixed(3)} GB for experts`,
        excess: memoryBytes - server.expertMemoryBytes,
      });
    }
    return { server: s, name: server.name, replicas: count, memoryBytes, memoryLimitBytes: server.expertMemoryBytes };
  });

  const replicasPerLayer = replicas.map((row) => row.reduce((a, b) => a + b, 0));
  if (problem.maxReplicasPerLayer !== null) {
    const budget = problem.maxReplicasPerLayer;
    replicasPerLayer.forEach((n, l) => {
      if (n > budget) violations.push({ constraint: `layer[${l}].replicas`, message: `layer ${l} uses ${n} replicas, the budget is ${budget} per layer`, excess: n - budget });
    });
  }

  const layers: LayerBreakdown[] = [];
  let objective = 0;
  for (let l = 0; l < problem.layers; l++) {
    const servers = [];
    let value = 0;
    let busiest = -1;
    for (let s = 0; s < S; s++) {
      if (replicas[l][s] === 0) continue;
      const time = serverLayerTime(problem, s, tokens[l][s], replicas[l][s]);
      const contribution = problem.objective === 'traffic' ? serverTrafficBytes(problem, s, tokens[l][s]) : serverLayerObjective(problem, s, tokens[l][s], replicas[l][s]);
      servers.push({ server: s, replicas: replicas[l][s], tokens: tokens[l][s], seconds: time.seconds, bound: time.bound });
      if (problem.objective === 'traffic') {
        value += contribution;
        if (busiest < 0 || contribution > 0) busiest = s;
      } else if (busiest < 0 || contribution > value) {
        value = contribution;
        busiest = s;
      }
    }
    objective += value;
    layers.push({ layer: l, value, busiestServer: busiest, servers });
  }

  let migration: MoeBreakdown['migration'] = null;
  let migrationTerm = 0;
  if (problem.current !== null) {
    let moved = 0;
    let bytes = 0;
    let seconds = 0;
    for (let l = 0; l < problem.layers; l++) {
      for (let e = 0; e < problem.experts; e++) {
        for (const r of decision.placement[l][e]) {
          const m = migrationCost(problem, l, e, r.server);
          if (m.bytes > 0) {
            moved += 1;
            bytes += m.bytes;
            seconds += m.seconds;
          }
          migrationTerm += migrationObjective(problem, l, e, r.server);
        }
      }
    }
    migration = { replicasMoved: moved, bytesMoved: bytes, seconds, objectiveTerm: migrationTerm };
  }
  objective += migrationTerm;

  const breakdown: MoeBreakdown = {
    objective: problem.objective,
    units: problem.objective === 'traffic' ? 'bytes per step' : 'seconds per token (one decode step through the MoE layers)',
    popularity: problem.popularitySource,
    layers,
    servers: serverSummary,
    replicasPerLayer,
    migration,
    migrationObjective: migrationTerm,
  };
  return { feasible: violations.length === 0, objective, violations, breakdown };
}
