/**
 * Cost model of the moe-placement family, built on the shared roofline and link physics.
 *
 * One decode step pushes `batchTokens` tokens through every MoE layer; each token goes to topK
 * experts, so expert e of layer l expects B·k·p[l][e] token visits. A server that holds experts
 * of layer l is contacted in that layer: it receives its tokens' activations over its link, runs
 * the experts it holds (a roofline: FLOPs of the routed tokens vs. reading the held experts'
 * weights once), and returns the results. The layer ends when the slowest server is done, so the
 * per-token latency is Σ_l max_s t_ls — the expected-load (fluid) view of a step.
 */
import { rooflineTime, type DeviceSpec } from '../../cost/device.ts';
import { transferSeconds } from '../../cost/link.ts';
import { FEASIBILITY_RTOL, withinLimit } from '../tolerance.ts';
import type { MoePlacementDecision, MoePlacementProblem, MoeServer } from './schema.ts';

/**
 * Expected token visits of expert `expert` in layer `layer` per step: B·k·p for a routed expert,
 * B for a shared one (every token visits it).
 */
export function expertTokens(problem: MoePlacementProblem, layer: number, expert: number): number {
  if (expert >= problem.routedExperts) return problem.batchTokens;
  return problem.batchTokens * problem.topK * problem.popularity[layer][expert];
}

/** The server's device with its sustained expert FLOP/s as the effective compute rate. */
function effectiveDevice(server: MoeServer): DeviceSpec {
  return { ...server.device, peakFlopsPerSecond: server.flopsPerSecond, computeEfficiency: 1 };
}

export interface ServerLayerTime {
  readonly seconds: number;
  readonly computeSeconds: number;
  readonly memorySeconds: number;
  readonly overheadSeconds: number;
  readonly transferSeconds: number;
  readonly latencySeconds: number;
  readonly bound: 'compute' | 'memory' | 'idle';
}

/**
 * Time server `s` needs in one layer when it holds `replicas` experts of the layer and serves
 * `tokens` expected token visits. A server holding nothing is not contacted (zero time).
 */
export function serverLayerTime(problem: MoePlacementProblem, s: number, tokens: number, replicas: number): ServerLayerTime {
  if (replicas <= 0) return { seconds: 0, computeSeconds: 0, memorySeconds: 0, overheadSeconds: 0, transferSeconds: 0, latencySeconds: 0, bound: 'idle' };
  const server = problem.servers[s];
  const roof = rooflineTime(
    effectiveDevice(server),
    {
      flops: tokens * problem.expertFlopsPerToken,
      // Each visit reads its input activation and writes its output.
      memoryTrafficBytes: tokens * 2 * problem.activationBytesPerToken,
      weightBytes: replicas * problem.expertBytes,
      calls: replicas,
    },
    0,
  );
  const bytes = tokens * problem.activationBytesPerToken;
  const link = server.link;
  // Latency is paid once each way whenever the server takes part in the layer's dispatch.
  const transfer = link === null ? 0 : transferSeconds(bytes, link.uplinkBitsPerSecond, 0) + transferSeconds(bytes, link.downlinkBitsPerSecond, 0);
  const latency = link === null ? 0 : 2 * link.latencySeconds;
  return {
    seconds: Math.max(roof.computeSeconds, roof.memorySeconds) + roof.overheadSeconds + transfer + latency,
    computeSeconds: roof.computeSeconds,
    memorySeconds: roof.memorySeconds,
    overheadSeconds: roof.overheadSeconds,
    transferSeconds: transfer,
    latencySeconds: latency,
    bound: roof.computeSeconds >= roof.memorySeconds ? 'compute' : 'memory',
  };
}

/** Network bytes per step of `tokens` visits to server `s` (zero on the requester's own server). */
export function serverTrafficBytes(problem: MoePlacementProblem, s: number, tokens: number): number {
  return problem.servers[s].link === null ? 0 : 2 * tokens * problem.activationBytesPerToken;
}

