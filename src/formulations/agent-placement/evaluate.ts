/**
 * Independent re-check of an agent placement: its own topological pass (Kahn's algorithm) for each
 * user's critical path, its own sums of memory (blocks once per location, KV per placed module),
 * server load and SLOs. It shares only the problem's numbers (compute seconds, link rates) and the
 * one tolerance policy with the methods, never their code paths.
 */
import { transferSeconds } from '../../cost/link.ts';
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import { readDecision } from './decision.ts';
import type { Decision, Problem } from './schema.ts';

export interface AgentUserBreakdown {
  readonly user: string;
  readonly latencySeconds: number;
  readonly networkBytes: number;
  readonly modules: readonly { module: string; at: string; startSeconds: number; finishSeconds: number }[];
}

export interface AgentLocationBreakdown {
  readonly location: string;
  readonly memoryBytes: number;
  readonly capacityBytes: number;
  /** Busy share over all users (servers only). */
  readonly utilisation?: number;
}

export interface AgentBreakdown {
  readonly objective: Problem['objective'];
  readonly worstLatencySeconds: number;
  readonly meanLatencySeconds: number;
  readonly networkBitsPerSecond: number;
  readonly users: readonly AgentUserBreakdown[];
  readonly servers: readonly AgentLocationBreakdown[];
  readonly devices: readonly AgentLocationBreakdown[];
}

export type AgentEvaluation = Evaluation<AgentBreakdown>;

function label(problem: Problem, loc: number): string {
  return loc === 0 ? 'device' : loc > 0 ? problem.servers[loc - 1].id : '(nowhere)';
}

