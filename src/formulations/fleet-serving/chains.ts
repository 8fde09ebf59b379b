/**
 * Chains: pipelines in which every node passes the whole flow of the chain. A chain at threshold F
 * is a sequence of distinct nodes, linked one to the next by links of capacity ≥ F (the first fed
 * by the source, the last feeding the sink), whose ranges tile layers 1..L and whose tokens/s at
 * their k is ≥ F; it carries F. Used by the single-pipeline peer (one chain, the best F) and by the
 * exact method's incumbent (many disjoint chains). Search is a depth-first search over the link
 * graph with a work budget: exact on small fleets, a heuristic on large ones (never a bound).
 */
import type { Placement } from './cost.ts';
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
export function chainAt(problem: FleetProblem, F: number, available: readonly boolean[], budget = 20_000): Chain | null {
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
  const rank = (i: number, k: number): number => k * 1e6 - ((problem.nodes[i].throughput[k] ?? 0) - F) / Math.max(F, 1e-9);
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
  for (const node of problem.nodes) for (let k = 1; k <= node.maxLayers; k++) if ((node.throughput[k] ?? 0) > 0) set.add(node.throughput[k]);
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
