/**
 * Independent re-check of a kv-split-inference decision: every cut's range, device memory, TTFT,
 * server memory (shared weights once, adapters per variant, every server user's KV, the work
 * buffers), latency SLOs, and the objective with a per-user breakdown.
 *
 * It reads the per-user and per-row cost coefficients from cost.ts (the cost model), but it does
 * not share the search's code for what the server runs: serverStateOf (used by the exact method,
 * the peers and the MILP's encode) works row by row with participation thresholds, while
 * evaluate below starts from the set of users the server serves and derives the loaded layer
 * range, the head, the adapters and the work buffers from it, in the words of the docs page.
 * Feasibility uses the one tolerance policy (src/formulations/tolerance.ts).
 */
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import { gb, kvTables, ms, type KvTables } from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';

export interface KvUserBreakdown {
  readonly user: string;
  readonly cut: number | null;
  readonly deviceLayers: number;
  readonly served: boolean;
  /** Whether the user uses the server (served with cut < L); a user at cut L runs the head itself. */
  readonly usesServer: boolean;
  readonly deviceSeconds: number;
  readonly uplinkSeconds: number;
  readonly serverStepSeconds: number;
  readonly downlinkSeconds: number;
  readonly latencySeconds: number | null;
  readonly ttftSeconds: number | null;
  readonly deviceMemoryBytes: number;
  readonly deviceStreamsWeights: boolean;
  readonly serverKvBytes: number;
}

export interface KvBreakdown {
  readonly objective: 'max' | 'sum';
  /** The latency part of the objective: the slowest served user's per-token latency, or the sum. */
  readonly latencyObjectiveSeconds: number;
  /** Admission penalty included in the objective: unserved users × `unservedPenaltySeconds`. */
  readonly penaltySeconds: number;
  readonly servedUsers: number;
  /** Names of the users not served (admission), in input order. */
  readonly unservedUsers: readonly string[];
  /** Penalty per unserved user (admission): above any latency objective. */
  readonly unservedPenaltySeconds: number;
  readonly serverStepSeconds: number;
  readonly serverBatchUsers: number;
  /** Decoder layers the server keeps loaded (each once, whatever the number of users). */
  readonly serverLayers: readonly number[];
  /** Whether the server holds the head (it does exactly when it serves some user). */
  readonly serverHead: boolean;
  readonly serverMemory: {
    readonly weightBytes: number;
    readonly adapterBytes: number;
    readonly kvBytes: number;
    readonly workspaceBytes: number;
    readonly totalBytes: number;
    readonly capacityBytes: number;
  };
  readonly adapters: readonly { readonly variant: string; readonly layers: number }[];
  readonly users: readonly KvUserBreakdown[];
}

interface ServerLoad {
  readonly layers: readonly number[];
  readonly head: boolean;
  readonly stepSeconds: number;
  readonly weightBytes: number;
  readonly adapterBytes: number;
  readonly adapterLayers: readonly number[];
  readonly kvBytes: number;
  readonly workspaceBytes: number;
}

/**
 * What the server holds and how long its batched step takes, from the users it serves: it loads
 * decoder layers (lowest server user's cut) + 1..L and the head, once; variant v's adapter in the
 * layers above the lowest cut of v's server users; KV per server user; work buffers for the
 * longest prompt among them.
 */
