/**
 * Independent re-check of a split-moe decision, from the decision alone: shapes, cuts within the
 * privacy floor and the device memory, server memory, routing only to holders with shares in
 * [0, 1], dropped shares within each class's accuracy-proxy budget, replica batches within the
 * token limit, latency SLOs, then the objective with a per-class breakdown (through cost.ts).
 */
import { FEASIBILITY_RTOL, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import {
  callBytes,
  callSeconds,
  classLatency,
  classVisits,
  denseSeconds,
  deviceBytes,
  deviceLayerSeconds,
  linkBytesPerLayer,
  linkRoundTripSeconds,
  objectiveOf,
  replicaTokenLimit,
} from './cost.ts';
import type { PopularitySource, SplitMoeDecision, SplitMoeProblem } from './schema.ts';

export interface ClassBreakdown {
  readonly name: string;
  readonly users: number;
  readonly cut: number;
  readonly latencySeconds: number;
  readonly denseSeconds: number;
  readonly deviceExpertSeconds: number;
  readonly linkSeconds: number;
  readonly expertCallSeconds: number;
  /** Network bytes per token of one user (access link + server-to-server). */
  readonly networkBytesPerToken: number;
  /** Mean over MoE layers of the routing mass whose calls are skipped. */
  readonly droppedShare: number;
  readonly deviceBytes: number;
  readonly popularity: PopularitySource;
}

export interface SplitMoeBreakdown {
  readonly objective: string;
  readonly units: string;
  readonly classes: readonly ClassBreakdown[];
  readonly servers: readonly {
    readonly name: string;
    readonly experts: number;
    readonly memoryBytes: number;
    readonly memoryLimitBytes: number;
  }[];
  readonly networkBytesPerStep: number;
}

export type SplitMoeEvaluation = Evaluation<SplitMoeBreakdown | null>;

function shapeViolations(problem: SplitMoeProblem, d: SplitMoeDecision): Violation[] {
  const U = problem.classes.length;
  const L = problem.layers;
  const E = problem.experts;
  const S = problem.servers.length;
  const v: Violation[] = [];
  if (d.cuts.length !== U) v.push({ constraint: 'shape.cuts', message: `${d.cuts.length} cuts for ${U} classes` });
  if (d.placement.length !== L || d.placement.some((row) => row.length !== E))
    v.push({ constraint: 'shape.placement', message: `the placement must list ${L} layers × ${E} experts` });
  else
    d.placement.forEach((row, l) =>
      row.forEach((holders, e) => {
        if (holders.some((s) => !Number.isInteger(s) || s < 0 || s >= S) || new Set(holders).size !== holders.length)
          v.push({
            constraint: `placement[${l}][${e}]`,
            message: `expert ${e} of layer ${l} names an unknown or repeated server`,
          });
      }),
    );
  if (d.routing.length !== U || d.routing.some((c) => c.length !== L || c.some((row) => row.length !== E)))
    v.push({
      constraint: 'shape.routing',
      message: `the routing must list ${U} classes × ${L} layers × ${E} experts`,
    });
  return v;
}

export function evaluateDecision(problem: SplitMoeProblem, decision: SplitMoeDecision): SplitMoeEvaluation {
  const shape = shapeViolations(problem, decision);
  if (shape.length > 0) return { feasible: false, objective: NaN, violations: shape, breakdown: null };
  const violations: Violation[] = [];
  const L = problem.layers;
  const E = problem.experts;
  const S = problem.servers.length;

  const held = problem.servers.map(() => 0);
  const holds = decision.placement.map((row) => row.map((holders) => new Set(holders)));
  decision.placement.forEach((row) => row.forEach((holders) => holders.forEach((s) => (held[s] += 1))));
  const servers = problem.servers.map((server, s) => {
    const memoryBytes = held[s] * problem.expertBytes;
    if (!withinLimit(memoryBytes, server.expertMemoryBytes))
      violations.push({
        constraint: `server[${s}].memory`,
        message:
          `${server.name} holds ${held[s]} experts needing ${(memoryBytes / 1e9).toFixed(3)} ` +
          `GB; it has ${(server.expertMemoryBytes / 1e9).toFixed(3)} GB for experts`,
        excess: memoryBytes - server.expertMemoryBytes,
      });
    return { name: server.name, experts: held[s], memoryBytes, memoryLimitBytes: server.expertMemoryBytes };
  });

  // Calls per step each replica serves, summed over classes.
  const replicaTokens = Array.from({ length: L }, () => Array.from({ length: E }, () => new Array<number>(S).fill(0)));
  const classes: ClassBreakdown[] = [];
  const latency: number[] = [];
  const bytesPerUser: number[] = [];
  problem.classes.forEach((c, u) => {
    const cut = decision.cuts[u];
    const bytes = deviceBytes(problem, u, Math.max(0, Math.min(cut, L)));
    if (!Number.isInteger(cut) || cut < c.minDeviceLayers || cut > L)
      violations.push({
        constraint: `class[${u}].cut`,
        message: `${c.name}: cut ${cut} is outside [${c.minDeviceLayers} (privacy floor), ${L}]`,
      });
    else if (!withinLimit(bytes, c.memoryBytes))
      violations.push({
        constraint: `class[${u}].memory`,
        message:
          `${c.name}: the dense parts, the KV cache and ${cut} layers of experts need ` +
          `${(bytes / 1e9).toFixed(3)} GB; the device has ${(c.memoryBytes / 1e9).toFixed(3)} GB`,
        excess: bytes - c.memoryBytes,
      });
    let callTime = 0;
    let hopBytes = 0;
    let dropped = 0;
    for (let l = 0; l < L; l++) {
      for (let e = 0; e < E; e++) {
        const routes = decision.routing[u][l][e];
        if (l < cut) {
          if (routes.length > 0)
            violations.push({
              constraint: `class[${u}].layer[${l}].local`,
              message: `${c.name}: layer ${l} runs on the device (cut ${cut}) but expert ${e} is routed to a server`,
            });
          continue;
        }
        let sum = 0;
        const seen = new Set<number>();
        for (const r of routes) {
          if (!Number.isInteger(r.server) || r.server < 0 || r.server >= S || seen.has(r.server)) {
            violations.push({
              constraint: `class[${u}].layer[${l}].expert[${e}].server`,
              message: `${c.name}: expert ${e} of layer ${l} is routed to an unknown or repeated server ${r.server}`,
            });
            continue;
          }
          seen.add(r.server);
          if (!holds[l][e].has(r.server))
            violations.push({
              constraint: `class[${u}].layer[${l}].expert[${e}].holder`,
              message:
                `${c.name}: expert ${e} of layer ${l} is routed to ` +
                `${problem.servers[r.server].name}, which does not hold it`,
            });
          if (!(r.share >= -FEASIBILITY_RTOL && r.share <= 1 + FEASIBILITY_RTOL))
            violations.push({
              constraint: `class[${u}].layer[${l}].expert[${e}].share`,
              message: `${c.name}: share ${r.share} is outside [0, 1]`,
            });
          const share = Math.max(0, r.share);
          sum += share;
          const p = c.popularity[l][e];
          callTime += p * share * callSeconds(problem, u, r.server);
          hopBytes += problem.topK * p * share * callBytes(problem, u, r.server);
          replicaTokens[l][e][r.server] += classVisits(problem, u, l, e) * share;
        }
        if (sum > 1 + FEASIBILITY_RTOL)
          violations.push({
            constraint: `class[${u}].layer[${l}].expert[${e}].shares`,
            message: `${c.name}: the shares of expert ${e} of layer ${l} sum to ${sum} > 1`,
            excess: sum - 1,
          });
        dropped += c.popularity[l][e] * Math.max(0, 1 - sum);
      }
    }
    const droppedShare = dropped / L;
    if (droppedShare > c.maxDroppedShare + FEASIBILITY_RTOL)
      violations.push({
        constraint: `class[${u}].dropped`,
        message:
          `${c.name} skips ${(100 * droppedShare).toFixed(4)}% of its routing mass (mean over ` +
          `MoE layers); it allows ${(100 * c.maxDroppedShare).toFixed(4)}%`,
        excess: droppedShare - c.maxDroppedShare,
      });
    const remote = Math.max(0, L - cut);
    const t = classLatency(problem, u, Math.min(Math.max(cut, 0), L), callTime);
    if (c.latencySloSeconds !== null && !withinLimit(t, c.latencySloSeconds))
      violations.push({
        constraint: `class[${u}].slo`,
        message:
          `${c.name}: ${(t * 1e3).toFixed(3)} ms per token exceeds its SLO of ` +
          `${(c.latencySloSeconds * 1e3).toFixed(3)} ms`,
        excess: t - c.latencySloSeconds,
      });
    const perUserBytes = remote * linkBytesPerLayer(problem) + hopBytes;
    latency.push(t);
    bytesPerUser.push(perUserBytes);
    classes.push({
      name: c.name,
      users: c.users,
      cut,
      latencySeconds: t,
      denseSeconds: denseSeconds(problem, u),
      deviceExpertSeconds: Math.min(Math.max(cut, 0), L) * deviceLayerSeconds(problem, u),
      linkSeconds: remote * linkRoundTripSeconds(problem, u),
      expertCallSeconds: callTime,
      networkBytesPerToken: perUserBytes,
      droppedShare,
      deviceBytes: bytes,
      popularity: c.popularitySource,
    });
  });

  for (let l = 0; l < L; l++)
    for (let e = 0; e < E; e++)
      for (let s = 0; s < S; s++) {
        const limit = replicaTokenLimit(problem, s);
        if (!withinLimit(replicaTokens[l][e][s], limit))
          violations.push({
            constraint: `replica[${l}][${e}][${s}].tokens`,
            message:
              `${problem.servers[s].name}'s replica of expert ${e} in layer ${l} gets ` +
              `${replicaTokens[l][e][s].toFixed(2)} calls per step; its limit is ${limit.toFixed(2)} (roofline knee)`,
            excess: replicaTokens[l][e][s] - limit,
          });
      }

  const objective = objectiveOf(problem, latency, bytesPerUser);
  const networkBytesPerStep = problem.classes.reduce((a, c, u) => a + c.users * bytesPerUser[u], 0);
  return {
    feasible: violations.length === 0,
    objective,
    violations,
    breakdown: {
      objective: problem.objective,
      units: problem.objective === 'network' ? 'network bytes per decode step (all users)' : 'seconds per token',
      classes,
      servers,
      networkBytesPerStep,
    },
  };
}
