/**
 * Peer placements, re-implemented from their published descriptions and scored by our evaluate:
 * DeepSeek's EPLB (hierarchical and global policies), round-robin, and popularity-greedy into the
 * fastest server with room.
 */
import type { Baseline } from '../types.ts';
import { expertTokens, replicaCapacity } from './cost.ts';
import type { MoePlacementDecision, MoePlacementProblem, Replica } from './schema.ts';

// ---------------------------------------------------------------------------------------------
// EPLB (DeepSeek, github.com/deepseek-ai/EPLB). Loads are float32 in the reference (it calls
// weight.float()), so sums and divisions are rounded to float32 here too: ties then break the
// same way. Sorting is a stable descending sort; arg-min/arg-max take the first index.

const f32 = Math.fround;

/** Indices of `row` sorted by descending value, equal values in index order. */
function stableDescending(row: readonly number[]): number[] {
  return row.map((_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
}

/**
 * Packs each row's n items into `packs` packs of exactly n/packs items, heaviest item first into
 * the lightest pack that still has room. Returns each item's pack and its rank inside the pack.
 */
export function balancedPacking(weight: readonly (readonly number[])[], packs: number): { pack: number[][]; rank: number[][] } {
  const n = weight[0]?.length ?? 0;
  if (n % packs !== 0) throw new Error(`balancedPacking: ${n} items do not divide into ${packs} packs`);
  const perPack = n / packs;
  if (perPack === 1) return { pack: weight.map((row) => row.map((_, i) => i)), rank: weight.map((row) => row.map(() => 0)) };
  const pack: number[][] = [];
  const rank: number[][] = [];
  for (const row of weight) {
    const loads = new Array<number>(packs).fill(0);
    const counts = new Array<number>(packs).fill(0);
    const p = new Array<number>(n).fill(-1);
    const r = new Array<number>(n).fill(-1);
    for (const item of stableDescending(row)) {
      let best = -1;
      for (let k = 0; k < packs; k++) if (counts[k] < perPack && (best < 0 || loads[k] < loads[best])) best = k;
      p[item] = best;
      r[item] = counts[best];
      loads[best] = f32(loads[best] + row[item]);
      counts[best] += 1;
    }
    pack.push(p);
    rank.push(r);
  }
  return { pack, rank };
}

/**
 * Adds replicas one at a time to the expert with the highest load per replica until each row has
 * `physical` replicas. Returns physical → logical, each physical's replica rank, replica counts.
 */
export function replicateExperts(weight: readonly (readonly number[])[], physical: number): { phy2log: number[][]; rank: number[][]; count: number[][] } {
  const phy2log: number[][] = [];
  const rank: number[][] = [];
  const count: number[][] = [];
  for (const row of weight) {
    const logical = row.length;
    if (physical < logical) throw new Error('replicateExperts: fewer physical than logical experts');
    const map = row.map((_, i) => i);
    const rk = row.map(() => 0);
    const cnt = row.map(() => 1);
    for (let i = logical; i < physical; i++) {
      let best = 0;
      for (let e = 1; e < logical; e++) if (f32(row[e] / cnt[e]) > f32(row[best] / cnt[best])) best = e;
      map.push(best);
      rk.push(cnt[best]);
      cnt[best] += 1;
    }
    phy2log.push(map);
    rank.push(rk);
    count.push(cnt);
  }
  return { phy2log, rank, count };
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((v, i) => {
    inv[v] = i;
  });
  return inv;
}

/**
 * EPLB's hierarchical policy: pack expert groups to nodes (balanced), replicate within each node,
 * pack the node's physical experts to its GPUs (balanced). Returns, per layer, the logical expert
 * in each physical slot; GPU g owns slots g·(physical/gpus) … (g+1)·(physical/gpus) − 1.
 */
export function eplbHierarchical(weight: readonly (readonly number[])[], physical: number, groups: number, nodes: number, gpus: number): number[][] {
  const layers = weight.length;
  const logical = weight[0].length;
  if (logical % groups !== 0 || groups % nodes !== 0 || gpus % nodes !== 0 || physical % gpus !== 0)
    throw new Error('eplbHierarchical: experts, groups, nodes, GPUs and replicas do not divide evenly');
  const groupSize = logical / groups;
  const groupsPerNode = groups / nodes;
  const perGpu = physical / gpus;
  const perNodeLogical = logical / nodes;

  // Step 1: groups to nodes.
  const groupTokens = weight.map((row) => Array.from({ length: groups }, (_, g) => row.slice(g * groupSize, (g + 1) * groupSize).reduce((a, b) => f32(a + b), 0)));
  const groupPacking = balancedPacking(groupTokens, nodes);
  const log2mlog = weight.map((_, l) =>
    Array.from({ length: logical }, (_, j) => {
      const g = Math.floor(j / groupSize);
      return (groupPacking.pack[l][g] * groupsPerNode + groupPacking.rank[l][g]) * groupSize + (j % groupSize);
    }),
  );
  const mlog2log = log2mlog.map(inverse);

  // Step 2: replicate within each node (rows are (layer, node) pairs).
  const mlogTokens: number[][] = [];
  for (let l = 0; l < layers; l++)
    for (let n = 0; n < nodes; n++) mlogTokens.push(Array.from({ length: perNodeLogical }, (_, i) => weight[l][mlog2log[l][n * perNodeLogical + i]]));
  const rep = replicateExperts(mlogTokens, physical / nodes);

  // Step 3: physical experts to the node's GPUs.
  const phyTokens = rep.phy2log.map((row, r) => row.map((m) => f32(mlogTokens[r][m] / rep.count[r][m])));
  const gpuPacking = balancedPacking(phyTokens, gpus / nodes);
  const result: number[][] = [];
  for (let l = 0; l < layers; l++) {
    const out: number[] = [];
    for (let n = 0; n < nodes; n++) {
      const r = l * nodes + n;
      const phy2pphy = gpuPacking.pack[r].map((p, i) => p * perGpu + gpuPacking.rank[r][i]);
      const pphy2phy = inverse(phy2pphy);
      for (const phy of pphy2phy) out.push(mlog2log[l][rep.phy2log[r][phy] + n * perNodeLogical]);
    }
    result.push(out);
  }
  return result;
}

/** EPLB's entry point: hierarchical when nodes divide groups, otherwise the global policy. */
export function eplbRebalance(weight: readonly (readonly number[])[], physical: number, groups: number, nodes: number, gpus: number): number[][] {
  if (groups % nodes === 0) return eplbHierarchical(weight, physical, groups, nodes, gpus);
  return eplbHierarchical(weight, physical, 1, 1, gpus);
}

// ---------------------------------------------------------------------------------------------
// Adapting EPLB to the problem: GPUs are our servers (grouped by node label, nodes in order of
// first appearance), every server gets the same number of slots per layer (EPLB's assumption),
// as many as the replica budget and the smallest server's memory allow.

interface EplbSetup {
  readonly physical: number;
  readonly groups: number;
  readonly nodes: number;
  /** Our server behind EPLB's GPU index g. */
  readonly gpuToServer: readonly number[];
}

export function eplbSetup(problem: MoePlacementProblem): EplbSetup | string {
  const S = problem.servers.length;
  const E = problem.experts;
  const slotsByMemory = Math.min(...problem.servers.map((_, s) => Math.floor(replicaCapacity(problem, s) / problem.layers)));
  const slotsByBudget = problem.maxReplicasPerLayer === null ? Infinity : Math.floor(problem.maxReplicasPerLayer / S);
  const perServer = Math.min(slotsByMemory, slotsByBudget);
  if (perServer * S < E)
    return `EPLB gives every server the same number of slots per layer; ${perServer} slot(s) × ${S} servers cannot hold ${E} experts (limited by the ${slotsByMemory <= slotsByBudget ? 'smallest server’s memory' : 'replica budget'})`;
  const order: string[] = [];
  const byNode = new Map<string, number[]>();
  problem.servers.forEach((sv, s) => {
    if (!byNode.has(sv.node)) {
      byNode.set(sv.node, []);
      order.push(sv.node);
    }
    (byNode.get(sv.node) as number[]).push(s);
  });
  const sizes = new Set(order.map((n) => (byNode.get(n) as number[]).length));
  // Expert groups partition the routed experts; with shared experts appended (DeepSeek treats
  // each as a routed expert every token selects) the groups no longer divide the experts, and
  // EPLB's hierarchical policy cannot be expressed: it then runs its global policy — the one
  // DeepSeek uses for decoding anyway.
  const groups = problem.expertGroups !== null && E % problem.expertGroups === 0 ? problem.expertGroups : 1;
  // Unequal nodes cannot be expressed to EPLB; then it sees one node (its global policy).
  const nodes = sizes.size === 1 ? order.length : 1;
  const gpuToServer = nodes === 1 ? problem.servers.map((_, s) => s) : order.flatMap((n) => byNode.get(n) as number[]);
  return { physical: perServer * S, groups, nodes, gpuToServer };
}

/** Turns a physical-to-logical map into our decision: shares proportional to replicas held. */
export function slotsToDecision(problem: MoePlacementProblem, phy2log: readonly (readonly number[])[], gpuToServer: readonly number[]): MoePlacementDecision {
  const perGpu = phy2log[0].length / gpuToServer.length;
  const placement = phy2log.map((row) => {
    const counts = Array.from({ length: problem.experts }, () => new Map<number, number>());
    row.forEach((e, slot) => {
      const server = gpuToServer[Math.floor(slot / perGpu)];
      counts[e].set(server, (counts[e].get(server) ?? 0) + 1);
    });
    return counts.map((m) => {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([server, c]) => ({ server, share: c / total }));
    });
  });
  return { placement };
}

export function eplbPlacement(problem: MoePlacementProblem): MoePlacementDecision | null {
  const setup = eplbSetup(problem);
  if (typeof setup === 'string') return null;
  // Loads t_le (shared experts: every token), as EPLB's `weight`.
  const weight = Array.from({ length: problem.layers }, (_, l) => Array.from({ length: problem.experts }, (_, e) => expertTokens(problem, l, e)));
  const phy2log = eplbRebalance(weight, setup.physical, setup.groups, setup.nodes, setup.gpuToServer.length);
  return slotsToDecision(problem, phy2log, setup.gpuToServer);
}

// ---------------------------------------------------------------------------------------------

/** Places experts one at a time, in the given order, into the first server in `preference` with room. */
function placeInOrder(problem: MoePlacementProblem, order: readonly [number, number][], preference: (index: number) => readonly number[]): MoePlacementDecision | null {
  const free = problem.servers.map((_, s) => replicaCapacity(problem, s));
  const placement: Replica[][][] = Array.from({ length: problem.layers }, () => Array.from({ length: problem.experts }, () => []));
  for (const [i, [l, e]] of order.entries()) {
    const s = preference(i).find((c) => free[c] > 0);
    if (s === undefined) return null;
    free[s] -= 1;
    placement[l][e] = [{ server: s, share: 1 }];
  }
  return { placement };
}

export function roundRobinPlacement(problem: MoePlacementProblem): MoePlacementDecision | null {
  const S = problem.servers.length;
  const order: [number, number][] = [];
  for (let l = 0; l < problem.layers; l++) for (let e = 0; e < problem.experts; e++) order.push([l, e]);
  return placeInOrder(problem, order, (i) => Array.from({ length: S }, (_, k) => (i + k) % S));
}

export function popularityGreedyPlacement(problem: MoePlacementProblem): MoePlacementDecision | null {
  const order: [number, number][] = [];
  for (let l = 0; l < problem.layers; l++) for (let e = 0; e < problem.experts; e++) order.push([l, e]);
  order.sort((a, b) => expertTokens(problem, b[0], b[1]) - expertTokens(problem, a[0], a[1]) || a[0] - b[0] || a[1] - b[1]);
  const fastest = problem.servers.map((_, s) => s).sort((a, b) => problem.servers[b].flopsPerSecond - problem.servers[a].flopsPerSecond || a - b);
  return placeInOrder(problem, order, () => fastest);
}

export const baselines: readonly Baseline<MoePlacementProblem, MoePlacementDecision>[] = [
  {
    name: 'eplb',
    description:
      'DeepSeek EPLB: replicate the expert with the highest load per replica, pack replicas to servers balanced (hierarchical by node when nodes divide expert groups, else global); equal slots per server; routing uniform over replicas',
    run: eplbPlacement,
    whyNoDecision: (problem) => {
      const setup = eplbSetup(problem);
      return typeof setup === 'string' ? setup : 'EPLB placed every expert';
    },
  },
  {
    name: 'round-robin',
    description: 'expert i (counting across layers) on server i mod S, skipping full servers; no replication',
    run: roundRobinPlacement,
    whyNoDecision: () => 'the servers’ memory ran out before every expert had a server',
  },
  {
    name: 'popularity-greedy',
    description: 'experts by descending popularity, each into the fastest server with memory left; no replication',
    run: popularityGreedyPlacement,
    whyNoDecision: () => 'the servers’ memory ran out before every expert had a server',
  },
];
