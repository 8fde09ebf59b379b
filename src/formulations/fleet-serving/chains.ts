/**
 * Chains: pipelines in which every node passes the whole flow of the chain. A chain at threshold F
 * is a sequence of distinct nodes, linked one to the next by links of capacity ≥ F (the first fed
 * by the source, the last feeding the sink), whose ranges tile layers 1..L and whose tokens/s at
 * their k is ≥ F; it carries F. Used by the single-pipeline peer (one chain, the best F) and by the
 * exact method's incumbent (many disjoint chains). Search is a depth-first search over the link
 * graph with a work budget: exact on small fleets, a heuristic on large ones (never a bound).
 */
import { maxFlowOfPlacement, type Placement } from './cost.ts';
import type { FleetProblem } from './schema.ts';

export interface Chain {
  readonly nodes: readonly number[];
  readonly ks: readonly number[];
  readonly tokensPerSecond: number;
}

interface Graph {
  readonly out: readonly (readonly { to: number; capacity: number }[])[];
}

function graphOf(problem: FleetProblem): Graph {
  const out: { to: number; capacity: number }[][] = problem.nodes.map(() => []);
  for (const l of problem.links) out[l.from].push({ to: l.to, capacity: l.capacity });
  return { out };
}

/** The k a node may take at threshold F, largest first. */
function ksAt(problem: FleetProblem, i: number, F: number): number[] {
  const node = problem.nodes[i];
  const out: number[] = [];
  for (let k = node.maxLayers; k >= 1; k--) {
    if ((node.throughput[k] ?? 0) >= F && (!problem.wholeModel || k === problem.layers)) out.push(k);
  }
  return out;
}

/**
 * One chain at threshold F over the nodes marked available, or null. Prefers nodes that cover many
 * layers (fewer nodes used), and among equals those with the smallest surplus T(k) − F, so that
 * strong nodes stay free for the next chain.
 */
export function chainAt(
  problem: FleetProblem,
  F: number,
  available: readonly boolean[],
  budget = 20_000,
): Chain | null {
  const L = problem.layers;
  const g = graphOf(problem);
  const n = problem.nodes.length;
  const options = Array.from({ length: n }, (_, i) => (available[i] ? ksAt(problem, i, F) : []));
  const reach = options.map((ks) => ks[0] ?? 0);
  let work = 0;
  const path: number[] = [];
  const ks: number[] = [];
  const inPath = new Array<boolean>(n).fill(false);
  // Layers the unused available nodes could still add (a quick cut-off).
  let spare = reach.reduce((s, r) => s + r, 0);
  const rank = (i: number, k: number): number =>
    k * 1e6 - ((problem.nodes[i].throughput[k] ?? 0) - F) / Math.max(F, 1e-9);
  const dfs = (covered: number): boolean => {
    if (++work > budget) return false;
    if (covered === L) return problem.sinkCapacity[path[path.length - 1]] >= F;
    if (covered + spare < L) return false;
    const last = path.length > 0 ? path[path.length - 1] : -1;
    const next: { i: number; k: number }[] = [];
    const consider = (i: number, capacity: number): void => {
      if (inPath[i] || capacity < F) return;
      for (const k of options[i]) if (covered + k <= L) next.push({ i, k });
    };
    if (last < 0) for (let i = 0; i < n; i++) consider(i, problem.sourceCapacity[i]);
    else for (const e of g.out[last]) consider(e.to, e.capacity);
    next.sort((a, b) => rank(b.i, b.k) - rank(a.i, a.k));
    for (const { i, k } of next) {
      path.push(i);
      ks.push(k);
      inPath[i] = true;
      spare -= reach[i];
      if (dfs(covered + k)) return true;
      spare += reach[i];
      inPath[i] = false;
      path.pop();
      ks.pop();
      if (work > budget) return false;
    }
    return false;
  };
  if (!dfs(0)) return null;
  return { nodes: [...path], ks: [...ks], tokensPerSecond: F };
}

/** Distinct positive table values of the fleet, highest first (the thresholds worth trying). */
export function thresholds(problem: FleetProblem, limit = 400): number[] {
  const set = new Set<number>();
  for (const node of problem.nodes)
    for (let k = 1; k <= node.maxLayers; k++) if ((node.throughput[k] ?? 0) > 0) set.add(node.throughput[k]);
  const all = [...set].sort((a, b) => b - a);
  if (all.length <= limit) return all;
  const step = all.length / limit;
  return Array.from({ length: limit }, (_, r) => all[Math.floor(r * step)]);
}

/** The single chain with the highest threshold (bisection over the thresholds would miss non-monotone cases). */
export function bestSingleChain(problem: FleetProblem, budget = 20_000): Chain | null {
  const all = new Array<boolean>(problem.nodes.length).fill(true);
  for (const F of thresholds(problem)) {
    const c = chainAt(problem, F, all, budget);
    if (c !== null) return c;
  }
  return null;
}

/**
 * Disjoint chains: for each threshold F, as many chains at F as the fleet yields, then chains at
 * lower thresholds from what is left (each the best left); the best total over the F tried.
 */
