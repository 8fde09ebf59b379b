/**
 * Exact method for the max objective (the slowest user's per-token latency): a strict descent on
 * the latency threshold W, each step a least-fixed-point iteration on the server step time τ.
 *
 * Monotonicity: raising any user's cut never increases any server quantity — the FLOPs and
 * traffic of every row, the set of loaded layers (layers min_u c_u + 1..L), the adapters of every
 * variant, the server-side KV, the workspace indicator — hence never increases the step time T
 * or the server memory. Per-user constraints (device memory, TTFT) do not depend on others.
 *
 * Feasibility of "max latency < W": for a step-time guess τ let choice_u(τ) be the largest cut
 * allowed for u on its own whose latency (fixed_u(c) + τ·[c < L]) is < W and ≤ its SLO. If some
 * decision x has max latency < W, then at τ* = T(x) every x_u is allowed, so choice(τ*) ≥ x
 * pointwise and g(τ*) := T(choice(τ*)) ≤ τ*. g is non-decreasing (a larger τ shrinks every
 * allowed set, lowers the choices, raises T). Iterating τ ← g(τ) from 0 therefore climbs
 * monotonically and stops at a fixed point τ̂ ≤ τ*, where choice(τ̂) ≥ choice(τ*) ≥ x, so its
 * memory is no larger than x's and its latencies are < W. Conversely anything it returns is a
 * decision with max latency < W. So the test is exact, and repeating it with W set to the last
 * decision's max latency strictly decreases the objective over a finite set until it fails:
 * the last decision is optimal. When nothing couples the users (server slack), the first
 * iteration is already each user's own best cut (per-user enumeration).
 */
import { withinLimit } from '../tolerance.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import {
  assess,
  cutAllowed,
  kvTables,
  NO_RELAXATION,
  serverStateOf,
  userLatencySeconds,
  type ConstraintGroup,
  type KvTables,
} from './cost.ts';
import { solveKvCellExact } from './exact-cell.ts';
import type { KvDecision, KvProblem } from './schema.ts';

interface Probe {
  readonly cuts: (number | null)[];
  readonly maxLatencySeconds: number;
  readonly rounds: number;
}

/** Cuts each user may use on its own (with the given constraint groups switched off), largest first. */
export function allowedDescending(tables: KvTables, relaxed: ReadonlySet<ConstraintGroup> = NO_RELAXATION): number[][] {
  return tables.users.map((costs) =>
    costs
      .filter((k) => cutAllowed(k, relaxed))
      .map((k) => k.cut)
      .reverse(),
  );
}

/**
 * The least-fixed-point assignment with every served user's latency below W (or ≤ W), or null.
 * `relaxed` switches constraint groups off (the latency SLOs, server memory), for explanations.
 */
function probe(
  problem: KvProblem,
  tables: KvTables,
  allowed: readonly number[][],
  active: readonly boolean[],
  bound: number,
  strict: boolean,
  relaxed: ReadonlySet<ConstraintGroup> = NO_RELAXATION,
): Probe | null {
  const L = tables.layers;
  let tau = 0;
  let rounds = 0;
  const limit = problem.users.length * (L + 2) + 2;
  for (;;) {
    rounds++;
    const cuts: (number | null)[] = [];
    for (let u = 0; u < problem.users.length; u++) {
      if (!active[u]) {
        cuts.push(null);
        continue;
      }
      const slo = relaxed.has('latency-slo') ? null : problem.users[u].latencySloSeconds;
      let pick: number | null = null;
      for (const c of allowed[u]) {
        const lat = userLatencySeconds(tables, u, c, tau);
        const underBound = strict ? lat < bound : lat <= bound;
        if (underBound && (slo === null || withinLimit(lat, slo))) {
          pick = c;
          break;
        }
      }
      if (pick === null) return null;
      cuts.push(pick);
    }
    const state = serverStateOf(problem, tables, cuts);
    if (state.stepSeconds <= tau || rounds > limit) {
      if (!relaxed.has('server-memory') && !withinLimit(state.memoryBytes, tables.serverMemoryBytes)) return null;
      const lat = cuts.map((c, u) => (c === null ? 0 : userLatencySeconds(tables, u, c, state.stepSeconds)));
      return { cuts, maxLatencySeconds: Math.max(0, ...lat), rounds };
    }
    tau = state.stepSeconds;
  }
}

/** Users served by the exact method: all, or under admission those that can be served at all. */
function activeUsers(
  problem: KvProblem,
  tables: KvTables,
  allowed: readonly number[][],
): { active: boolean[]; reason: string | null } {
  if (!problem.admission) return { active: problem.users.map(() => true), reason: null };
  const active = allowed.map((a) => a.length > 0);
  // Admission maximises the number served first. Users with no allowed cut can never be served;
  // if all the others fit together, that count is the maximum and only latency is left to optimise.
  const all = probe(problem, tables, allowed, active, Infinity, false);
  if (all === null)
    return {
      active,
      reason:
        'under admission the servable users do not all fit on the server together, so choosing whom to serve is a knapsack; the MILP solves it',
    };
  return { active, reason: null };
}

