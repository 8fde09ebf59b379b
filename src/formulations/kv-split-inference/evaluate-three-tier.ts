/**
 * Independent re-check of a three-tier kv-split-inference decision (device | edge | cloud).
 *
 * It reads per-user and per-row cost coefficients (device times, user-link times, row FLOPs and
 * traffic, KV per layer) from cost.ts, as evaluate.ts does, but not the search's code: the tier
 * loads are built by evaluate's own tierLoad (evaluate-shared.ts, shared with the two-tier re-check)
 * from each user's layer ranges in the words of the docs page ("the edge
 * runs layers c1 + 1..c2 for u, and the head when c2 = L; the cloud runs c2 + 1..L and the
 * head"), the backhaul from the model's hidden size and the link's rates, the price from the
 * input's price per token — never from three-tier.ts or the MILP.
 */
import { activationBytesPerToken } from '../../cost/model.ts';
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import { gb, kvTables } from './cost.ts';
import { checkDeviceMemory, checkLatencySlo, checkPrivacyFloor, tierLoad } from './evaluate-shared.ts';
import type { KvBreakdown, KvUserBreakdown } from './evaluate.ts';
import type { KvCloud, KvDecision, KvProblem } from './schema.ts';

export interface KvThreeTierUser {
  readonly user: string;
  readonly deviceLayers: number;
  readonly edgeLayers: number;
  /** Decoder layers in the cloud (the cloud also runs the head when this is > 0 or c2 < L). */
  readonly cloudLayers: number;
  readonly cloudCut: number;
  readonly edgeWaitSeconds: number;
  /** Backhaul latencies + the shared backhaul time + the cloud step (0 without a cloud part). */
  readonly cloudWaitSeconds: number;
  readonly pricePerToken: number;
}

export interface KvThreeTierBreakdown {
  readonly cloudLayers: readonly number[];
  readonly cloudHead: boolean;
  readonly cloudStepSeconds: number;
  readonly cloudBatchUsers: number;
  readonly cloudMemory: {
    readonly weightBytes: number;
    readonly kvBytes: number;
    readonly workspaceBytes: number;
    readonly totalBytes: number;
    /** Infinity: unlimited. */
    readonly capacityBytes: number;
  };
  /** Seconds the backhaul needs per step for every cloud user's bits (shared). */
  readonly backhaulSeconds: number;
  readonly backhaulUpBytesPerStep: number;
  readonly backhaulDownBytesPerStep: number;
  /** Σ over users of the per-token cloud price, and its weighted part of the objective. */
  readonly pricePerToken: number;
  readonly priceObjectiveSeconds: number;
  readonly users: readonly KvThreeTierUser[];
}