export function evaluate(problem: Problem, decision: Decision): AgentEvaluation {
  const { locs, violations } = readDecision(problem, decision);
  const broken: Violation[] = [...violations];
  const serverBlocks = problem.servers.map(() => new Set<number>());
  const serverKv = problem.servers.map(() => 0);
  const serverBusy = problem.servers.map(() => 0);
  const devices: AgentLocationBreakdown[] = [];
  const users: AgentUserBreakdown[] = [];
  let networkBits = 0;

  problem.users.forEach((u, i) => {
    const modules = problem.tasks[u.task].modules;
    const at = locs[i];
    const linkTime = (from: number, to: number, bytes: number): number => {
      if (from === to || bytes <= 0) return 0;
      if (from === 0 || to === 0) {
        const link = u.links[(from === 0 ? to : from) - 1];
        if (!link) return Infinity;
        const rate = from === 0 ? link.uplinkBitsPerSecond : link.downlinkBitsPerSecond;
        return transferSeconds(bytes, rate, link.latencySeconds);
      }
      const e = problem.edge[from - 1][to - 1];
      return e ? transferSeconds(bytes, e.bitsPerSecond, e.latencySeconds) : Infinity;
    };
    // Kahn's algorithm: a module is scheduled once all its inputs are.
    const successors = modules.map(() => [] as number[]);
    const waiting = modules.map((m) => m.inputs.length);
    modules.forEach((m, k) => m.inputs.forEach((p) => successors[p].push(k)));
    const queue = modules.map((_, k) => k).filter((k) => waiting[k] === 0);
    const start = modules.map(() => 0);
    const finish = modules.map(() => 0);
    let bytes = 0;
    let latency = 0;
    for (let head = 0; head < queue.length; head++) {
      const k = queue[head];
      const m = modules[k];
      const loc = at[k];
      let ready = 0;
      if (loc !== 0 && m.sourceBytes > 0) {
        ready = linkTime(0, loc, m.sourceBytes);
        bytes += m.sourceBytes;
      }
      for (const p of m.inputs) {
        ready = Math.max(ready, finish[p] + linkTime(at[p], loc, modules[p].outputBytes));
        if (at[p] !== loc) bytes += modules[p].outputBytes;
      }
      const seconds = loc < 0 ? null : u.computeSeconds[k][loc];
      if (loc >= 0 && seconds === null)
        broken.push({
          constraint: `user[${u.id}].module[${m.id}].location`,
          message:
            `user ${u.id}: module ${m.id} cannot run on ${label(problem, loc)} ` +
            '(pinned elsewhere, not reached, or its model alone exceeds the memory)',
        });
      start[k] = ready;
      finish[k] = ready + (seconds ?? 0);
      if (m.final) {
        latency = Math.max(latency, finish[k] + linkTime(loc, 0, m.outputBytes));
        if (loc !== 0) bytes += m.outputBytes;
      }
      for (const s of successors[k]) if (--waiting[s] === 0) queue.push(s);
    }
    if (!Number.isFinite(latency))
      broken.push({
        constraint: `user[${u.id}].links`,
        message:
          `user ${u.id}: a transfer has no link ` +
          '(device ↔ an unreached server, or two servers without an edge link)',
      });
    if (u.sloSeconds !== null && !withinLimit(latency, u.sloSeconds))
      broken.push({
        constraint: `user[${u.id}].slo`,
        message: `user ${u.id}: interaction takes ${latency.toFixed(3)} s, the SLO is ${u.sloSeconds} s`,
        excess: excessOver(latency, u.sloSeconds),
      });
    networkBits += u.rate * bytes * 8;

    const deviceBlocks = new Set<number>();
    let deviceKv = 0;
    modules.forEach((m, k) => {
      const loc = at[k];
      if (loc === 0) {
        m.blocks.forEach((b) => deviceBlocks.add(b));
        deviceKv += m.kvBytes;
      } else if (loc > 0) {
        m.blocks.forEach((b) => serverBlocks[loc - 1].add(b));
        serverKv[loc - 1] += m.kvBytes;
        serverBusy[loc - 1] += u.rate * u.loadSeconds[k][loc];
      }
    });
    let deviceBytes = deviceKv;
    for (const b of deviceBlocks) deviceBytes += problem.blocks[b].bytes;
    if (!withinLimit(deviceBytes, u.memoryBytes))
      broken.push({
        constraint: `user[${u.id}].memory`,
        message:
          `user ${u.id}: the modules on the device need ${(deviceBytes / 1e9).toFixed(3)} GB, ` +
          `it gives ${(u.memoryBytes / 1e9).toFixed(3)} GB`,
        excess: excessOver(deviceBytes, u.memoryBytes),
      });
    devices.push({ location: `${u.id}/device`, memoryBytes: deviceBytes, capacityBytes: u.memoryBytes });
    users.push({
      user: u.id,
      latencySeconds: latency,
      networkBytes: bytes,
      modules: modules.map((m, k) => ({
        module: m.id,
        at: label(problem, at[k]),
        startSeconds: start[k],
        finishSeconds: finish[k],
      })),
    });
  });

  const servers = problem.servers.map((s, n): AgentLocationBreakdown => {
    let used = serverKv[n];
    for (const b of serverBlocks[n]) used += problem.blocks[b].bytes;
    if (!withinLimit(used, s.memoryBytes))
      broken.push({
        constraint: `server[${s.id}].memory`,
        message:
          `server ${s.id} needs ${(used / 1e9).toFixed(3)} GB for weights and KV, ` +
          `it has ${(s.memoryBytes / 1e9).toFixed(3)} GB`,
        excess: excessOver(used, s.memoryBytes),
      });
    if (!withinLimit(serverBusy[n], s.maxUtilisation))
      broken.push({
        constraint: `server[${s.id}].utilisation`,
        message:
          `server ${s.id} would be busy ${(100 * serverBusy[n]).toFixed(1)}% of the time, ` +
          `the cap is ${(100 * s.maxUtilisation).toFixed(1)}%`,
        excess: excessOver(serverBusy[n], s.maxUtilisation),
      });
    return { location: s.id, memoryBytes: used, capacityBytes: s.memoryBytes, utilisation: serverBusy[n] };
  });

  const worst = users.reduce((a, u) => Math.max(a, u.latencySeconds), 0);
  const totalRate = problem.users.reduce((s, u) => s + u.rate, 0);
  const mean = users.reduce((s, u, i) => s + (problem.users[i].rate * u.latencySeconds) / totalRate, 0);
  const objective =
    problem.objective === 'worst-latency' ? worst : problem.objective === 'mean-latency' ? mean : networkBits;
  return {
    feasible: broken.length === 0,
    objective,
    violations: broken,
    breakdown: {
      objective: problem.objective,
      worstLatencySeconds: worst,
      meanLatencySeconds: mean,
      networkBitsPerSecond: networkBits,
      users,
      servers,
      devices,
    },
  };
}