export function exactNotApplicable(problem: KvProblem): string | null {
  if (problem.cloud !== null)
    return (
      'with a cloud tier the edge load is not monotone in either cut (raising the cloud cut adds edge rows, ' +
      'raising the device cut removes them, and cloud and backhaul pull the other way), so the fixed-point ' +
      'descent is not exact; the MILP solves it with a certified gap'
    );
  if (problem.kvFormats)
    return (
      'with KV formats as a decision the total accuracy budget couples the users (a knapsack over formats), so ' +
      '"the largest allowed cut is best for everyone" no longer decides the formats and the fixed-point descent ' +
      'is not exact; the MILP solves it with a certified gap'
    );
  // With a cell the exact method is exact-cell.ts (exact MILP or outer approximation), whatever the objective.
  if (problem.cell !== null) return null;
  if (problem.objective === 'sum')
    return 'the sum objective couples every server user through (number of server users) × step time, a quadratic multiple-choice knapsack with no exact decomposition; the MILP solves it';
  const tables = kvTables(problem);
  return activeUsers(problem, tables, allowedDescending(tables)).reason;
}

/**
 * Whether every user can be served at once with the given constraint groups switched off (the
 * exact feasibility test with W = ∞), and the assignment found. Used by the explanations.
 */
export function feasibleWithout(problem: KvProblem, relaxed: ReadonlySet<ConstraintGroup>): (number | null)[] | null {
  const tables = kvTables(problem);
  const allowed = allowedDescending(tables, relaxed);
  return (
    probe(
      problem,
      tables,
      allowed,
      problem.users.map(() => true),
      Infinity,
      false,
      relaxed,
    )?.cuts ?? null
  );
}

export async function solveKvExact(
  problem: KvProblem,
  context: ExactContext<KvDecision>,
): Promise<ExactResult<KvDecision>> {
  const reason = exactNotApplicable(problem);
  if (reason !== null) return { termination: 'error', decision: null, message: reason };
  if (problem.cell !== null) return solveKvCellExact(problem, context);
  const started = performance.now();
  const tables = kvTables(problem);
  const allowed = allowedDescending(tables);
  const { active } = activeUsers(problem, tables, allowed);
  // Any feasible decision bounds the optimum; starting the descent at the incumbent's objective
  // (valued with the cost tables, non-strict so that the probe succeeds) skips the steps above it.
  const start = context.incumbent ?? null;
  const startAssessment = start !== null && start.cuts.every((c) => c !== null) ? assess(problem, tables, start) : null;
  const startBound = startAssessment?.feasible === true ? startAssessment.objective : Infinity;
  let best = probe(problem, tables, allowed, active, startBound, false);
  let probes = 1;
  if (best === null && startBound !== Infinity) {
    best = probe(problem, tables, allowed, active, Infinity, false);
    probes++;
  }
  if (best === null)
    return {
      termination: 'infeasible',
      decision: null,
      message: 'no assignment of cuts satisfies device memory, server memory and the SLOs',
      details: { probes },
    };
  let rounds = best.rounds;
  for (;;) {
    if (context.timeLimitSeconds !== undefined && (performance.now() - started) / 1000 > context.timeLimitSeconds) {
      return {
        termination: 'time_limit',
        decision: { cuts: best.cuts },
        message: 'time limit reached during the descent',
        details: { probes, rounds },
      };
    }
    context.progress?.(`descent probe ${probes + 1}`, { incumbent: best.maxLatencySeconds });
    const next = probe(problem, tables, allowed, active, best.maxLatencySeconds, true);
    probes++;
    if (next === null) break;
    rounds += next.rounds;
    best = next;
  }
  const decision: KvDecision = { cuts: best.cuts };
  const state = serverStateOf(problem, tables, best.cuts);
  const unserved = best.cuts.filter((c) => c === null).length;
  const objective = best.maxLatencySeconds + unserved * tables.unservedPenaltySeconds;
  return {
    termination: 'optimal',
    decision,
    bound: objective,
    details: {
      probes,
      fixedPointRounds: rounds,
      serverStepSeconds: state.stepSeconds,
      timeSeconds: (performance.now() - started) / 1000,
    },
  };
}

/**
 * The two-tier optimum (max objective) by the descent above, from scratch: the three-tier peer
 * "two tiers only" (called on the problem with its cloud removed). Null when no split is feasible.
 */
export function twoTierOptimumCuts(problem: KvProblem): (number | null)[] | null {
  const tables = kvTables(problem);
  const allowed = allowedDescending(tables);
  const active = problem.users.map(() => true);
  let best = probe(problem, tables, allowed, active, Infinity, false);
  while (best !== null) {
    const next = probe(problem, tables, allowed, active, best.maxLatencySeconds, true);
    if (next === null) break;
    best = next;
  }
  return best?.cuts ?? null;
}