function serverLoad(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): ServerLoad {
  const L = tables.layers;
  const server = cuts.flatMap((c, u) => (c !== null && c < L ? [{ u, c }] : []));
  if (server.length === 0)
    return {
      layers: [],
      head: false,
      stepSeconds: 0,
      weightBytes: 0,
      adapterBytes: 0,
      adapterLayers: problem.variants.map(() => 0),
      kvBytes: 0,
      workspaceBytes: 0,
    };
  const lowest = Math.min(...server.map((s) => s.c));
  const layers = Array.from({ length: L - lowest }, (_, i) => lowest + 1 + i);
  const lowestOfVariant = problem.variants.map((_, v) =>
    Math.min(L, ...server.filter((s) => problem.users[s.u].variant === v).map((s) => s.c)),
  );
  const compute = tables.computeFlopsPerSecond;
  const bandwidth = tables.bandwidthBytesPerSecond;
  let stepSeconds = 0;
  let weightBytes = 0;
  let adapterBytes = 0;
  for (const row of tables.rows) {
    const isHead = row.kind === 'head';
    if (!isHead && row.index <= lowest) continue;
    weightBytes += row.residentBytes;
    let flops = 0;
    let traffic = row.readBytes;
    for (const { u, c } of server) {
      // A server user runs layers c + 1..L and the head.
      if (!isHead && row.index <= c) continue;
      flops += row.userFlops[u];
      traffic += row.userTrafficBytes[u];
      const v = problem.users[u].variant;
      if (v !== null && !isHead) flops += row.adapterFlopsPerToken[v];
    }
    if (!isHead) {
      problem.variants.forEach((_, v) => {
        if (row.index > lowestOfVariant[v] && row.adapterBytes[v] > 0) {
          adapterBytes += row.adapterBytes[v];
          traffic += row.adapterBytes[v];
        }
      });
    }
    stepSeconds += Math.max(flops / compute, traffic / bandwidth) + row.calls * tables.perCallOverheadSeconds;
  }
  const kvBytes = server.reduce((sum, s) => sum + tables.users[s.u][s.c].serverKvBytes, 0);
  const workspaceBytes = Math.max(...server.map((s) => tables.workspaceBytes[s.u]));
  const adapterLayers = lowestOfVariant.map((low, v) =>
    tables.rows.some((r) => r.kind === 'decoder' && r.adapterBytes[v] > 0) ? L - low : 0,
  );
  return { layers, head: true, stepSeconds, weightBytes, adapterBytes, adapterLayers, kvBytes, workspaceBytes };
}