export function evaluateKvThreeTier(problem: KvProblem, decision: KvDecision): Evaluation<KvBreakdown> {
  const cloud = problem.cloud as KvCloud;
  const tables = kvTables(problem);
  const L = tables.layers;
  const U = problem.users.length;
  const violations: Violation[] = [];
  if (decision.cuts.length !== U)
    violations.push({ constraint: 'cuts', message: `the decision gives ${decision.cuts.length} cuts for ${U} users` });
  if (decision.cloudCuts !== undefined && decision.cloudCuts.length !== U)
    violations.push({
      constraint: 'cloudCuts',
      message: `$.cloudCuts gives ${decision.cloudCuts.length} entries for ${U} users`,
    });
  if (decision.cellShares !== undefined || decision.resourceBlocks !== undefined)
    violations.push({ constraint: 'cell', message: 'the decision gives cell shares, but the problem has no cell' });
  // Each user's pair; a broken entry is reported and replaced by a harmless one so the rest is checked.
  const pairs = problem.users.map((user, u): { c1: number; c2: number } => {
    const c1raw = decision.cuts[u];
    let c1 = 0;
    if (c1raw === null || c1raw === undefined)
      violations.push({ constraint: `users[${u}].served`, message: `${user.name} is not served (admission is off)` });
    else if (!Number.isInteger(c1raw) || c1raw < 0 || c1raw > L)
      violations.push({ constraint: `users[${u}].cut`, message: `${user.name}'s cut ${c1raw} is outside 0..${L}` });
    else c1 = c1raw;
    const c2raw = decision.cloudCuts?.[u] ?? L;
    let c2 = L;
    if (!Number.isInteger(c2raw) || c2raw < 0 || c2raw > L)
      violations.push({
        constraint: `cloudCuts[${u}]`,
        message: `$.cloudCuts[${u}] = ${c2raw} is outside 0..${L}`,
      });
    else if (c2raw < c1)
      violations.push({
        constraint: `cloudCuts[${u}].order`,
        message:
          `$.cloudCuts[${u}] = ${c2raw} is below $.cuts[${u}] = ${c1}: ` +
          `${user.name}'s edge cut is above its cloud cut ` +
          '(the device runs layers 1..cuts, the edge cuts + 1..cloudCuts, the cloud the rest)',
      });
    else c2 = c2raw;
    return { c1, c2 };
  });

  const edge = tierLoad(
    problem,
    tables,
    pairs.map((p, u) => ({ u, from: p.c1 + 1, to: p.c2, head: p.c1 < L && p.c2 === L })),
    tables,
  );
  const device = cloud.device;
  const cloudLoad = tierLoad(
    problem,
    tables,
    pairs.map((p, u) => ({ u, from: p.c2 + 1, to: L, head: p.c2 < L })),
    {
      computeFlopsPerSecond: device.peakFlopsPerSecond * device.computeEfficiency,
      bandwidthBytesPerSecond: device.memoryBandwidthBytesPerSecond * device.bandwidthEfficiency,
      perCallOverheadSeconds: device.perCallOverheadSeconds,
    },
  );
  // The backhaul: every cloud user's hidden state up (none when the cloud runs everything and
  // feeds its own token back) and its token id down, in one transfer per step.
  const hidden = activationBytesPerToken(problem.model);
  let upBytes = 0;
  let downBytes = 0;
  for (const p of pairs) {
    if (p.c2 >= L) continue;
    if (p.c2 > 0) upBytes += hidden;
    downBytes += problem.tokenBytes;
  }
  const link = cloud.backhaul;
  const backhaulSeconds = (upBytes * 8) / link.uplinkBitsPerSecond + (downBytes * 8) / link.downlinkBitsPerSecond;

  const users: KvUserBreakdown[] = [];
  const tierUsers: KvThreeTierUser[] = [];
  let latencyObjective = 0;
  let price = 0;
  problem.users.forEach((user, u) => {
    const { c1, c2 } = pairs[u];
    const k = tables.users[u][c1];
    // Whoever reaches the edge (c1 < L) waits for its step; cloud-bound activations leave after it.
    const edgeWait = c1 < L ? edge.stepSeconds : 0;
    const latencies = c2 < L ? (c2 > 0 ? 2 : 1) * link.latencySeconds : 0;
    const cloudWait = c2 < L ? latencies + backhaulSeconds + cloudLoad.stepSeconds : 0;
    const latency = k.deviceSeconds + k.uplinkSeconds + k.downlinkSeconds + edgeWait + cloudWait;
    latencyObjective = problem.objective === 'max' ? Math.max(latencyObjective, latency) : latencyObjective + latency;
    const userPrice = c2 < L ? (cloud.pricePerToken * (L - c2)) / L : 0;
    price += userPrice;
    checkPrivacyFloor(violations, user, u, c1);
    checkDeviceMemory(violations, problem, user, u, c1, k);
    checkLatencySlo(violations, user, u, latency);
    users.push({
      user: user.name,
      cut: c1,
      deviceLayers: c1,
      served: true,
      usesServer: c1 < c2,
      deviceSeconds: k.deviceSeconds,
      uplinkSeconds: k.uplinkSeconds,
      serverStepSeconds: edgeWait,
      downlinkSeconds: k.downlinkSeconds,
      latencySeconds: latency,
      ttftSeconds: null,
      deviceMemoryBytes: k.deviceStreams ? k.deviceNeedBytes : k.deviceResidentBytes,
      deviceStreamsWeights: k.deviceStreams,
      serverKvBytes: tables.users[u][c1].serverKvBytes - tables.users[u][c2].serverKvBytes,
      cellShare: null,
      cellUplinkBitsPerSecond: null,
    });
    tierUsers.push({
      user: user.name,
      deviceLayers: c1,
      edgeLayers: c2 - c1,
      cloudLayers: L - c2,
      cloudCut: c2,
      edgeWaitSeconds: edgeWait,
      cloudWaitSeconds: cloudWait,
      pricePerToken: userPrice,
    });
  });
  const edgeTotal = edge.weightBytes + edge.kvBytes + edge.workspaceBytes;
  if (!withinLimit(edgeTotal, tables.serverMemoryBytes))
    violations.push({
      constraint: 'server-memory',
      message:
        `the edge server needs ${gb(edgeTotal)} (weights ${gb(edge.weightBytes)}, KV ${gb(edge.kvBytes)}, ` +
        `workspace ${gb(edge.workspaceBytes)}), the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}`,
      excess: excessOver(edgeTotal, tables.serverMemoryBytes),
    });
  const cloudTotal = cloudLoad.weightBytes + cloudLoad.kvBytes + cloudLoad.workspaceBytes;
  if (!withinLimit(cloudTotal, cloud.memoryCapacityBytes))
    violations.push({
      constraint: 'cloud-memory',
      message:
        `the cloud needs ${gb(cloudTotal)} (weights ${gb(cloudLoad.weightBytes)}, KV ${gb(cloudLoad.kvBytes)}, ` +
        `workspace ${gb(cloudLoad.workspaceBytes)}), its capacity is ${gb(cloud.memoryCapacityBytes)}`,
      excess: excessOver(cloudTotal, cloud.memoryCapacityBytes),
    });
  const priceObjectiveSeconds = cloud.priceWeightSeconds * price;
  const breakdown: KvBreakdown = {
    objective: problem.objective,
    latencyObjectiveSeconds: latencyObjective,
    penaltySeconds: 0,
    servedUsers: U,
    unservedUsers: [],
    unservedPenaltySeconds: tables.unservedPenaltySeconds,
    serverStepSeconds: edge.stepSeconds,
    serverBatchUsers: edge.users,
    serverLayers: edge.layers,
    serverHead: edge.head,
    serverMemory: {
      weightBytes: edge.weightBytes,
      adapterBytes: 0,
      kvBytes: edge.kvBytes,
      workspaceBytes: edge.workspaceBytes,
      totalBytes: edgeTotal,
      capacityBytes: tables.serverMemoryBytes,
    },
    adapters: [],
    users,
    cell: null,
    threeTier: {
      cloudLayers: cloudLoad.layers,
      cloudHead: cloudLoad.head,
      cloudStepSeconds: cloudLoad.stepSeconds,
      cloudBatchUsers: cloudLoad.users,
      cloudMemory: {
        weightBytes: cloudLoad.weightBytes,
        kvBytes: cloudLoad.kvBytes,
        workspaceBytes: cloudLoad.workspaceBytes,
        totalBytes: cloudTotal,
        capacityBytes: cloud.memoryCapacityBytes,
      },
      backhaulSeconds,
      backhaulUpBytesPerStep: upBytes,
      backhaulDownBytesPerStep: downBytes,
      pricePerToken: price,
      priceObjectiveSeconds,
      users: tierUsers,
    },
  };
  return {
    feasible: violations.length === 0,
    objective: latencyObjective + priceObjectiveSeconds,
    violations,
    breakdown,
  };
}
