/**
 * The configuration bound of fleet-serving: what covers each layer, one layer at a time.
 *
 * In any placement carrying F tokens/s, every layer ℓ is held by a set of nodes whose tokens/s at
 * their own k sum to at least F (the flow through ℓ passes through them, each at most T_i(k_i)).
 * Call the multiset of (class, k) of those nodes the layer's configuration C(ℓ) — classes being
 * nodes with the same throughput table. A node of class q holding k layers appears in exactly k
 * configurations, so Σ_ℓ Σ_{(q,k)∈C(ℓ)} 1/k = (nodes of q in use) ≤ N_q. For prices π ≥ 0 on the
 * classes let m(π) be the cheapest cover of one layer, min over multisets with Σ T ≥ F of Σ π_q/k.
 * Then L·m(π) ≤ Σ_ℓ cost(C(ℓ)) = Σ_q π_q·(nodes of q in use) ≤ Σ_q π_q N_q, so prices with
 * Σ_q π_q N_q < L·m(π) prove that no placement carries F — nor more (scale its flow down).
 *
 * This is the LP dual of "cover L layers with configurations within the class sizes" (a
 * Gilmore–Gomory configuration LP); its prices come from the restricted master LP on the chain's
 * backend (configurations generated so far), and every certificate is re-checked by our own
 * pricing DP, so an inexact LP can only fail to prove, never give a wrong bound. The DP is over
 * throughput in units u: an item's tokens/s rounded up, F rounded down, so every real cover is a
 * cover of the DP (the DP's minimum is ≤ the real one: the check stays valid). Links, topology and
 * the one-range shape are ignored (it is a relaxation); what it sees that the cover bound does not
 * is that each layer is covered by whole nodes: a T4 at 928 tokens/s helps a layer that needs 6 000
 * only together with others, not as 15% of an A100 elsewhere (helix-42: 6 216 → 6 054).
 */
import { ModelBuilder, term } from '../../milp/model.ts';
import type { SolveMilp } from '../types.ts';
import { heldOptions, sameTableGroups } from './cost.ts';
import type { FleetProblem } from './schema.ts';

/** Throughput units of the pricing DP per target: finer is tighter, coarser is faster. */
const DP_UNITS = 10_000;
/** Column-generation rounds per target before it counts as undecided. */
const MAX_ROUNDS = 400;

interface Item {
  readonly q: number;
  readonly k: number;
  readonly tokensPerSecond: number;
}

/** A configuration's use of each class: Σ 1/k over its items of that class. */
type Usage = readonly number[];

export interface ConfigBoundResult {
  /** A valid upper bound on every placement's flow (`upper` when nothing below it was proven). */
  readonly bound: number;
  readonly targetsTried: number;
  readonly masterSolves: number;
}

function classesOf(problem: FleetProblem): { sizes: number[]; items: Item[] } {
  const groups = sameTableGroups(problem);
  const items = groups.flatMap((members, q) => heldOptions(problem, members[0]).map((option) => ({ q, ...option })));
  return { sizes: groups.map((members) => members.length), items };
}

/**
 * The cheapest cover of one layer at F under prices π (over the DP's relaxed set), with its usage.
 * A layer is held by distinct nodes, so a cover takes at most N_q items of class q (any mix of k):
 * the DP runs class by class, in N_q layers of one more item each.
 */
function cheapestCover(
  items: readonly Item[],
  sizes: readonly number[],
  prices: readonly number[],
  F: number,
): { cost: number; usage: Usage } | null {
  const unit = F / DP_UNITS;
  const cap = Math.floor(F / unit);
  const width = items.map((it) => Math.ceil(it.tokensPerSecond / unit));
  const cost = items.map((it) => prices[it.q] / it.k);
  const byClass = sizes.map((_, q) => items.flatMap((it, j) => (it.q === q ? [j] : [])));
  let dp = new Float64Array(cap + 1).fill(Infinity);
  dp[0] = 0;
  // Per class: for each capacity, how many of its items the best cover takes (0: none), and per
  // added item the item chosen at each capacity (to walk the cover back).
  const taken: Int32Array[] = [];
  const chosen: Int32Array[][] = [];
  for (let q = 0; q < sizes.length; q++) {
    const acc = Float64Array.from(dp);
    const count = new Int32Array(cap + 1);
    const steps: Int32Array[] = [];
    let cur = dp;
    for (let j = 1; j <= sizes[q] && byClass[q].length > 0; j++) {
      const next = new Float64Array(cap + 1).fill(Infinity);
      const from = new Int32Array(cap + 1).fill(-1);
      for (let c = 0; c <= cap; c++) {
        let best = Infinity;
        let arg = -1;
        for (const it of byClass[q]) {
          const v = cur[Math.max(0, c - width[it])] + cost[it];
          if (v < best) {
            best = v;
            arg = it;
          }
        }
        next[c] = best;
        from[c] = arg;
        if (best < acc[c]) {
          acc[c] = best;
          count[c] = j;
        }
      }
      steps.push(from);
      cur = next;
    }
    taken.push(count);
    chosen.push(steps);
    dp = acc;
  }
  if (!Number.isFinite(dp[cap])) return null;
  const usage = new Array<number>(sizes.length).fill(0);
  let c = cap;
  for (let q = sizes.length - 1; q >= 0; q--) {
    for (let j = taken[q][c]; j >= 1; j--) {
      const it = chosen[q][j - 1][c];
      usage[q] += 1 / items[it].k;
      c = Math.max(0, c - width[it]);
    }
  }
  return { cost: dp[cap], usage };
}

