/**
 * Independent re-check of a kv-split-inference decision: every cut's range, device memory, TTFT,
 * server memory (shared weights once, adapters per variant, every user's server-side KV, the
 * workspace), latency SLOs, and the objective with a per-user breakdown — all from cost.ts and
 * the cuts alone.
 */
import type { Evaluation, Violation } from '../types.ts';
import { gb, kvTables, ms, objectiveOf, serverStateOf, userLatencySeconds, withinLimit } from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';

export interface KvUserBreakdown {
  readonly user: string;
  readonly cut: number | null;
  readonly deviceLayers: number;
  readonly served: boolean;
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
  readonly latencyObjectiveSeconds: number;
  readonly servedUsers: number;
  readonly unservedUsers: number;
  readonly unservedPenaltySeconds: number;
  readonly serverStepSeconds: number;
  readonly serverBatchUsers: number;
  /** Decoder layers the server keeps loaded (each once, whatever the number of users). */
  readonly serverLayers: readonly number[];
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

export function evaluateKv(problem: KvProblem, decision: KvDecision): Evaluation {
  const tables = kvTables(problem);
  const L = tables.layers;
  const violations: Violation[] = [];
  if (decision.cuts.length !== problem.users.length) {
    violations.push({ constraint: 'cuts', message: `the decision gives ${decision.cuts.length} cuts for ${problem.users.length} users` });
  }
  // Out-of-range cuts are reported and then treated as "not served" so the rest can be checked.
  const cuts = problem.users.map((user, u): number | null => {
    const c = decision.cuts[u];
    if (c === undefined) return null;
    if (c === null) {
      if (!problem.admission) violations.push({ constraint: `users[${u}].served`, message: `${user.name} is not served, but admission is off (every user must be served)` });
      return null;
    }
    if (!Number.isInteger(c) || c < 0 || c > L) {
      violations.push({ constraint: `users[${u}].cut`, message: `${user.name}'s cut ${c} is outside 0..${L}` });
      return null;
    }
    return c;
  });
  const state = serverStateOf(problem, tables, cuts);
  const latencies: (number | null)[] = [];
  const users: KvUserBreakdown[] = [];
  problem.users.forEach((user, u) => {
    const c = cuts[u];
    if (c === null) {
      latencies.push(null);
      users.push({
        user: user.name, cut: null, deviceLayers: 0, served: false, deviceSeconds: 0, uplinkSeconds: 0, serverStepSeconds: 0, downlinkSeconds: 0,
        latencySeconds: null, ttftSeconds: null, deviceMemoryBytes: 0, deviceStreamsWeights: false, serverKvBytes: 0,
      });
      return;
    }
    const k = tables.users[u][c];
    const latency = userLatencySeconds(tables, u, c, state.stepSeconds);
    latencies.push(latency);
    if (k.deviceStreams && !problem.deviceWeightStreaming) {
      violations.push({ constraint: `users[${u}].device-memory`, message: `${user.name} needs ${gb(k.deviceResidentBytes)} on its device for ${c} layers, the ${user.device.name} has ${gb(user.device.memoryBytes)} and streaming is off`, excess: k.deviceResidentBytes - user.device.memoryBytes });
    } else if (!withinLimit(k.deviceNeedBytes, user.device.memoryBytes)) {
      violations.push({ constraint: `users[${u}].device-memory`, message: `${user.name} needs ${gb(k.deviceNeedBytes)} on its device for ${c} layers (KV cache plus one streamed layer), the ${user.device.name} has ${gb(user.device.memoryBytes)}`, excess: k.deviceNeedBytes - user.device.memoryBytes });
    }
    if (user.ttftSloSeconds !== null && !withinLimit(k.ttftSeconds, user.ttftSloSeconds)) {
      violations.push({ constraint: `users[${u}].ttft-slo`, message: `${user.name}'s time to first token is ${ms(k.ttftSeconds)}, its SLO is ${ms(user.ttftSloSeconds)}`, excess: k.ttftSeconds - user.ttftSloSeconds });
    }
    if (user.latencySloSeconds !== null && !withinLimit(latency, user.latencySloSeconds)) {
      violations.push({ constraint: `users[${u}].latency-slo`, message: `${user.name}'s per-token latency is ${ms(latency)}, its SLO is ${ms(user.latencySloSeconds)}`, excess: latency - user.latencySloSeconds });
    }
    users.push({
      user: user.name,
      cut: c,
      deviceLayers: c,
      served: true,
      deviceSeconds: k.deviceSeconds,
      uplinkSeconds: k.uplinkSeconds,
      serverStepSeconds: c < L ? state.stepSeconds : 0,
      downlinkSeconds: k.downlinkSeconds,
      latencySeconds: latency,
      ttftSeconds: k.ttftSeconds,
      deviceMemoryBytes: k.deviceStreams ? k.deviceNeedBytes : k.deviceResidentBytes,
      deviceStreamsWeights: k.deviceStreams,
      serverKvBytes: c < L ? k.serverKvBytes : 0,
    });
  });
  if (!withinLimit(state.memoryBytes, tables.serverMemoryBytes)) {
    violations.push({
      constraint: 'server-memory',
      message: `the server needs ${gb(state.memoryBytes)} (weights ${gb(state.weightBytes)}, adapters ${gb(state.adapterBytes)}, KV ${gb(state.kvBytes)}, workspace ${gb(state.workspaceBytes)}), the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}`,
      excess: state.memoryBytes - tables.serverMemoryBytes,
    });
  }
  const obj = objectiveOf(problem, tables, latencies);
  const breakdown: KvBreakdown = {
    objective: problem.objective,
    latencyObjectiveSeconds: obj.latencyObjective,
    servedUsers: problem.users.length - obj.unserved,
    unservedUsers: obj.unserved,
    unservedPenaltySeconds: tables.unservedPenaltySeconds,
    serverStepSeconds: state.stepSeconds,
    serverBatchUsers: state.batchUsers,
    serverLayers: tables.rows.filter((r, i) => r.kind === 'decoder' && state.rowLoaded[i]).map((r) => r.index),
    serverMemory: {
      weightBytes: state.weightBytes,
      adapterBytes: state.adapterBytes,
      kvBytes: state.kvBytes,
      workspaceBytes: state.workspaceBytes,
      totalBytes: state.memoryBytes,
      capacityBytes: tables.serverMemoryBytes,
    },
    adapters: problem.variants.map((v, i) => ({ variant: v.name, layers: state.adapterLoaded[i].filter(Boolean).length })),
    users,
  };
  return { feasible: violations.length === 0, objective: obj.objective, violations, breakdown };
}

export function describeKv(problem: KvProblem, decision: KvDecision, evaluation: Evaluation): string {
  const b = evaluation.breakdown as KvBreakdown;
  const L = problem.model.layers;
  const counts = new Map<string, number>();
  for (const cut of decision.cuts) {
    const key = cut === null ? 'not served' : cut === 0 ? 'all on server' : cut === L ? 'all on device' : `${cut} layers on device`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const split = [...counts.entries()].map(([k, n]) => `${n} × ${k}`).join(', ');
  const served = b.users.filter((u) => u.latencySeconds !== null);
  const slowest = served.reduce<KvUserBreakdown | null>((a, u) => (a === null || (u.latencySeconds ?? 0) > (a.latencySeconds ?? 0) ? u : a), null);
  const m = b.serverMemory;
  const layers = b.serverLayers.length > 0 ? `layers ${b.serverLayers[0]}–${b.serverLayers[b.serverLayers.length - 1]} loaded once` : 'no layers loaded';
  const lines = [
    `${problem.model.name}, ${problem.users.length} users: ${split}`,
    `server (${problem.server.name}): ${layers}, batch of ${b.serverBatchUsers}, step ${ms(b.serverStepSeconds)}; memory ${gb(m.totalBytes)} of ${gb(m.capacityBytes)} (weights ${gb(m.weightBytes)}, adapters ${gb(m.adapterBytes)}, KV ${gb(m.kvBytes)}, workspace ${gb(m.workspaceBytes)})`,
    `${problem.objective === 'max' ? 'slowest' : 'total'} per-token latency ${ms(b.latencyObjectiveSeconds)}${slowest ? `; slowest: ${slowest.user} at ${ms(slowest.latencySeconds ?? 0)} (device ${ms(slowest.deviceSeconds)}, uplink ${ms(slowest.uplinkSeconds)}, server ${ms(slowest.serverStepSeconds)}, downlink ${ms(slowest.downlinkSeconds)})` : ''}`,
  ];
  if (b.unservedUsers > 0) lines.push(`${b.unservedUsers} user(s) not served (admission)`);
  if (!evaluation.feasible) lines.push(`infeasible: ${evaluation.violations.map((v) => v.message).join('; ')}`);
  return lines.join('\n');
}
