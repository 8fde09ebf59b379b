/**
 * Independent re-check of a kv-split-inference decision: every cut's range, device memory, TTFT,
 * server memory (shared weights once, adapters per variant, every server user's KV, the work
 * buffers), latency SLOs, and the objective with a per-user breakdown.
 *
 * It reads the per-user and per-row cost coefficients from cost.ts (the cost model), but it does
 * not share the search's code for what the server runs: serverStateOf (used by the exact method,
 * the peers and the MILP's encode) works row by row with participation thresholds, while
 * evaluate below starts from the set of users the server serves and derives the loaded layer
 * range, the head, the adapters and the work buffers from it (tierLoad in evaluate-shared.ts, which
 * the three-tier re-check uses for its edge and cloud too), in the words of the docs page.
 * Feasibility uses the one tolerance policy (src/formulations/tolerance.ts).
 */
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import { gb, kvAccuracyUsed, kvFormatIndices, kvTablesFor, ms, type KvTables } from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';
import { evaluateKvThreeTier, type KvThreeTierBreakdown } from './evaluate-three-tier.ts';
import { checkDeviceMemory, checkLatencySlo, checkPrivacyFloor, tierLoad, type TierLoad } from './evaluate-shared.ts';

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
  /** Cell user: its share of the cell (resource-block cells: blocks / N); null for a dedicated link. */
  readonly cellShare: number | null;
  /** Cell user: its uplink rate at that share, bit/s (null for a dedicated link). */
  readonly cellUplinkBitsPerSecond: number | null;
  /** With kvFormats: the id of the format this user keeps its KV in. */
  readonly kvFormat?: string;
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
  /** The shared cell's use, or null without a cell. */
  readonly cell: {
    readonly allocation: 'continuous' | 'resource-blocks';
    /** Σ shares (≤ 1), and in resource blocks when the cell has them. */
    readonly shareUsed: number;
    readonly resourceBlocksUsed: number | null;
    readonly resourceBlocks: number | null;
  } | null;
  /** KV formats as a decision: the accuracy proxy spent over served users and its budget (absent without). */
  readonly kvAccuracy?: { readonly usedCost: number; readonly budget: number };
  /** Three tiers: the cloud, the backhaul and each user's second cut (absent without a cloud). */
  readonly threeTier?: KvThreeTierBreakdown;
}

/**
 * What the server holds and how long its batched step takes, from the users it serves: a user at
 * cut c < L runs decoder layers c + 1..L and the head there, so the server loads layers (lowest
 * server user's cut) + 1..L and the head, once; variant v's adapter in the layers above the lowest
 * cut of v's server users; KV per server user; work buffers for the longest prompt among them.
 */
function serverLoad(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): TierLoad {
  const L = tables.layers;
  const ranges = cuts.flatMap((c, u) => (c !== null && c < L ? [{ u, from: c + 1, to: L, head: true }] : []));
  return tierLoad(problem, tables, ranges, tables);
}

/**
 * Each user's share of the cell as the decision states it (fractions; 0 outside the cell), with
 * the cell's own rules checked: the right field for the allocation, one entry per user, nothing
 * for users outside the cell, whole blocks, fixed shares kept, and the total within the cell.
 */
function cellShares(problem: KvProblem, decision: KvDecision, violations: Violation[]): number[] {
  const cell = problem.cell;
  const U = problem.users.length;
  if (cell === null) {
    if (decision.cellShares !== undefined || decision.resourceBlocks !== undefined)
      violations.push({ constraint: 'cell', message: 'the decision gives cell shares, but the problem has no cell' });
    return new Array<number>(U).fill(0);
  }
  const blocks = cell.allocation === 'resource-blocks';
  const field = blocks ? 'resourceBlocks' : 'cellShares';
  const wrong = blocks ? decision.cellShares : decision.resourceBlocks;
  const given = blocks ? decision.resourceBlocks : decision.cellShares;
  if (wrong !== undefined)
    violations.push({
      constraint: 'cell',
      message: `this cell allocates ${blocks ? 'resource blocks' : 'continuous shares'}: the decision must give ${field}`,
    });
  if (given === undefined || given.length !== U) {
    violations.push({
      constraint: 'cell',
      message: `the decision must give ${field} with one entry per user (${U})`,
    });
    return new Array<number>(U).fill(0);
  }
  const N = cell.resourceBlocks ?? 1;
  const shares = given.map((v, u) => {
    const user = problem.users[u];
    if (!(Number.isFinite(v) && v >= 0)) {
      violations.push({
        constraint: `users[${u}].cell-share`,
        message: `${user.name}'s ${field} entry ${v} is not ≥ 0`,
      });
      return 0;
    }
    if (blocks && !Number.isInteger(v))
      violations.push({
        constraint: `users[${u}].cell-share`,
        message: `${user.name} gets ${v} resource blocks, not a whole number`,
      });
    if (user.radio === null && v > 0)
      violations.push({
        constraint: `users[${u}].cell-share`,
        message: `${user.name} has a dedicated link, not a share of the cell`,
      });
    const share = blocks ? v / N : v;
    const fixed = user.radio?.fixedShare ?? null;
    if (fixed !== null && Math.abs(share - fixed) > 1e-9)
      violations.push({
        constraint: `users[${u}].cell-share`,
        message: `${user.name}'s share is fixed at ${blocks ? `${Math.round(fixed * N)} resource blocks` : fixed}, the decision gives ${v}`,
      });
    return user.radio === null ? 0 : share;
  });
  const total = given.reduce((a, b) => a + b, 0);
  const capacity = blocks ? N : 1;
  if (!withinLimit(total, capacity))
    violations.push({
      constraint: 'cell-capacity',
      message: blocks
        ? `the users hold ${total} resource blocks, the cell has ${N}`
        : `the shares sum to ${total.toFixed(6)}, more than the whole cell (1)`,
      excess: excessOver(total, capacity),
    });
  return shares;
}