/**
 * A linear lower envelope row of a server's layer time: perToken·tokens + perReplica·replicas +
 * fixed·[holds any]. The server's time is the maximum of its rows (the roofline's max), which is
 * what lets the MILP write `T_l ≥ row` for each row.
 */
export interface TimeRow {
  readonly perToken: number;
  readonly perReplica: number;
  readonly fixed: number;
}

/** The rows whose maximum is the server's contribution to the objective of one layer. */
export function serverRows(problem: MoePlacementProblem, s: number): TimeRow[] {
  const server = problem.servers[s];
  const device = server.device;
  const compute = problem.expertFlopsPerToken / server.flopsPerSecond;
  const bandwidth = device.memoryBandwidthBytesPerSecond * device.bandwidthEfficiency;
  const memoryPerToken = (2 * problem.activationBytesPerToken) / bandwidth;
  const weights = problem.expertBytes / bandwidth;
  const overhead = device.perCallOverheadSeconds;
  const link = server.link;
  const bits = 8 * problem.activationBytesPerToken;
  const transfer = link === null ? 0 : bits / link.uplinkBitsPerSecond + bits / link.downlinkBitsPerSecond;
  const latency = link === null ? 0 : 2 * link.latencySeconds;
  if (problem.objective === 'max-load') return [{ perToken: compute, perReplica: 0, fixed: 0 }];
  return [
    { perToken: compute + transfer, perReplica: overhead, fixed: latency },
    { perToken: memoryPerToken + transfer, perReplica: weights + overhead, fixed: latency },
  ];
}

/** A server's layer contribution under the problem's objective (max-type objectives). */
export function serverLayerObjective(problem: MoePlacementProblem, s: number, tokens: number, replicas: number): number {
  if (replicas <= 0) return 0;
  if (problem.objective === 'max-load') return serverLayerTime(problem, s, tokens, replicas).computeSeconds;
  return serverLayerTime(problem, s, tokens, replicas).seconds;
}

/** Where a new replica's weights come from, and what moving them costs. */
export interface MigrationCost {
  readonly bytes: number;
  readonly seconds: number;
  /** Bytes crossing the network (zero when loaded from the server's own storage). */
  readonly networkBytes: number;
  readonly source: string;
}

/**
 * Cost of placing expert (layer, expert) on server s given the current placement: free when it
 * is there already; otherwise copied from the fastest current holder over the server-to-server
 * link, or — with no holder or no server link — sent from the requesting side over the server's
 * link (its uplink direction), or read from local storage on the requester's own server.
 */
export function migrationCost(problem: MoePlacementProblem, layer: number, expert: number, s: number): MigrationCost {
  const bytes = problem.expertBytes;
  const current = problem.current;
  if (current === null || current[layer][expert][s]) return { bytes: 0, seconds: 0, networkBytes: 0, source: 'already there' };
  const holders = current[layer][expert].some((h) => h);
  if (holders && problem.serverLink !== null) {
    const l = problem.serverLink;
    return { bytes, seconds: transferSeconds(bytes, l.uplinkBitsPerSecond, l.latencySeconds), networkBytes: bytes, source: 'copied from a current holder' };
  }
  const link = problem.servers[s].link;
  if (link === null) return { bytes, seconds: bytes / problem.servers[s].device.storageReadBytesPerSecond, networkBytes: 0, source: 'loaded from local storage' };
  return { bytes, seconds: transferSeconds(bytes, link.uplinkBitsPerSecond, link.latencySeconds), networkBytes: bytes, source: 'sent by the requesting side' };
}

/** The migration term added to the objective for placing (layer, expert) on s. */
export function migrationObjective(problem: MoePlacementProblem, layer: number, expert: number, s: number): number {
  if (problem.current === null || problem.migrationWeight === 0) return 0;
  const m = migrationCost(problem, layer, expert, s);
  return problem.migrationWeight * (problem.objective === 'traffic' ? m.networkBytes : m.seconds);
}

/**
 * How many experts server s can hold (over all layers): the largest n with n × expert bytes
 * within its expert memory under the one feasibility tolerance (tolerance.ts) — the same test
 * evaluate applies, so that solve and check agree (3 × 1 GB on 3 GB − 1 byte fits for both).
 */
