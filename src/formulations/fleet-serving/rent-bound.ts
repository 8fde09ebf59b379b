/**
 * A lower bound on the rent of the minimum-cost variant: the layer-work inequality as a covering
 * knapsack over whole nodes. Fix the flow at the target F (a placement serving more also serves
 * exactly F). Each unit of flow crosses the L layers once, so Σ_i k_i·φ_i = L·F over the used
 * nodes, and a node passes φ_i ≤ min(T_i(k_i), F); hence the used nodes satisfy
 * Σ_used W_i ≥ L·F with W_i = max_k k·min(T_i(k), F), and the rent is at least
 *     min Σ c_i·y_i  subject to  Σ W_i·y_i ≥ L·F,  y_i ∈ {0, 1},
 * solved exactly here by branch and bound over node types (same W and price), pruned by the
 * fractional (greedy) bound. The LP relaxation of the MILP rents fractions of a node; this bound
 * does not, which is what closes the gap on Mélange-like mixes (docs). With a work budget the
 * search may stop early; it then returns its smallest open fractional bound, still valid.
 */
import { columnsOf } from './cost.ts';
import type { FleetProblem } from './schema.ts';

interface NodeType {
  readonly work: number;
  readonly cost: number;
  readonly members: number[];
}

/** The bound (Infinity: even the whole fleet cannot reach the target; 0 without a target). */
export function rentLowerBound(problem: FleetProblem, budget = 200_000): number {
  return rentKnapsack(problem, budget).bound;
}

/**
 * The bound and the cheapest set of nodes that passes the knapsack (null when the search stopped
 * early or there is none): a set worth placing first, since if it serves the target it is optimal.
 */
export function rentKnapsack(problem: FleetProblem, budget = 200_000): { bound: number; chosen: number[] | null } {
  // The variant's exact method and its MILP compile both ask for it: computed once per problem and budget.
  const cached = memo.get(problem)?.get(budget);
  if (cached !== undefined) return cached;
  const result = knapsack(problem, budget);
  const byBudget = memo.get(problem) ?? new Map<number, KnapsackResult>();
  byBudget.set(budget, result);
  memo.set(problem, byBudget);
  return result;
}

type KnapsackResult = { readonly bound: number; readonly chosen: number[] | null };
const memo = new WeakMap<FleetProblem, Map<number, KnapsackResult>>();

function knapsack(problem: FleetProblem, budget: number): KnapsackResult {
  const target = problem.targetTokensPerSecond;
  if (target === undefined) return { bound: 0, chosen: null };
  // Loosened by 1e-12 so that round-off can only lower the bound.
  const need = problem.layers * target * (1 - 1e-12);
  const byKey = new Map<string, { work: number; cost: number; members: number[] }>();
  problem.nodes.forEach((node, i) => {
    let work = 0;
    for (const col of columnsOf(problem, i)) work = Math.max(work, col.k * Math.min(col.tokensPerSecond, target));
    if (!(work > 0)) return;
    const cost = node.costPerHour ?? 0;
    const key = `${work}|${cost}`;
    const t = byKey.get(key) ?? { work, cost, members: [] };
    t.members.push(i);
    byKey.set(key, t);
  });
  const types: NodeType[] = [...byKey.values()].sort((a, b) => a.cost / a.work - b.cost / b.work);
  if (types.reduce((s, t) => s + t.work * t.members.length, 0) < need) return { bound: Infinity, chosen: null };
  /** Fractional bound: fill what is missing with types j.. in order of rent per work. */
  const fractional = (j: number, missing: number): number => {
    let cost = 0;
    for (let r = j; r < types.length && missing > 0; r++) {
      const take = Math.min(types[r].members.length, missing / types[r].work);
      cost += take * types[r].cost;
      missing -= take * types[r].work;
    }
    return missing > 1e-9 * need ? Infinity : cost;
  };
  let best = Infinity;
  let bestCounts: number[] = [];
  const counts: number[] = [];
  let work = 0;
  let exhausted = false;
  // Smallest fractional bound of the subtrees left unexplored when the budget runs out.
  let open = Infinity;
  const dfs = (j: number, done: number, cost: number): void => {
    if (done >= need) {
      if (cost < best) [best, bestCounts] = [cost, [...counts]];
      return;
    }
    if (j === types.length) return;
    const lb = cost + fractional(j, need - done);
    if (lb >= best) return;
    if (++work > budget) {
      exhausted = true;
      open = Math.min(open, lb);
      return;
    }
    const t = types[j];
    const most = Math.min(t.members.length, Math.ceil((need - done) / t.work));
    for (let x = most; x >= 0; x--) {
      counts[j] = x;
      dfs(j + 1, done + x * t.work, cost + x * t.cost);
    }
    counts[j] = 0;
  };
  dfs(0, 0, 0);
  if (exhausted) return { bound: Math.min(best, open), chosen: null };
  const chosen = types.flatMap((t, j) => t.members.slice(0, bestCounts[j] ?? 0));
  return { bound: best, chosen: Number.isFinite(best) ? chosen : null };
}