type Verdict = 'proven' | 'open';

/**
 * Whether prices proving "no placement carries F" were found: column generation on the restricted
 * dual min Σ N_q π_q s.t. usage_C·π ≥ 1 (C in the pool), π ≥ 0; each round's prices are priced by
 * the DP, which either certifies them or adds the cheapest configuration.
 */
async function decide(
  items: readonly Item[],
  sizes: readonly number[],
  L: number,
  F: number,
  solveMilp: SolveMilp,
  deadlineMs: number,
  counter: { masters: number },
): Promise<Verdict> {
  const pool: Usage[] = [];
  let prices = sizes.map(() => 1);
  for (let round = 0; round < MAX_ROUNDS && performance.now() < deadlineMs; round++) {
    const cover = cheapestCover(items, sizes, prices, F);
    if (cover === null) return 'proven'; // no multiset of nodes reaches F on one layer
    const budget = prices.reduce((s, p, q) => s + p * sizes[q], 0);
    // The certificate, with a margin so that round-off in the DP cannot fake one.
    if (cover.cost > 0 && budget < L * cover.cost * (1 - 1e-9)) return 'proven';
    if (pool.length > 0 && cover.cost >= 1 - 1e-9) return 'open'; // the restricted LP is the full LP
    pool.push(cover.usage);
    const b = new ModelBuilder('fleet-config-bound-dual', 'min');
    const pi = sizes.map((_, q) => b.addVariable(`pi_${q}`, { lower: 0 }));
    pi.forEach((v, q) => b.addObjective(v, sizes[q]));
    pool.forEach((usage, r) =>
      b.greaterEqual(
        `config_${r}`,
        usage.flatMap((u, q) => (u > 0 ? [term(pi[q], u)] : [])),
        1,
      ),
    );
    const left = (deadlineMs - performance.now()) / 1000;
    const r = await solveMilp(b.build(), Number.isFinite(left) ? { timeLimitSeconds: Math.max(0.05, left) } : {});
    counter.masters++;
    if (r.solution === null) return 'open';
    const values = r.solution.values;
    // The next round prices these: a certificate, or no cheaper cover (the LP is solved: open), or a new column.
    prices = pi.map((v) => Math.max(0, values[v] ?? 0));
  }
  return 'open';
}

/**
 * The smallest target in (lower, upper] proven out of reach, by bisection (proven targets form an
 * upper interval); `upper` must itself be a valid bound, `lower` a flow known to be feasible (or 0).
 */
export async function configurationBound(
  problem: FleetProblem,
  lower: number,
  upper: number,
  solveMilp: SolveMilp,
  options: { readonly deadlineMs?: number; readonly tolerance?: number } = {},
): Promise<ConfigBoundResult> {
  const { sizes, items } = classesOf(problem);
  const deadlineMs = options.deadlineMs ?? Infinity;
  const tol = options.tolerance ?? 1e-4;
  const counter = { masters: 0 };
  let lo = Math.max(0, Math.min(lower, upper));
  let hi = upper;
  let tried = 0;
  while (hi - lo > tol * Math.max(hi, 1e-9) && performance.now() < deadlineMs) {
    const F = (lo + hi) / 2;
    if (!(F > 0)) break;
    tried++;
    if ((await decide(items, sizes, problem.layers, F, solveMilp, deadlineMs, counter)) === 'proven') hi = F;
    else lo = F;
  }
  return { bound: hi, targetsTried: tried, masterSolves: counter.masters };
}