export function replicaCapacity(problem: MoePlacementProblem, s: number): number {
  const memory = problem.servers[s].expertMemoryBytes;
  let n = Math.floor(memory / problem.expertBytes);
  while (n > 0 && !withinLimit(n * problem.expertBytes, memory)) n -= 1;
  while (withinLimit((n + 1) * problem.expertBytes, memory)) n += 1;
  return n;
}

/** Per layer and server: replicas held and expected tokens served. Assumes a structurally valid decision. */
export function layerLoads(problem: MoePlacementProblem, decision: MoePlacementDecision): { replicas: number[][]; tokens: number[][] } {
  const S = problem.servers.length;
  const replicas = Array.from({ length: problem.layers }, () => new Array<number>(S).fill(0));
  const tokens = Array.from({ length: problem.layers }, () => new Array<number>(S).fill(0));
  for (let l = 0; l < problem.layers; l++) {
    for (let e = 0; e < problem.experts; e++) {
      const t = expertTokens(problem, l, e);
      for (const r of decision.placement[l][e]) {
        replicas[l][r.server] += 1;
        tokens[l][r.server] += t * r.share;
      }
    }
  }
  return { replicas, tokens };
}

/** A placement valued with the cost functions: each layer's term, the migration term and the total. */
export interface PlacementValue {
  /** Per layer: slowest server's term (max-type objectives) or remote bytes (traffic), plus its migration. */
  readonly layers: readonly number[];
  readonly objective: number;
  /** Memory and replica budget respected (the tolerance policy), every expert served by shares summing to 1. */
  readonly feasible: boolean;
}

/**
 * Values a decision for the search (the exact method, the compiler's cut-offs): the same cost
 * functions as evaluate, but no violation report — evaluate stays the independent re-check.
 * A structurally broken decision (wrong shape, unknown server) is infeasible with value ∞.
 */
export function placementValue(problem: MoePlacementProblem, decision: MoePlacementDecision): PlacementValue {
  const S = problem.servers.length;
  const broken: PlacementValue = { layers: [], objective: Infinity, feasible: false };
  if (decision.placement.length !== problem.layers) return broken;
  const held = new Array<number>(S).fill(0);
  let feasible = true;
  const layers: number[] = [];
  for (let l = 0; l < problem.layers; l++) {
    const row = decision.placement[l];
    if (row.length !== problem.experts) return broken;
    const tokens = new Array<number>(S).fill(0);
    const count = new Array<number>(S).fill(0);
    let migration = 0;
    let replicas = 0;
    for (let e = 0; e < problem.experts; e++) {
      let sum = 0;
      const seen = new Set<number>();
      for (const r of row[e]) {
        if (!Number.isInteger(r.server) || r.server < 0 || r.server >= S || seen.has(r.server)) return broken;
        seen.add(r.server);
        tokens[r.server] += r.share * expertTokens(problem, l, e);
        count[r.server] += 1;
        sum += r.share;
        migration += migrationObjective(problem, l, e, r.server);
      }
      replicas += row[e].length;
      if (row[e].length === 0 || Math.abs(sum - 1) > FEASIBILITY_RTOL) feasible = false;
    }
    if (problem.maxReplicasPerLayer !== null && replicas > problem.maxReplicasPerLayer) feasible = false;
    let value = 0;
    for (let s = 0; s < S; s++) {
      held[s] += count[s];
      if (count[s] === 0) continue;
      if (problem.objective === 'traffic') value += serverTrafficBytes(problem, s, tokens[s]);
      else value = Math.max(value, serverLayerObjective(problem, s, tokens[s], count[s]));
    }
    layers.push(value + migration);
  }
  for (let s = 0; s < S; s++) if (!withinLimit(held[s] * problem.expertBytes, problem.servers[s].expertMemoryBytes)) feasible = false;
  return { layers, objective: layers.reduce((a, b) => a + b, 0), feasible };
}