export function evaluateKv(problem: KvProblem, decision: KvDecision): Evaluation<KvBreakdown> {
  const tables = kvTables(problem);
  const L = tables.layers;
  const violations: Violation[] = [];
  if (decision.cuts.length !== problem.users.length) {
    violations.push({
      constraint: 'cuts',
      message: `the decision gives ${decision.cuts.length} cuts for ${problem.users.length} users`,
    });
  }
  // Out-of-range cuts are reported and then treated as "not served" so the rest can be checked.
  const cuts = problem.users.map((user, u): number | null => {
    const c = decision.cuts[u];
    if (c === undefined) return null;
    if (c === null) {
      if (!problem.admission)
        violations.push({
          constraint: `users[${u}].served`,
          message: `${user.name} is not served, but admission is off (every user must be served)`,
        });
      return null;
    }
    if (!Number.isInteger(c) || c < 0 || c > L) {
      violations.push({ constraint: `users[${u}].cut`, message: `${user.name}'s cut ${c} is outside 0..${L}` });
      return null;
    }
    return c;
  });
  const load = serverLoad(problem, tables, cuts);
  const users: KvUserBreakdown[] = [];
  const unservedUsers: string[] = [];
  let latencyObjective = 0;
  problem.users.forEach((user, u) => {
    const c = cuts[u];
    if (c === null) {
      unservedUsers.push(user.name);
      users.push({
        user: user.name,
        cut: null,
        deviceLayers: 0,
        served: false,
        usesServer: false,
        deviceSeconds: 0,
        uplinkSeconds: 0,
        serverStepSeconds: 0,
        downlinkSeconds: 0,
        latencySeconds: null,
        ttftSeconds: null,
        deviceMemoryBytes: 0,
        deviceStreamsWeights: false,
        serverKvBytes: 0,
      });
      return;
    }
    const k = tables.users[u][c];
    const onServer = c < L;
    const serverSeconds = onServer ? load.stepSeconds : 0;
    const latency = k.deviceSeconds + k.uplinkSeconds + serverSeconds + k.downlinkSeconds;
    latencyObjective = problem.objective === 'max' ? Math.max(latencyObjective, latency) : latencyObjective + latency;
    if (k.deviceStreams && !problem.deviceWeightStreaming) {
      violations.push({
        constraint: `users[${u}].device-memory`,
        message: `${user.name} needs ${gb(k.deviceResidentBytes)} on its device for ${c} layers, the ${user.device.name} has ${gb(user.device.memoryBytes)} and streaming is off`,
        excess: k.deviceResidentBytes - user.device.memoryBytes,
      });
    } else if (!withinLimit(k.deviceNeedBytes, user.device.memoryBytes)) {
      violations.push({
        constraint: `users[${u}].device-memory`,
        message: `${user.name} needs ${gb(k.deviceNeedBytes)} on its device for ${c} layers (KV cache plus one streamed layer), the ${user.device.name} has ${gb(user.device.memoryBytes)}`,
        excess: excessOver(k.deviceNeedBytes, user.device.memoryBytes),
      });
    }
    if (user.ttftSloSeconds !== null && !withinLimit(k.ttftSeconds, user.ttftSloSeconds)) {
      violations.push({
        constraint: `users[${u}].ttft-slo`,
        message: `${user.name}'s time to first token is ${ms(k.ttftSeconds)}, its limit is ${ms(user.ttftSloSeconds)}`,
        excess: excessOver(k.ttftSeconds, user.ttftSloSeconds),
      });
    }
    if (user.latencySloSeconds !== null && !withinLimit(latency, user.latencySloSeconds)) {
      violations.push({
        constraint: `users[${u}].latency-slo`,
        message: `${user.name}'s per-token latency is ${ms(latency)}, its SLO is ${ms(user.latencySloSeconds)}`,
        excess: excessOver(latency, user.latencySloSeconds),
      });
    }
    users.push({
      user: user.name,
      cut: c,
      deviceLayers: c,
      served: true,
      usesServer: onServer,
      deviceSeconds: k.deviceSeconds,
      uplinkSeconds: k.uplinkSeconds,
      serverStepSeconds: serverSeconds,
      downlinkSeconds: k.downlinkSeconds,
      latencySeconds: latency,
      ttftSeconds: k.ttftSeconds,
      deviceMemoryBytes: k.deviceStreams ? k.deviceNeedBytes : k.deviceResidentBytes,
      deviceStreamsWeights: k.deviceStreams,
      serverKvBytes: onServer ? k.serverKvBytes : 0,
    });
  });
  const totalBytes = load.weightBytes + load.adapterBytes + load.kvBytes + load.workspaceBytes;
  if (!withinLimit(totalBytes, tables.serverMemoryBytes)) {
    violations.push({
      constraint: 'server-memory',
      message: `the server needs ${gb(totalBytes)} (weights ${gb(load.weightBytes)}, adapters ${gb(load.adapterBytes)}, KV ${gb(load.kvBytes)}, workspace ${gb(load.workspaceBytes)}), the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}`,
      excess: excessOver(totalBytes, tables.serverMemoryBytes),
    });
  }
  const penaltySeconds = unservedUsers.length * tables.unservedPenaltySeconds;
  const breakdown: KvBreakdown = {
    objective: problem.objective,
    latencyObjectiveSeconds: latencyObjective,
    penaltySeconds,
    servedUsers: problem.users.length - unservedUsers.length,
    unservedUsers,
    unservedPenaltySeconds: tables.unservedPenaltySeconds,
    serverStepSeconds: load.stepSeconds,
    serverBatchUsers: users.filter((x) => x.usesServer).length,
    serverLayers: load.layers,
    serverHead: load.head,
    serverMemory: {
      weightBytes: load.weightBytes,
      adapterBytes: load.adapterBytes,
      kvBytes: load.kvBytes,
      workspaceBytes: load.workspaceBytes,
      totalBytes,
      capacityBytes: tables.serverMemoryBytes,
    },
    adapters: problem.variants.map((v, i) => ({ variant: v.name, layers: load.adapterLayers[i] })),
    users,
  };
  return { feasible: violations.length === 0, objective: latencyObjective + penaltySeconds, violations, breakdown };
}