export function evaluateKv(problem: KvProblem, decision: KvDecision): Evaluation<KvBreakdown> {
  if (problem.cloud !== null) return evaluateKvThreeTier(problem, decision);
  const violations: Violation[] = [];
  // KV formats: every per-user quantity (device KV and time, server KV, the user's row traffic)
  // comes from its format's cost tables; the budget is checked below.
  const formatErrors: string[] = [];
  const formats = kvFormatIndices(problem, decision, formatErrors);
  for (const message of formatErrors) violations.push({ constraint: 'kvFormats', message });
  const tables = kvTablesFor(problem, formats);
  const L = tables.layers;
  if (decision.cloudCuts !== undefined && decision.cloudCuts.some((c) => c !== L))
    violations.push({
      constraint: 'cloudCuts',
      message: `the decision gives cloud cuts below ${L}, but the problem has no cloud tier`,
    });
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
  const shares = cellShares(problem, decision, violations);
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
        cellShare: user.radio !== null ? shares[u] : null,
        cellUplinkBitsPerSecond: user.radio !== null ? shares[u] * user.link.uplinkBitsPerSecond : null,
      });
      return;
    }
    const k = tables.users[u][c];
    const onServer = c < L;
    checkPrivacyFloor(violations, user, u, c);
    const serverSeconds = onServer ? load.stepSeconds : 0;
    // A cell user's transfers take latency + (seconds on the whole cell) / share.
    const share = shares[u];
    const overShare = (work: number): number => (work > 0 ? (share > 0 ? work / share : Infinity) : 0);
    const uplink = k.uplinkSeconds + overShare(k.uplinkWorkSeconds);
    const downlink = k.downlinkSeconds + overShare(k.downlinkWorkSeconds);
    const ttft = k.ttftSeconds - k.ttftWorkSeconds + overShare(k.ttftWorkSeconds);
    if (user.radio !== null && k.uplinkWorkSeconds + k.downlinkWorkSeconds > 0 && !(share > 0))
      violations.push({
        constraint: `users[${u}].cell-share`,
        message: `${user.name} sends over the cell at cut ${c} but has no share of it`,
      });
    const latency = k.deviceSeconds + uplink + serverSeconds + downlink;
    latencyObjective = problem.objective === 'max' ? Math.max(latencyObjective, latency) : latencyObjective + latency;
    checkDeviceMemory(violations, problem, user, u, c, k);
    if (user.ttftSloSeconds !== null && !withinLimit(ttft, user.ttftSloSeconds)) {
      violations.push({
        constraint: `users[${u}].ttft-slo`,
        message: `${user.name}'s time to first token is ${ms(ttft)}, its limit is ${ms(user.ttftSloSeconds)}`,
        excess: excessOver(ttft, user.ttftSloSeconds),
      });
    }
    checkLatencySlo(violations, user, u, latency);
    users.push({
      user: user.name,
      cut: c,
      deviceLayers: c,
      served: true,
      usesServer: onServer,
      deviceSeconds: k.deviceSeconds,
      uplinkSeconds: uplink,
      serverStepSeconds: serverSeconds,
      downlinkSeconds: downlink,
      latencySeconds: latency,
      ttftSeconds: ttft,
      deviceMemoryBytes: k.deviceStreams ? k.deviceNeedBytes : k.deviceResidentBytes,
      deviceStreamsWeights: k.deviceStreams,
      serverKvBytes: onServer ? k.serverKvBytes : 0,
      cellShare: user.radio !== null ? share : null,
      cellUplinkBitsPerSecond: user.radio !== null ? share * user.link.uplinkBitsPerSecond : null,
      ...(formats !== null && problem.kvFormats ? { kvFormat: problem.kvFormats[formats[u]].id } : {}),
    });
  });
  let kvAccuracy: KvBreakdown['kvAccuracy'];
  if (formats !== null) {
    const usedCost = kvAccuracyUsed(problem, formats, cuts);
    const budget = problem.kvAccuracyBudget ?? Infinity;
    kvAccuracy = { usedCost, budget };
    if (!withinLimit(usedCost, budget))
      violations.push({
        constraint: 'kv-accuracy-budget',
        message: `the users' KV formats spend ${usedCost.toFixed(4)} of accuracy proxy, the budget is ${budget}`,
        excess: excessOver(usedCost, budget),
      });
  }
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
    cell:
      problem.cell === null
        ? null
        : {
            allocation: problem.cell.allocation,
            shareUsed: shares.reduce((a, b) => a + b, 0),
            resourceBlocksUsed:
              problem.cell.allocation === 'resource-blocks'
                ? (decision.resourceBlocks ?? []).reduce((a, b) => a + b, 0)
                : null,
            resourceBlocks: problem.cell.resourceBlocks,
          },
    ...(kvAccuracy !== undefined ? { kvAccuracy } : {}),
  };
  return { feasible: violations.length === 0, objective: latencyObjective + penaltySeconds, violations, breakdown };
}