export function packChains(problem: FleetProblem, deadlineMs = Infinity, budget = 5_000): Chain[] {
  const n = problem.nodes.length;
  const levels = thresholds(problem, 120);
  let best: Chain[] = [];
  let bestValue = 0;
  for (const F of levels) {
    if (performance.now() > deadlineMs) break;
    const available = new Array<boolean>(n).fill(true);
    const chains: Chain[] = [];
    let total = 0;
    for (let c = chainAt(problem, F, available, budget); c !== null; c = chainAt(problem, F, available, budget)) {
      chains.push(c);
      total += F;
      for (const i of c.nodes) available[i] = false;
    }
    if (chains.length === 0) continue;
    // Leftover nodes: further chains at the best threshold each still allows.
    for (const G of levels) {
      if (G >= F || performance.now() > deadlineMs) continue;
      for (let c = chainAt(problem, G, available, budget); c !== null; c = chainAt(problem, G, available, budget)) {
        chains.push(c);
        total += G;
        for (const i of c.nodes) available[i] = false;
      }
    }
    if (total > bestValue) {
      bestValue = total;
      best = chains;
    }
  }
  return best;
}

export function placementOfChains(problem: FleetProblem, chains: readonly Chain[]): Placement {
  const start = new Array<number>(problem.nodes.length).fill(0);
  const k = new Array<number>(problem.nodes.length).fill(0);
  for (const c of chains) {
    let s = 0;
    c.nodes.forEach((i, r) => {
      start[i] = s;
      k[i] = c.ks[r];
      s += c.ks[r];
    });
  }
  return { start, k };
}

/**
 * Augmenting chains (Helix's shared stages, built greedily): with the placement's current max
 * flow, a new chain at threshold G may pass through already placed nodes that have G tokens/s to
 * spare (at their own ranges) and through idle nodes (at any k with T(k) ≥ G), along links with G
 * to spare. Each chain found is added (its idle nodes placed) and kept when the placement's max
 * flow grows; thresholds are tried from the largest spare capacity down. Never lowers the flow.
 */
export function augmentWithIdle(
  problem: FleetProblem,
  start: Placement,
  deadlineMs = Infinity,
  budget = 4_000,
): Placement {
  const L = problem.layers;
  const n = problem.nodes.length;
  let pl: Placement = { start: [...start.start], k: [...start.k] };
  let flow = maxFlowOfPlacement(problem, pl);
  const out: { to: number; link: number }[][] = problem.nodes.map(() => []);
  problem.links.forEach((l, e) => out[l.from].push({ to: l.to, link: e }));
  for (let round = 0; round < 4 * n && performance.now() < deadlineMs; round++) {
    const inflow = new Array<number>(n).fill(0);
    problem.links.forEach((l, e) => (inflow[l.to] += flow.linkFlow[e]));
    flow.sourceFlow.forEach((f, i) => (inflow[i] += f));
    const spare = problem.nodes.map((node, i) => (pl.k[i] > 0 ? (node.throughput[pl.k[i]] ?? 0) - inflow[i] : 0));
    const levels = thresholds(problem, 60).filter(
      (G) => G <= Math.max(...problem.nodes.map((nd) => Math.max(0, ...nd.throughput))),
    );
    let accepted = false;
    for (const G of levels) {
      if (performance.now() > deadlineMs) break;
      const chain = augmentingChain(problem, pl, flow, spare, out, G, budget);
      if (chain === null) continue;
      const s2 = [...pl.start];
      const k2 = [...pl.k];
      for (const [i, s, k] of chain) {
        s2[i] = s;
        k2[i] = k;
      }
      const next = { start: s2, k: k2 };
      const f2 = maxFlowOfPlacement(problem, next);
      if (f2.value > flow.value * (1 + 1e-9)) {
        pl = next;
        flow = f2;
        accepted = true;
        break;
      }
    }
    if (!accepted) break;
  }
  void L;
  return pl;
}

function augmentingChain(
  problem: FleetProblem,
  pl: Placement,
  flow: { linkFlow: readonly number[]; sourceFlow: readonly number[]; sinkFlow: readonly number[] },
  spare: readonly number[],
  out: readonly (readonly { to: number; link: number }[])[],
  G: number,
  budget: number,
): [number, number, number][] | null {
  const L = problem.layers;
  const n = problem.nodes.length;
  const path: [number, number, number][] = [];
  const inPath = new Array<boolean>(n).fill(false);
  let work = 0;
  let usesIdle = false;
  const options = (i: number, covered: number): number[] => {
    if (pl.k[i] > 0) return pl.start[i] === covered && spare[i] >= G ? [pl.k[i]] : [];
    return ksAt(problem, i, G).filter((k) => covered + k <= L);
  };
  const dfs = (covered: number): boolean => {
    if (++work > budget) return false;
    const last = path.length > 0 ? path[path.length - 1][0] : -1;
    if (covered === L) return usesIdle && problem.sinkCapacity[last] - flow.sinkFlow[last] >= G;
    const next: [number, number][] = [];
    if (last < 0) {
      for (let i = 0; i < n; i++)
        if (problem.sourceCapacity[i] - flow.sourceFlow[i] >= G) for (const k of options(i, 0)) next.push([i, k]);
    } else {
      for (const e of out[last]) {
        if (inPath[e.to] || problem.links[e.link].capacity - flow.linkFlow[e.link] < G) continue;
        for (const k of options(e.to, covered)) next.push([e.to, k]);
      }
    }
    // Long steps first; idle nodes before busy ones at equal length (they add capacity).
    next.sort((a, b) => b[1] - a[1] || (pl.k[a[0]] === 0 ? -1 : 1) - (pl.k[b[0]] === 0 ? -1 : 1));
    for (const [i, k] of next) {
      const idle = pl.k[i] === 0;
      path.push([i, covered, k]);
      inPath[i] = true;
      const before = usesIdle;
      usesIdle = usesIdle || idle;
      if (dfs(covered + k)) return true;
      usesIdle = before;
      inPath[i] = false;
      path.pop();
      if (work > budget) return false;
    }
    return false;
  };
  if (!dfs(0)) return null;
  return path.filter(([i]) => pl.k[i] === 0);
}
