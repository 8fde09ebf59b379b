/**
 * Peers named by issue 21, each a rule a deployment would use without an optimiser; they place
 * with the cost functions (memory, links) and never call the exact method or evaluate.
 * - `all-on-device`: every module on the user's own device (on-device agents; a module pinned to
 *   the edge goes to the nearest server); no decision when some user's device cannot hold them.
 * - `all-at-edge`: every module of a user on one server: the nearest (lowest link latency, then
 *   fastest uplink) that still has room for all of them; a module pinned to the device stays there.
 * - `greedy-by-size`: users in order; each user's modules pinned to the device first, then the
 *   smallest model first, go on the device while it has memory; the rest go to the nearest server
 *   that still has memory for them.
 */
import type { Baseline } from '../types.ts';
import { blockBytes, fits } from './cost.ts';
import { toDecision } from './decision.ts';
import type { Decision, Problem } from './schema.ts';

/** Servers this user reaches, nearest first (link latency, then uplink rate, then order). */
function nearest(problem: Problem, user: number): number[] {
  const links = problem.users[user].links;
  return problem.servers
    .map((_, n) => n)
    .filter((n) => links[n] !== null)
    .sort((a, b) => {
      const la = links[a] as NonNullable<(typeof links)[number]>;
      const lb = links[b] as NonNullable<(typeof links)[number]>;
      return la.latencySeconds - lb.latencySeconds || lb.uplinkBitsPerSecond - la.uplinkBitsPerSecond || a - b;
    });
}

/** Memory bookkeeping of servers as a peer fills them (blocks once, KV per module). */
class Fill {
  private readonly blocks: Set<number>[];
  private readonly kv: number[];
  constructor(private readonly problem: Problem) {
    this.blocks = problem.servers.map(() => new Set<number>());
    this.kv = problem.servers.map(() => 0);
  }
  fitsAt(n: number, blocks: readonly number[], kv: number): boolean {
    const all = new Set([...this.blocks[n], ...blocks]);
    return fits(blockBytes(this.problem, all) + this.kv[n] + kv, this.problem.servers[n].memoryBytes);
  }
  put(n: number, blocks: readonly number[], kv: number): void {
    blocks.forEach((b) => this.blocks[n].add(b));
    this.kv[n] += kv;
  }
}

function allOnDevice(problem: Problem): { decision: Decision | null; why: string } {
  const fill = new Fill(problem);
  const locs: number[][] = [];
  for (let u = 0; u < problem.users.length; u++) {
    const user = problem.users[u];
    const modules = problem.tasks[user.task].modules;
    const near = nearest(problem, u)[0];
    const at = modules.map((m) => (m.pin === 'edge' ? (near === undefined ? -1 : near + 1) : 0));
    const local = modules.filter((_, k) => at[k] === 0);
    if (modules.some((_, k) => at[k] < 0 || user.computeSeconds[k][at[k]] === null))
      return {
        decision: null,
        why: `user ${user.id}: a module cannot run on the device (or its edge pin has no server)`,
      };
    const used =
      blockBytes(problem, new Set(local.flatMap((m) => m.blocks))) + local.reduce((s, m) => s + m.kvBytes, 0);
    if (!fits(used, user.memoryBytes))
      return {
        decision: null,
        why:
          `user ${user.id}: its modules need ${(used / 1e9).toFixed(2)} GB, ` +
          `the device gives ${(user.memoryBytes / 1e9).toFixed(2)} GB`,
      };
    for (const [k, m] of modules.entries()) {
      if (at[k] === 0) continue;
      if (!fill.fitsAt(at[k] - 1, m.blocks, m.kvBytes))
        return { decision: null, why: `server ${problem.servers[at[k] - 1].id} runs out of memory at user ${user.id}` };
      fill.put(at[k] - 1, m.blocks, m.kvBytes);
    }
    locs.push(at);
  }
  return { decision: toDecision(problem, locs), why: '' };
}

function allAtEdge(problem: Problem): { decision: Decision | null; why: string } {
  const fill = new Fill(problem);
  const locs: number[][] = [];
  for (let u = 0; u < problem.users.length; u++) {
    const user = problem.users[u];
    const modules = problem.tasks[user.task].modules;
    const local = modules.filter((m) => m.pin === 'device');
    const onDevice =
      blockBytes(problem, new Set(local.flatMap((m) => m.blocks))) + local.reduce((s, m) => s + m.kvBytes, 0);
    if (!fits(onDevice, user.memoryBytes))
      return { decision: null, why: `user ${user.id}: the modules pinned to the device do not fit it` };
    const remote = modules.filter((m) => m.pin !== 'device');
    const blocks = remote.flatMap((m) => m.blocks);
    const kv = remote.reduce((s, m) => s + m.kvBytes, 0);
    // The nearest server that can run all of them and still has the memory.
    const n = nearest(problem, u).find(
      (s) =>
        modules.every((m, k) => m.pin === 'device' || user.computeSeconds[k][s + 1] !== null) &&
        fill.fitsAt(s, blocks, kv),
    );
    if (n === undefined)
      return { decision: null, why: `user ${user.id}: no reachable server has room for its modules` };
    fill.put(n, blocks, kv);
    locs.push(modules.map((m) => (m.pin === 'device' ? 0 : n + 1)));
  }
  return { decision: toDecision(problem, locs), why: '' };
}

function greedyBySize(problem: Problem): { decision: Decision | null; why: string } {
  const fill = new Fill(problem);
  const locs: number[][] = [];
  for (let u = 0; u < problem.users.length; u++) {
    const user = problem.users[u];
    const modules = problem.tasks[user.task].modules;
    const size = (k: number): number => blockBytes(problem, modules[k].blocks);
    const pinned = (k: number): number => (modules[k].pin === 'device' ? 0 : 1);
    const order = modules.map((_, k) => k).sort((a, b) => pinned(a) - pinned(b) || size(a) - size(b) || a - b);
    const at = modules.map(() => -1);
    const onDevice = new Set<number>();
    let deviceKv = 0;
    const servers = nearest(problem, u);
    for (const k of order) {
      const m = modules[k];
      const all = new Set([...onDevice, ...m.blocks]);
      if (
        user.computeSeconds[k][0] !== null &&
        fits(blockBytes(problem, all) + deviceKv + m.kvBytes, user.memoryBytes)
      ) {
        m.blocks.forEach((b) => onDevice.add(b));
        deviceKv += m.kvBytes;
        at[k] = 0;
        continue;
      }
      const n = servers.find((s) => user.computeSeconds[k][s + 1] !== null && fill.fitsAt(s, m.blocks, m.kvBytes));
      if (n === undefined)
        return { decision: null, why: `user ${user.id}: module ${m.id} fits neither the device nor a server` };
      fill.put(n, m.blocks, m.kvBytes);
      at[k] = n + 1;
    }
    locs.push(at);
  }
  return { decision: toDecision(problem, locs), why: '' };
}

function peer(
  name: string,
  description: string,
  rule: (p: Problem) => { decision: Decision | null; why: string },
): Baseline<Problem, Decision> {
  return { name, description, run: (p) => rule(p).decision, whyNoDecision: (p) => rule(p).why };
}

export const baselines: readonly Baseline<Problem, Decision>[] = [
  peer('all-on-device', "Every module on the user's own device (on-device agent)", allOnDevice),
  peer('all-at-edge', "Every module on the user's nearest edge server with room (lowest link latency)", allAtEdge),
  peer(
    'greedy-by-size',
    'Smallest models first onto the device while it has memory, the rest to the nearest server with room',
    greedyBySize,
  ),
];
